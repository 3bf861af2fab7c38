// Scalar-style arithmetic on graph values for optimizers, schedules, regularizers and clipping:
// numbers become f32 scalar constants and broadcast, so an update formula reads as the maths does.
import type { Value } from '../../ir/graph.ts';
import type { Emit } from '../../ir/ops/def.ts';
import { scalarConst } from '../../ir/ops/util.ts';

export type Operand = Value | number;

export interface Arith {
  readonly emit: Emit;
  readonly c: (x: number) => Value;
  readonly add: (a: Operand, b: Operand) => Value;
  readonly sub: (a: Operand, b: Operand) => Value;
  readonly mul: (a: Operand, b: Operand) => Value;
  readonly div: (a: Operand, b: Operand) => Value;
  readonly pow: (a: Operand, b: Operand) => Value;
  readonly max: (a: Operand, b: Operand) => Value;
  readonly min: (a: Operand, b: Operand) => Value;
  readonly sqrt: (a: Value) => Value;
  readonly abs: (a: Value) => Value;
  readonly square: (a: Value) => Value;
  /** Sum of all elements, as a scalar. */
  readonly total: (a: Value) => Value;
  readonly f32: (a: Value) => Value;
}

export function arith(emit: Emit): Arith {
  const c = (x: number): Value => scalarConst(emit, x);
  const v = (a: Operand): Value => (typeof a === 'number' ? c(a) : a);
  const bin =
    (op: string) =>
    (a: Operand, b: Operand): Value =>
      emit(op, [v(a), v(b)]);
  return {
    emit,
    c,
    add: bin('add'),
    sub: bin('sub'),
    mul: bin('mul'),
    div: bin('div'),
    pow: bin('pow'),
    max: bin('maximum'),
    min: bin('minimum'),
    sqrt: (a) => emit('sqrt', [a]),
    abs: (a) => emit('abs', [a]),
    square: (a) => emit('mul', [a, a]),
    total: (a) => emit('sum', [a], { axes: [], keepdims: false }),
    f32: (a) => (a.type.dtype === 'f32' ? a : emit('cast', [a], { dtype: 'f32' })),
  };
}
