// `k`: the tensor functions. Every method of Tensor is here as a function too (`k.sum(x, [1])`),
// plus the ops that are not methods (where, concat, gather, convolution, pooling, sources) and the
// compositions every model needs (softmax, log-sum-exp), written in their numerically stable form.
import { resolvePadding } from '../../ir/ops/conv.ts';
import { formatType, normAxis, type DType, type Shape } from '../../ir/types.ts';
import { fail } from '../../ir/errors.ts';
import { opLoc } from './context.ts';
import { axesOf, constant, emit, lift, scalar, Tensor, type TensorLike } from './tensor.ts';

export type Padding = 'same' | 'valid' | readonly [number, number, number, number];

export interface ConvOptions {
  readonly strides?: number | readonly [number, number];
  readonly dilations?: number | readonly [number, number];
  /** 'same' (TensorFlow's), 'valid', or explicit [top, bottom, left, right]. */
  readonly padding?: Padding;
}

export const pair = (v: number | readonly number[] | undefined, d: number): [number, number] =>
  v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : [v[0]!, v[1] ?? v[0]!];

function requireImage(op: string, x: Tensor): void {
  if (x.rank !== 4)
    fail(
      'K1001',
      `${op}: input ${formatType(x.value.type)} has rank ${x.rank}, expected rank 4 [batch, height, width, channels] (NHWC)`,
      opLoc(),
    );
}

/** Explicit pads for an input of spatial size `hw`. */
function padsFor(
  padding: Padding,
  hw: readonly number[],
  kernel: readonly number[],
  strides: [number, number],
  dilations: [number, number],
): number[] {
  return typeof padding === 'string'
    ? resolvePadding(padding, pair(hw, 1), pair(kernel, 1), strides, dilations)
    : [...padding];
}

/** conv2d: x [N,H,W,C], w [KH,KW,C,F] -> [N,OH,OW,F]. */
function conv2d(x: Tensor, w: Tensor, opts: ConvOptions = {}): Tensor {
  requireImage('conv2d', x);
  const strides = pair(opts.strides, 1),
    dilations = pair(opts.dilations, 1);
  const pads = padsFor(opts.padding ?? 'valid', x.shape.slice(1, 3), w.shape.slice(0, 2), strides, dilations);
  return emit('conv2d', [x, w], { strides, dilations, pads });
}

/** The transpose of conv2d (Conv2DTranspose): dy [N,OH,OW,F], w [KH,KW,C,F] -> [N,...outHW,C];
 *  `padding` is resolved against the output size, as for the conv2d it is the gradient of. */
function conv2dTranspose(dy: Tensor, w: Tensor, outHW: readonly [number, number], opts: ConvOptions = {}): Tensor {
  requireImage('conv2d_transpose', dy);
  const strides = pair(opts.strides, 1),
    dilations = pair(opts.dilations, 1);
  const pads = padsFor(opts.padding ?? 'valid', outHW, w.shape.slice(0, 2), strides, dilations);
  const inputShape = [dy.shape[0]!, outHW[0], outHW[1], w.shape[2]!];
  return emit('conv2d_input_grad', [dy, w], { input_shape: inputShape, strides, dilations, pads });
}

export interface PoolOptions {
  readonly strides?: number | readonly [number, number];
  readonly padding?: 'same' | 'valid';
}

function pool(
  op: 'max_pool2d' | 'avg_pool2d',
  x: Tensor,
  window: number | readonly [number, number],
  opts: PoolOptions,
): Tensor {
  requireImage(op, x);
  const win = pair(window, 1);
  const strides = pair(opts.strides ?? win, 1);
  const pads = padsFor(opts.padding ?? 'valid', x.shape.slice(1, 3), win, strides, [1, 1]);
  return emit(op, [x], { window: win, strides, pads });
}

function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb] = lift('where', [a, b]);
  return emit('where', [cond, ta!, tb!]);
}

function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) fail('K1004', 'concat: needs at least one tensor', opLoc());
  if (xs.length === 1) return xs[0]!;
  return emit('concat', xs, { axis: axesOf('concat', xs[0]!, axis)[0]! });
}

/** log(sum(exp(x))) over `axes`, shifted by the (gradient-stopped) max so large values cannot overflow. */
function logSumExp(x: Tensor, axes: number | readonly number[] = -1, keepdims = false): Tensor {
  const m = x.max(axes, true).stopGradient();
  const r = x.sub(m).exp().sum(axes, true).log().add(m);
  return keepdims ? r : r.reshape(reduceShape(x, axes));
}

function reduceShape(x: Tensor, axes: number | readonly number[]): number[] {
  const list = axesOf('reduce', x, axes);
  return x.shape.filter((_, i) => !list.includes(i));
}

function softmax(x: Tensor, axis = -1): Tensor {
  const e = x.sub(x.max(axis, true).stopGradient()).exp();
  return e.div(e.sum(axis, true));
}

