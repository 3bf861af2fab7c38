import type { OpDef } from './def.ts';

export const REDUCE = {} satisfies Record<string, OpDef>;
