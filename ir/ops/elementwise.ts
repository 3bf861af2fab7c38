// Elementwise ops: a scalar function applied under numpy broadcasting, with its VJP written with
// other elementwise ops (broadcasting is undone by `unbroadcast` inside `binary`).
import type { DType } from '../types.ts';
import { tensorType } from '../types.ts';
import type { OpDef } from './def.ts';
import {
  binary,
  broadcastType,
  calls,
  compare,
  defineOps,
  evalBroadcast,
  transcendental,
  unary,
  type OpRule,
} from './rules.ts';
import { broadcastShapes, requireDType, str, unbroadcast } from './util.ts';

const ANY: readonly DType[] = ['f32', 'i32', 'bool'];
const SIGNED: readonly DType[] = ['f32', 'i32'];
const identity = (x: number): number => x;

/** x converted to `dtype` (the conversion is the store, see storeValue); only f32 -> f32 has a gradient. */
const cast: OpRule = () => ({
  kind: 'elementwise',
  arity: 1,
  attrs: { dtype: { kind: 'dtype' } },
  scalar: identity,
  doc: 'x converted to dtype: f32 -> i32 truncates toward zero, bool is x != 0 (to) and 0/1 (from)',
  infer: ([x], a) => tensorType(str(a, 'dtype') as DType, x!.shape),
  eval: (ins, _a, out, ctx) => evalBroadcast(ins, out, ctx, identity),
  vjp: ({ inputs, g }) => [inputs[0]!.type.dtype === 'f32' && g.type.dtype === 'f32' ? g : null],
});

/** Forward identity, zero gradient. */
const stopGradient: OpRule = (name) => ({
  kind: 'elementwise',
  arity: 1,
  attrs: {},
  scalar: identity,
  doc: 'x, with a zero gradient',
  infer: ([x]) => {
    requireDType(name, x!, ANY);
    return tensorType(x!.dtype, x!.shape);
  },
  eval: (ins, _a, out, ctx) => evalBroadcast(ins, out, ctx, identity),
  vjp: () => [null],
});

const select = (c: number, a: number, b: number): number => (c ? a : b);

/** cond ? a : b under broadcasting of all three; g is routed by cond. */
const where: OpRule = (name) => ({
  kind: 'elementwise',
  arity: 3,
  attrs: {},
  scalar: select,
  doc: 'cond ? a : b (cond bool; a, b one dtype), broadcast',
  infer: ([c, a, b]) => {
    requireDType(name, c!, ['bool'], 'cond');
    const t = broadcastType(name, [a!, b!], ANY);
    return tensorType(t.dtype, broadcastShapes(name, c!.shape, t.shape));
  },
  eval: (ins, _a, out, ctx) => evalBroadcast(ins, out, ctx, select),
  vjp: ({ emit, inputs, g }) => {
    const [c, a, b] = [inputs[0]!, inputs[1]!, inputs[2]!];
    if (a.type.dtype !== 'f32') return [null, null, null];
    const o = calls(emit);
    const zero = o.k(0);
    return [
      null,
      unbroadcast(emit, o.where(c, g, zero), a.type.shape),
      unbroadcast(emit, o.where(c, zero, g), b.type.shape),
    ];
  },
});

