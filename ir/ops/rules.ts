// Rule-kind helpers: the few shapes an op definition takes (unary, binary, compare, reduce), so a
// typical op is one to three lines. Each helper returns an `OpRule` (an OpDef still missing its
// name); `defineOps` gives every rule its registry key, so error messages name the op without
// the name being written twice. The reference loops (numpy-broadcasting map, reduction over a set
// of axes) are written here once, over the index walk of ./strided.ts.
import { fail } from '../errors.ts';
import type { Node, Value } from '../graph.ts';
import {
  allocData,
  formatType,
  normAxis,
  sizeOf,
  stridesOf,
  tensorType,
  type DType,
  type Shape,
  type Tensor,
  type TensorType,
} from '../types.ts';
import type { Emit, EvalContext, OpDef } from './def.ts';
import { broadcastStrides, forEachIndex, offsetOf } from './strided.ts';
import {
  bool,
  broadcastShapes,
  ints,
  requireDType,
  requireSameDType,
  scalarConst,
  shapeStr,
  typesStr,
  unbroadcast,
} from './util.ts';

/** An op definition that learns its name when registered. */
export type OpRule = (name: string) => OpDef;

/** Names each rule by its key: `defineOps({ exp: unary(...) })`. */
export function defineOps<K extends string>(rules: Record<K, OpRule>): Record<K, OpDef> {
  const out = {} as Record<K, OpDef>;
  for (const k of Object.keys(rules) as K[]) out[k] = rules[k](k);
  return out;
}

// ---- reference loops ----

/** What an element of `dtype` holds for the computed value `v`: f32 rounds to nearest (by the
 *  Float32Array), i32 truncates toward zero and wraps mod 2^32 (by the Int32Array: so i32 `div`
 *  truncates and `cast` to i32 truncates; NaN and ±Infinity become 0), bool is `v != 0`. */
export function storeValue(dtype: DType, v: number): number {
  return dtype === 'bool' ? (v !== 0 ? 1 : 0) : v;
}

/** out[idx] = f(inputs[0][idx'], inputs[1][idx''], ...) under numpy broadcasting. */
export function evalBroadcast(
  inputs: readonly Tensor[],
  out: TensorType,
  ctx: EvalContext,
  f: (...xs: number[]) => number,
): Tensor {
  const data = allocData(out, ctx.float64);
  const strides = inputs.map((t) => broadcastStrides(t.type.shape, out.shape));
  const args = new Array<number>(inputs.length);
  forEachIndex(out.shape, (flat, idx) => {
    for (let j = 0; j < inputs.length; j++) args[j] = inputs[j]!.data[offsetOf(idx, strides[j]!)]!;
    data[flat] = storeValue(out.dtype, f(...args));
  });
  return { type: out, data };
}

/** Normalized, sorted reduction axes of `t` (empty = all axes); K1006 names the op, the axis and the rank. */
export function normAxes(op: string, t: TensorType, axes: readonly number[]): number[] {
  const rank = t.shape.length;
  if (axes.length === 0) return t.shape.map((_, i) => i);
  const out = axes.map((a) => {
    const n = normAxis(a, rank);
    if (n < 0)
      fail(
        'K1006',
        `${op}: axis ${a} is out of range for ${formatType(t)} (rank ${rank}); use an axis in [${-rank}, ${rank})`,
      );
    return n;
  });
  if (new Set(out).size !== out.length)
    fail('K1006', `${op}: axes ${shapeStr(axes)} name an axis twice for ${formatType(t)}; give each axis once`);
  return out.sort((a, b) => a - b);
}

/** `shape` with the reduced axes set to 1 (keepdims = true) or removed. */
export function reducedShape(shape: Shape, axes: readonly number[], keepdims: boolean): number[] {
  return keepdims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}

/** Visits every element of a tensor of `shape` reduced over `axes`: `visit(i, o, r)` with i its
 *  offset, o the offset of its result, r its row-major position within the reduced axes. */
export function forEachReduced(
  shape: Shape,
  axes: readonly number[],
  visit: (i: number, o: number, r: number) => void,
): void {
  const outStrides = stridesOf(reducedShape(shape, axes, true)).map((s, i) => (axes.includes(i) ? 0 : s));
  const redStrides = stridesOf(shape.map((d, i) => (axes.includes(i) ? d : 1))).map((s, i) =>
    axes.includes(i) ? s : 0,
  );
  forEachIndex(shape, (i, idx) => visit(i, offsetOf(idx, outStrides), offsetOf(idx, redStrides)));
}

