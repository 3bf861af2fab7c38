// Source ops: values made from attributes alone (constant, iota) or from the counter-based RNG.
import { fail } from '../errors.ts';
import {
  allocData,
  formatType,
  normAxis,
  sizeOf,
  tensorType,
  type DType,
  type Shape,
  type TensorType,
} from '../types.ts';
import type { OpDef } from './def.ts';
import { randomNormal, randomUniform } from '../random.ts';
import { defineOps, storeValue, type OpRule } from './rules.ts';
import { int, ints, requireDType, requireRank, shapeStr, str } from './util.ts';
import { forEachIndex } from './strided.ts';

/** `shape` checked to be sizes >= 0 (K1003 naming the op). */
function checkShape(op: string, shape: Shape): Shape {
  if (shape.some((d) => d < 0))
    fail('K1003', `${op}: shape ${shapeStr(shape)} has a negative size; sizes must be >= 0`);
  return shape;
}

/** One value (a splat) or one per element, integral for i32 and bool. */
const constant: OpRule = (name) => ({
  kind: 'source',
  arity: 0,
  doc: 'a constant: one value (splat) or one per element',
  attrs: { value: { kind: 'floats' }, shape: { kind: 'ints' }, dtype: { kind: 'dtype' } },
  infer: (_, a) => {
    const t = tensorType(str(a, 'dtype') as DType, checkShape(name, ints(a, 'shape')));
    const value = a.value as readonly number[];
    if (value.length !== 1 && value.length !== sizeOf(t.shape)) {
      fail(
        'K1003',
        `${name}: ${value.length} values given for ${formatType(t)}; give 1 (a splat) or ${sizeOf(t.shape)}`,
      );
    }
    const bad = value.find((v) => !Number.isInteger(v));
    if (t.dtype !== 'f32' && bad !== undefined)
      fail('K1003', `${name}: value ${bad} is not an integer, as ${formatType(t)} needs`);
    return t;
  },
  eval: (_, a, out, ctx) => {
    const value = a.value as readonly number[];
    const data = allocData(out, ctx.float64);
    for (let i = 0; i < data.length; i++) data[i] = storeValue(out.dtype, value[value.length === 1 ? 0 : i]!);
    return { type: out, data };
  },
  vjp: 'none',
});

/** The index along `axis` at every position of `shape`. */
const iota: OpRule = (name) => ({
  kind: 'source',
  arity: 0,
  doc: 'the index along axis',
  attrs: { shape: { kind: 'ints' }, axis: { kind: 'int' }, dtype: { kind: 'dtype', default: 'i32' } },
  infer: (_, a) => {
    const t = tensorType(str(a, 'dtype') as DType, checkShape(name, ints(a, 'shape')));
    const rank = t.shape.length;
    if (normAxis(int(a, 'axis'), rank) < 0) {
      fail(
        'K1006',
        `${name}: axis ${int(a, 'axis')} is out of range for shape ${shapeStr(t.shape)} (rank ${rank}); use an axis in [${-rank}, ${rank})`,
      );
    }
    return t;
  },
  eval: (_, a, out, ctx) => {
    const axis = normAxis(int(a, 'axis'), out.shape.length);
    const data = allocData(out, ctx.float64);
    forEachIndex(out.shape, (flat, idx) => {
      data[flat] = storeValue(out.dtype, idx[axis]!);
    });
    return { type: out, data };
  },
  vjp: 'none',
});

/** f32 draws of `shape`: element i is `draw(seed, counter, i)` (ir/random.ts), the counter an i32 scalar input. */
function random(doc: string, draw: (seed: number, counter: number, index: number) => number): OpRule {
  return (name) => ({
    kind: 'random',
    arity: 1,
    doc,
    attrs: { seed: { kind: 'int' }, shape: { kind: 'ints' } },
    infer: ([counter], a): TensorType => {
      requireDType(name, counter!, ['i32'], 'counter');
      requireRank(name, counter!, 0, 'counter');
      return tensorType('f32', checkShape(name, ints(a, 'shape')));
    },
    eval: ([counter], a, out, ctx) => {
      const seed = int(a, 'seed');
      const c = counter!.data[0]!;
      const data = allocData(out, ctx.float64);
      for (let i = 0; i < data.length; i++) data[i] = draw(seed, c, i);
      return { type: out, data };
    },
    vjp: 'none',
  });
}

export const SOURCE = defineOps({
  constant,
  iota,
  random_uniform: random('uniform draws in [0, 1) from (seed, counter, index)', randomUniform),
  random_normal: random('standard normal draws from (seed, counter, index)', randomNormal),
}) satisfies Record<string, OpDef>;