export const ELEMENTWISE = defineOps({
  neg: unary(
    '-x',
    (x) => -x,
    ({ g }, o) => o.neg(g),
    SIGNED,
  ),
  exp: transcendental(unary('e^x', Math.exp, ({ g, out }, o) => o.mul(g, out))),
  log: transcendental(unary('natural logarithm', Math.log, ({ x, g }, o) => o.div(g, x))),
  sqrt: unary('square root', Math.sqrt, ({ g, out }, o) => o.div(o.mul(g, o.k(0.5)), out)), // d sqrt x = 1 / (2 sqrt x)
  rsqrt: unary(
    '1 / sqrt(x)',
    (x) => 1 / Math.sqrt(x),
    ({ x, g, out }, o) => o.mul(g, o.mul(o.k(-0.5), o.div(out, x))),
  ), // d x^-1/2 = -x^-1/2 / 2x
  reciprocal: unary(
    '1 / x',
    (x) => 1 / x,
    ({ g, out }, o) => o.neg(o.mul(g, o.mul(out, out))),
  ), // d 1/x = -1/x^2
  abs: unary('|x|', Math.abs, ({ x, g }, o) => o.mul(g, o.sign(x)), SIGNED),
  sign: unary('-1, 0 or 1 (NaN stays NaN)', Math.sign, 'zero', SIGNED),
  tanh: transcendental(
    unary('hyperbolic tangent', Math.tanh, ({ g, out }, o) => o.mul(g, o.sub(o.k(1), o.mul(out, out)))),
  ), // 1 - tanh^2
  sigmoid: transcendental(
    unary(
      '1 / (1 + e^-x)',
      (x) => 1 / (1 + Math.exp(-x)),
      ({ g, out }, o) => o.mul(g, o.mul(out, o.sub(o.k(1), out))),
    ),
  ), // s (1 - s)
  relu: unary(
    'max(x, 0)',
    (x) => (x > 0 ? x : 0),
    ({ x, g }, o) => o.where(o.greater(x, o.k(0)), g, o.k(0)),
    SIGNED,
  ), // gradient 0 at x = 0
  sin: transcendental(unary('sine', Math.sin, ({ x, g }, o) => o.mul(g, o.cos(x)))),
  cos: transcendental(unary('cosine', Math.cos, ({ x, g }, o) => o.neg(o.mul(g, o.sin(x))))),
  floor: unary('largest integer <= x', Math.floor, 'zero'),
  ceil: unary('smallest integer >= x', Math.ceil, 'zero'),
  stop_gradient: stopGradient,
  cast,
  add: binary(
    'a + b',
    (a, b) => a + b,
    ({ g }) => [g, g],
  ),
  sub: binary(
    'a - b',
    (a, b) => a - b,
    ({ g }, o) => [g, o.neg(g)],
  ),
  mul: binary(
    'a * b',
    (a, b) => a * b,
    ({ a, b, g }, o) => [o.mul(g, b), o.mul(g, a)],
    { int: Math.imul },
  ),
  div: binary(
    'a / b (i32: truncated toward zero; by zero gives 0)',
    (a, b) => a / b,
    ({ b, g, out }, o) => [o.div(g, b), o.neg(o.div(o.mul(g, out), b))],
  ), // d/db a/b = -(a/b)/b
  // d/da = b a^(b-1); d/db = log(a) a^b where a > 0, else 0 (log of 1 there).
  pow: transcendental(
    binary('a^b', Math.pow, ({ a, b, g, out }, o) => [
      o.mul(g, o.mul(b, o.pow(a, o.sub(b, o.k(1))))),
      o.mul(g, o.mul(out, o.log(o.where(o.greater(a, o.k(0)), a, o.k(1))))),
    ]),
  ),
  // The gradient goes to the larger (smaller) input; on ties, to the first.
  maximum: binary('larger of a and b', Math.max, ({ a, b, g }, o) => [
    o.where(o.greater_equal(a, b), g, o.k(0)),
    o.where(o.less(a, b), g, o.k(0)),
  ]),
  minimum: binary('smaller of a and b', Math.min, ({ a, b, g }, o) => [
    o.where(o.less_equal(a, b), g, o.k(0)),
    o.where(o.greater(a, b), g, o.k(0)),
  ]),
  less: compare('a < b', (a, b) => +(a < b)),
  less_equal: compare('a <= b', (a, b) => +(a <= b)),
  equal: compare('a == b', (a, b) => +(a === b)),
  not_equal: compare('a != b', (a, b) => +(a !== b)),
  greater: compare('a > b', (a, b) => +(a > b)),
  greater_equal: compare('a >= b', (a, b) => +(a >= b)),
  where,
}) satisfies Record<string, OpDef>;
