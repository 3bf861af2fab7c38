import type { OpDef } from './def.ts';

export const ELEMENTWISE = {} satisfies Record<string, OpDef>;
