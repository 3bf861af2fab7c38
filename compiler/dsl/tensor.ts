// The tensor handle users write models with: every method adds one IR node through makeNode, with
// the user's source location, so a shape mistake throws at the user's line.
import { makeNode } from '../../ir/builder.ts';
import { fail } from '../../ir/errors.ts';
import type { Attrs, Value } from '../../ir/graph.ts';
import { formatType, normAxis, type DType, type Shape } from '../../ir/types.ts';
import { opLoc } from './context.ts';

/** A tensor, or a plain number that becomes a scalar constant of the other operand's dtype. */
export type TensorLike = Tensor | number;

/** Adds one node at the current DSL location. */
export function emit(op: string, inputs: readonly (Tensor | Value)[], attrs: Attrs = {}): Tensor {
  const vs = inputs.map((t) => (t instanceof Tensor ? t.value : t));
  return new Tensor(makeNode(op, vs, attrs, opLoc()));
}

export function scalar(value: number, dtype: DType = 'f32'): Tensor {
  return emit('constant', [], { value: [value], shape: [], dtype });
}

/** A constant tensor: one value (splat) or one per element, row-major. */
export function constant(values: number | readonly number[], shape: Shape = [], dtype: DType = 'f32'): Tensor {
  return emit('constant', [], { value: typeof values === 'number' ? [values] : [...values], shape: [...shape], dtype });
}

/** Turns numbers into scalar constants with the dtype of the first tensor among `xs`. */
export function lift(op: string, xs: readonly TensorLike[]): Tensor[] {
  const t = xs.find((x): x is Tensor => x instanceof Tensor);
  if (!t)
    fail(
      'K1003',
      `${op}: needs at least one tensor operand, got only numbers (${xs.join(', ')}); use k.scalar(...) for a constant`,
      opLoc(),
    );
  return xs.map((x) => (x instanceof Tensor ? x : scalar(x, t.dtype)));
}

function binary(op: string, a: TensorLike, b: TensorLike): Tensor {
  return emit(op, lift(op, [a, b]));
}

/** Axes of `x` (negative allowed) normalized; a bad axis throws naming the op and the shape. */
export function axesOf(op: string, x: Tensor, axes: number | readonly number[] | undefined): number[] {
  if (axes === undefined) return [];
  const list = typeof axes === 'number' ? [axes] : axes;
  return list.map((a) => {
    const n = normAxis(a, x.rank);
    if (n < 0)
      fail('K1006', `${op}: axis ${a} is out of range for ${formatType(x.value.type)} (rank ${x.rank})`, opLoc());
    return n;
  });
}

export class Tensor {
  readonly value: Value;
  constructor(value: Value) {
    this.value = value;
  }

  get shape(): Shape {
    return this.value.type.shape;
  }
  get dtype(): DType {
    return this.value.type.dtype;
  }
  get rank(): number {
    return this.value.type.shape.length;
  }
  toString(): string {
    return `Tensor(${formatType(this.value.type)})`;
  }

  // ---- elementwise, numpy broadcasting ----
  add(b: TensorLike): Tensor {
    return binary('add', this, b);
  }
  sub(b: TensorLike): Tensor {
    return binary('sub', this, b);
  }
  mul(b: TensorLike): Tensor {
    return binary('mul', this, b);
  }
  div(b: TensorLike): Tensor {
    return binary('div', this, b);
  }
  pow(b: TensorLike): Tensor {
    return binary('pow', this, b);
  }
  maximum(b: TensorLike): Tensor {
    return binary('maximum', this, b);
  }
  minimum(b: TensorLike): Tensor {
    return binary('minimum', this, b);
  }
  less(b: TensorLike): Tensor {
    return binary('less', this, b);
  }
  lessEqual(b: TensorLike): Tensor {
    return binary('less_equal', this, b);
  }
  greater(b: TensorLike): Tensor {
    return binary('greater', this, b);
  }
  greaterEqual(b: TensorLike): Tensor {
    return binary('greater_equal', this, b);
  }
  equal(b: TensorLike): Tensor {
    return binary('equal', this, b);
  }
  notEqual(b: TensorLike): Tensor {
    return binary('not_equal', this, b);
  }

