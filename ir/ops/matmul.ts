import type { OpDef } from './def.ts';

export const MATMUL = {} satisfies Record<string, OpDef>;
