import type { OpDef } from './def.ts';

export const POOL = {} satisfies Record<string, OpDef>;