  neg(): Tensor {
    return emit('neg', [this]);
  }
  exp(): Tensor {
    return emit('exp', [this]);
  }
  log(): Tensor {
    return emit('log', [this]);
  }
  sqrt(): Tensor {
    return emit('sqrt', [this]);
  }
  rsqrt(): Tensor {
    return emit('rsqrt', [this]);
  }
  reciprocal(): Tensor {
    return emit('reciprocal', [this]);
  }
  abs(): Tensor {
    return emit('abs', [this]);
  }
  sign(): Tensor {
    return emit('sign', [this]);
  }
  tanh(): Tensor {
    return emit('tanh', [this]);
  }
  sigmoid(): Tensor {
    return emit('sigmoid', [this]);
  }
  relu(): Tensor {
    return emit('relu', [this]);
  }
  sin(): Tensor {
    return emit('sin', [this]);
  }
  cos(): Tensor {
    return emit('cos', [this]);
  }
  floor(): Tensor {
    return emit('floor', [this]);
  }
  ceil(): Tensor {
    return emit('ceil', [this]);
  }
  square(): Tensor {
    return this.mul(this);
  }
  stopGradient(): Tensor {
    return emit('stop_gradient', [this]);
  }
  cast(dtype: DType): Tensor {
    return dtype === this.dtype ? this : emit('cast', [this], { dtype });
  }

  // ---- reductions (no axes: all of them) ----
  sum(axes?: number | readonly number[], keepdims = false): Tensor {
    return this.reduce('sum', axes, keepdims);
  }
  mean(axes?: number | readonly number[], keepdims = false): Tensor {
    return this.reduce('mean', axes, keepdims);
  }
  max(axes?: number | readonly number[], keepdims = false): Tensor {
    return this.reduce('max', axes, keepdims);
  }
  min(axes?: number | readonly number[], keepdims = false): Tensor {
    return this.reduce('min', axes, keepdims);
  }
  argmax(axis = -1, keepdims = false): Tensor {
    return emit('argmax', [this], { axis: axesOf('argmax', this, axis)[0]!, keepdims });
  }
  private reduce(op: string, axes: number | readonly number[] | undefined, keepdims: boolean): Tensor {
    return emit(op, [this], { axes: axesOf(op, this, axes), keepdims });
  }

  // ---- views ----
  reshape(shape: readonly number[]): Tensor {
    return emit('reshape', [this], { shape: [...shape] });
  }
  transpose(perm?: readonly number[]): Tensor {
    return emit('transpose', [this], { perm: perm ? [...perm] : this.shape.map((_, i) => this.rank - 1 - i) });
  }
  broadcastTo(shape: readonly number[]): Tensor {
    return emit('broadcast_to', [this], { shape: [...shape] });
  }
  /** x[start:end:step] per axis; missing trailing axes are taken whole, negative indices count from the end. */
  slice(start: readonly number[], end?: readonly number[], step?: readonly number[]): Tensor {
    const at = (v: number | undefined, d: number, dflt: number): number =>
      v === undefined ? dflt : v < 0 ? v + d : Math.min(v, d);
    return emit('slice', [this], {
      start: this.shape.map((d, i) => at(start[i], d, 0)),
      end: this.shape.map((d, i) => at(end?.[i], d, d)),
      step: this.shape.map((_, i) => step?.[i] ?? 1),
    });
  }
  pad(lo: readonly number[], hi: readonly number[], value = 0): Tensor {
    return emit('pad', [this], { lo: [...lo], hi: [...hi], value });
  }
  matmul(b: Tensor, opts: { transposeA?: boolean; transposeB?: boolean } = {}): Tensor {
    return emit('matmul', [this, b], { transpose_a: opts.transposeA ?? false, transpose_b: opts.transposeB ?? false });
  }
}
