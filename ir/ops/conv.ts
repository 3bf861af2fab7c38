import type { OpDef } from './def.ts';

export const CONV = {} satisfies Record<string, OpDef>;
