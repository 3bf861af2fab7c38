import type { OpDef } from './def.ts';

export const SOURCE = {} satisfies Record<string, OpDef>;