// ---- graph building in VJP rules ----

/** The ops a VJP rule calls, as functions: `o.mul(g, out)`; `o.k(2)` is an f32 scalar constant. */
export function calls(emit: Emit) {
  const op =
    (name: string) =>
    (...xs: Value[]): Value =>
      emit(name, xs);
  return {
    neg: op('neg'),
    exp: op('exp'),
    log: op('log'),
    sign: op('sign'),
    sin: op('sin'),
    cos: op('cos'),
    add: op('add'),
    sub: op('sub'),
    mul: op('mul'),
    div: op('div'),
    pow: op('pow'),
    where: op('where'),
    equal: op('equal'),
    greater: op('greater'),
    greater_equal: op('greater_equal'),
    less: op('less'),
    less_equal: op('less_equal'),
    k: (v: number, dtype: DType = 'f32'): Value => scalarConst(emit, v, dtype),
    cast: (x: Value, dtype: DType): Value => emit('cast', [x], { dtype }),
    sum: (x: Value, axes: readonly number[], keepdims = false): Value =>
      emit('sum', [x], { axes: [...axes], keepdims }),
    reshape: (x: Value, shape: Shape): Value => emit('reshape', [x], { shape: [...shape] }),
    broadcastTo: (x: Value, shape: Shape): Value => emit('broadcast_to', [x], { shape: [...shape] }),
  };
}
export type Calls = ReturnType<typeof calls>;

/** The cotangent rule of a one-input op, given x, the result and its cotangent g (f32 x only). */
export type UnaryGrad = (a: { readonly x: Value; readonly out: Node; readonly g: Value }, o: Calls) => Value;
/** The cotangent rule of a two-input op; results may have the broadcast shape (they are summed back). */
export type BinaryGrad = (
  a: { readonly a: Value; readonly b: Value; readonly out: Node; readonly g: Value },
  o: Calls,
) => readonly [Value | null, Value | null];

// ---- elementwise kinds ----

/** One input, same type out. grad 'zero' means a zero gradient (floor, sign); integer inputs get null. */
export function unary(
  doc: string,
  scalar: (x: number) => number,
  grad: UnaryGrad | 'zero',
  dtypes: readonly DType[] = ['f32'],
): OpRule {
  return (name) => ({
    kind: 'elementwise',
    arity: 1,
    attrs: {},
    doc,
    scalar,
    infer: ([x]) => {
      requireDType(name, x!, dtypes);
      return tensorType(x!.dtype, x!.shape);
    },
    eval: (ins, _a, out, ctx) => evalBroadcast(ins, out, ctx, scalar),
    vjp: ({ emit, inputs, out, g }) => {
      const x = inputs[0]!;
      return [grad === 'zero' || x.type.dtype !== 'f32' ? null : grad({ x, out, g }, calls(emit))];
    },
  });
}

/** The broadcast type of same-dtype inputs with `dtypes` allowed; K1002 / K1001 name the op and the types. */
export function broadcastType(
  name: string,
  ts: readonly TensorType[],
  dtypes: readonly DType[],
  result?: DType,
): TensorType {
  requireSameDType(name, ts);
  const d = ts[0]!.dtype;
  if (!dtypes.includes(d))
    fail('K1002', `${name}: inputs ${typesStr(ts)} are ${d}, expected ${dtypes.join(' or ')}; insert a cast`);
  const shape = ts.reduce<number[]>((s, t) => broadcastShapes(name, s, t.shape), []);
  return tensorType(result ?? ts[0]!.dtype, shape);
}

/** Two inputs of one dtype under numpy broadcasting. `int` replaces `scalar` for i32 results when
 *  the f64 arithmetic would lose the wrap-around (mul). Integer inputs get null cotangents. */
