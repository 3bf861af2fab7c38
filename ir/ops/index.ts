// The op registry: every op, each defined once.
import type { OpDef } from './def.ts';
import { ELEMENTWISE } from './elementwise.ts';
import { REDUCE } from './reduce.ts';
import { VIEW } from './view.ts';
import { INDEX } from './gather.ts';
import { SOURCE } from './source.ts';
import { MATMUL } from './matmul.ts';
import { CONV } from './conv.ts';
import { POOL } from './pool.ts';

export const OPS = {
  ...ELEMENTWISE,
  ...REDUCE,
  ...VIEW,
  ...INDEX,
  ...SOURCE,
  ...MATMUL,
  ...CONV,
  ...POOL,
} satisfies Record<string, OpDef>;

export type OpName = keyof typeof OPS;
export type ElementwiseOpName = keyof typeof ELEMENTWISE;
export const OP_NAMES = Object.keys(OPS) as OpName[];
export type { OpDef, OpKind, AttrSpec, VjpRule, VjpArgs, Emit, EvalContext } from './def.ts';
