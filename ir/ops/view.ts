import type { OpDef } from './def.ts';

export const VIEW = {} satisfies Record<string, OpDef>;
