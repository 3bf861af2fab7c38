import type { OpDef } from './def.ts';

export const INDEX = {} satisfies Record<string, OpDef>;