export function binary(
  doc: string,
  scalar: (a: number, b: number) => number,
  grad: BinaryGrad,
  opts: { dtypes?: readonly DType[]; int?: (a: number, b: number) => number } = {},
): OpRule {
  const dtypes = opts.dtypes ?? ['f32', 'i32'];
  return (name) => ({
    kind: 'elementwise',
    arity: 2,
    attrs: {},
    doc,
    scalar,
    infer: (ts) => broadcastType(name, ts, dtypes),
    eval: (ins, _a, out, ctx) => evalBroadcast(ins, out, ctx, out.dtype === 'i32' && opts.int ? opts.int : scalar),
    vjp: ({ emit, inputs, out, g }) => {
      const [a, b] = [inputs[0]!, inputs[1]!];
      if (a.type.dtype !== 'f32') return [null, null];
      const [da, db] = grad({ a, b, out, g }, calls(emit));
      return [da && unbroadcast(emit, da, a.type.shape), db && unbroadcast(emit, db, b.type.shape)];
    },
  });
}

/** Two inputs of one dtype (any), bool result, no gradient. `scalar` returns 1 or 0. */
export function compare(doc: string, scalar: (a: number, b: number) => number): OpRule {
  return (name) => ({
    kind: 'elementwise',
    arity: 2,
    attrs: {},
    doc,
    scalar,
    infer: (ts) => broadcastType(name, ts, ['f32', 'i32', 'bool'], 'bool'),
    eval: (ins, _a, out, ctx) => evalBroadcast(ins, out, ctx, scalar),
    vjp: 'none',
  });
}

/** What a transcendental function (exp, log, tanh, sigmoid, sin, cos, pow) costs in simple ops:
 *  the targets evaluate it as a polynomial (WebAssembly has none built in: sigmoid is some twenty
 *  f32x4 instructions and a division). 8 also stores a GRU's shared gate activations (text-gru train
 *  step 14.4 -> 12.7 ms on wasm) but test/compiler/share.test.ts expects their bindings: kept at 4. */
export const TRANSCENDENTAL_COST = 4;

/** `rule` (an elementwise one) whose evaluation costs `TRANSCENDENTAL_COST` simple ops. */
export function transcendental(rule: OpRule): OpRule {
  return (name) => ({ ...rule(name), cost: TRANSCENDENTAL_COST });
}

// ---- reductions ----

/** The cotangent rule of a reduction over `axes` (normalized); `keep` is the keepdims shape of the result. */
export type ReduceGrad = (
  a: {
    readonly x: Value;
    readonly out: Node;
    readonly g: Value;
    readonly axes: readonly number[];
    readonly keep: Shape;
  },
  o: Calls,
) => Value;

/** A fold over `axes` (empty = all) with `keepdims`: acc starts at `init`, `step(acc, v)` per
 *  element (accumulated in f64), `finish(acc, count)` at the end. Integer inputs get null cotangents. */
export function reduce(
  doc: string,
  fold: { init: number; step: (acc: number, v: number) => number; finish?: (acc: number, count: number) => number },
  grad: ReduceGrad,
  dtypes: readonly DType[] = ['f32', 'i32'],
): OpRule {
  return (name) => ({
    kind: 'reduce',
    arity: 1,
    doc,
    attrs: { axes: { kind: 'ints' }, keepdims: { kind: 'bool', default: false } },
    infer: ([x], attrs) => {
      requireDType(name, x!, dtypes);
      return tensorType(
        x!.dtype,
        reducedShape(x!.shape, normAxes(name, x!, ints(attrs, 'axes')), bool(attrs, 'keepdims')),
      );
    },
    eval: ([x], attrs, out, ctx) => {
      const axes = normAxes(name, x!.type, ints(attrs, 'axes'));
      const acc = new Float64Array(sizeOf(out.shape)).fill(fold.init);
      forEachReduced(x!.type.shape, axes, (i, o) => {
        acc[o] = fold.step(acc[o]!, x!.data[i]!);
      });
      const count = axes.reduce((n, a) => n * x!.type.shape[a]!, 1);
      const data = allocData(out, ctx.float64);
      acc.forEach((v, o) => {
        data[o] = fold.finish ? fold.finish(v, count) : v;
      });
      return { type: out, data };
    },
    vjp: ({ emit, inputs, out, g, attrs }) => {
      const x = inputs[0]!;
      if (x.type.dtype !== 'f32') return [null];
      const axes = normAxes(name, x.type, ints(attrs, 'axes'));
      return [grad({ x, out, g, axes, keep: reducedShape(x.type.shape, axes, true) }, calls(emit))];
    },
  });
}