function logSoftmax(x: Tensor, axis = -1): Tensor {
  return x.sub(logSumExp(x, axis, true));
}

function leakyRelu(x: Tensor, alpha = 0.3): Tensor {
  return where(x.greater(0), x, x.mul(alpha));
}

function iota(shape: Shape, axis: number, dtype: DType = 'i32'): Tensor {
  return emit('iota', [], { shape: [...shape], axis: normAxis(axis, shape.length), dtype });
}

/** Uniform [0,1) draws of the counter-based RNG: `counter` is an i32 scalar tensor. */
function randomUniform(counter: Tensor, shape: Shape, seed: number): Tensor {
  return emit('random_uniform', [counter], { seed, shape: [...shape] });
}

function randomNormal(counter: Tensor, shape: Shape, seed: number): Tensor {
  return emit('random_normal', [counter], { seed, shape: [...shape] });
}

const call =
  <K extends keyof Tensor>(m: K) =>
  (x: Tensor, ...args: Tensor[K] extends (...a: infer A) => Tensor ? A : never): Tensor =>
    (x[m] as (...a: unknown[]) => Tensor)(...args);

export const k = {
  scalar,
  constant,
  iota,
  zeros: (shape: Shape, dtype: DType = 'f32') => constant(0, shape, dtype),
  ones: (shape: Shape, dtype: DType = 'f32') => constant(1, shape, dtype),
  add: (a: TensorLike, b: TensorLike) => binaryFn('add', a, b),
  sub: (a: TensorLike, b: TensorLike) => binaryFn('sub', a, b),
  mul: (a: TensorLike, b: TensorLike) => binaryFn('mul', a, b),
  div: (a: TensorLike, b: TensorLike) => binaryFn('div', a, b),
  pow: (a: TensorLike, b: TensorLike) => binaryFn('pow', a, b),
  maximum: (a: TensorLike, b: TensorLike) => binaryFn('maximum', a, b),
  minimum: (a: TensorLike, b: TensorLike) => binaryFn('minimum', a, b),
  less: (a: TensorLike, b: TensorLike) => binaryFn('less', a, b),
  greater: (a: TensorLike, b: TensorLike) => binaryFn('greater', a, b),
  equal: (a: TensorLike, b: TensorLike) => binaryFn('equal', a, b),
  notEqual: (a: TensorLike, b: TensorLike) => binaryFn('not_equal', a, b),
  lessEqual: (a: TensorLike, b: TensorLike) => binaryFn('less_equal', a, b),
  greaterEqual: (a: TensorLike, b: TensorLike) => binaryFn('greater_equal', a, b),
  matmul: (a: Tensor, b: Tensor, opts?: { transposeA?: boolean; transposeB?: boolean }) => a.matmul(b, opts),
  neg: call('neg'),
  exp: call('exp'),
  log: call('log'),
  sqrt: call('sqrt'),
  rsqrt: call('rsqrt'),
  reciprocal: call('reciprocal'),
  sign: call('sign'),
  sin: call('sin'),
  cos: call('cos'),
  floor: call('floor'),
  ceil: call('ceil'),
  abs: call('abs'),
  tanh: call('tanh'),
  sigmoid: call('sigmoid'),
  relu: call('relu'),
  square: call('square'),
  stopGradient: call('stopGradient'),
  cast: call('cast'),
  sum: call('sum'),
  mean: call('mean'),
  max: call('max'),
  min: call('min'),
  argmax: call('argmax'),
  reshape: call('reshape'),
  transpose: call('transpose'),
  broadcastTo: call('broadcastTo'),
  slice: call('slice'),
  pad: call('pad'),
  where,
  concat,
  gather: (table: Tensor, indices: Tensor, axis = 0) => emit('gather', [table, indices], { axis }),
  oneHot: (indices: Tensor, depth: number, dtype: DType = 'f32') => emit('one_hot', [indices], { depth, dtype }),
  conv2d,
  conv2dTranspose,
  maxPool2d: (x: Tensor, window: number | readonly [number, number], opts: PoolOptions = {}) =>
    pool('max_pool2d', x, window, opts),
  avgPool2d: (x: Tensor, window: number | readonly [number, number], opts: PoolOptions = {}) =>
    pool('avg_pool2d', x, window, opts),
  randomUniform,
  randomNormal,
  softmax,
  logSoftmax,
  logSumExp,
  leakyRelu,
};

type BinaryOp =
  | 'add'
  | 'sub'
  | 'mul'
  | 'div'
  | 'pow'
  | 'maximum'
  | 'minimum'
  | 'less'
  | 'less_equal'
  | 'greater'
  | 'greater_equal'
  | 'equal'
  | 'not_equal';

function binaryFn(op: BinaryOp, a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb] = lift(op, [a, b]);
  return emit(op, [ta!, tb!]);
}
