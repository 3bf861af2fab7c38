// Source ops: constant, iota and the counter-based random streams.
import { describe, expect, it } from 'vitest';
import { makeNode } from '../../ir/builder.ts';
import { KilnError } from '../../ir/errors.ts';
import type { Attrs, Value } from '../../ir/graph.ts';
import { randomNormal, randomUniform } from '../../ir/random.ts';
import { SOURCE } from '../../ir/ops/source.ts';
import { tensor, tensorType, type Tensor } from '../../ir/types.ts';
import { runOp, values, kilnErrorOf } from './run-op.ts';

const errorOf = (op: string, inputs: readonly Value[], attrs: Attrs): KilnError =>
  kilnErrorOf(() => makeNode(op, inputs, attrs));

const counter = (c: number): Tensor => tensor('i32', [], [c]);

describe('constant', () => {
  it('one value is a splat', () => {
    const y = runOp('constant', [], { value: [1.5], shape: [2, 2], dtype: 'f32' });
    expect(y.type).toEqual({ dtype: 'f32', shape: [2, 2] });
    expect(values(y)).toEqual([1.5, 1.5, 1.5, 1.5]);
  });
  it('one value per element, rounded to f32', () => {
    expect(values(runOp('constant', [], { value: [1, 2, 0.1], shape: [3], dtype: 'f32' }))).toEqual([
      1,
      2,
      Math.fround(0.1),
    ]);
  });
  it('i32 and bool constants (bool is value != 0)', () => {
    expect(values(runOp('constant', [], { value: [-3, 4], shape: [2], dtype: 'i32' }))).toEqual([-3, 4]);
    expect(values(runOp('constant', [], { value: [0, 2, -1], shape: [3], dtype: 'bool' }))).toEqual([0, 1, 1]);
  });
  it('a scalar and an empty tensor', () => {
    expect(values(runOp('constant', [], { value: [7], shape: [], dtype: 'f32' }))).toEqual([7]);
    expect(values(runOp('constant', [], { value: [7], shape: [0, 3], dtype: 'f32' }))).toEqual([]);
  });
  it('rejects a wrong number of values, fractions for integers, negative sizes', () => {
    const n = errorOf('constant', [], { value: [1, 2], shape: [2, 2], dtype: 'f32' });
    expect(n.code).toBe('K1003');
    expect(n.detail).toBe('constant: 2 values given for f32[2,2]; give 1 (a splat) or 4');
    expect(errorOf('constant', [], { value: [0.5], shape: [2], dtype: 'i32' }).detail).toBe(
      'constant: value 0.5 is not an integer, as i32[2] needs',
    );
    expect(errorOf('constant', [], { value: [1], shape: [-2], dtype: 'f32' }).detail).toContain(
      'constant: shape [-2] has a negative size',
    );
    expect(errorOf('constant', [], { value: [1], shape: [2] }).detail).toBe(
      "constant: missing attribute 'dtype' (dtype)",
    );
  });
});

describe('iota', () => {
  it('the index along an axis, i32 by default', () => {
    const y = runOp('iota', [], { shape: [2, 3], axis: 1 });
    expect(y.type).toEqual({ dtype: 'i32', shape: [2, 3] });
    expect(values(y)).toEqual([0, 1, 2, 0, 1, 2]);
  });
  it('negative axis and f32 dtype', () => {
    const y = runOp('iota', [], { shape: [2, 3], axis: -2, dtype: 'f32' });
    expect(y.type.dtype).toBe('f32');
    expect(values(y)).toEqual([0, 0, 0, 1, 1, 1]);
    expect(values(runOp('iota', [], { shape: [2, 1, 2], axis: 2 }))).toEqual([0, 1, 0, 1]);
  });
  it('an axis out of range names the axis and the rank', () => {
    const e = errorOf('iota', [], { shape: [2, 3], axis: 2 });
    expect(e.code).toBe('K1006');
    expect(e.detail).toBe('iota: axis 2 is out of range for shape [2,3] (rank 2); use an axis in [-2, 2)');
  });
});

describe('random_uniform and random_normal', () => {
  it('element i is randomUniform(seed, counter, i), whatever the shape', () => {
    const y = runOp('random_uniform', [counter(3)], { seed: 42, shape: [2, 3] });
    expect(y.type).toEqual({ dtype: 'f32', shape: [2, 3] });
    expect(values(y)).toEqual(Array.from({ length: 6 }, (_, i) => randomUniform(42, 3, i)));
    expect(values(runOp('random_uniform', [counter(3)], { seed: 42, shape: [6] }))).toEqual(values(y));
    expect(values(runOp('random_normal', [counter(-1)], { seed: 7, shape: [4] }))).toEqual(
      Array.from({ length: 4 }, (_, i) => Math.fround(randomNormal(7, -1, i))),
    );
  });
  it('another counter or seed gives another stream', () => {
    const a = values(runOp('random_uniform', [counter(0)], { seed: 1, shape: [8] }));
    const b = values(runOp('random_uniform', [counter(1)], { seed: 1, shape: [8] }));
    const c = values(runOp('random_uniform', [counter(0)], { seed: 2, shape: [8] }));
    expect(a.filter((v, i) => v === b[i]).length).toBe(0);
    expect(a.filter((v, i) => v === c[i]).length).toBe(0);
  });
  it('uniform lies in [0, 1) with mean near 1/2; normal has mean near 0 and variance near 1', () => {
    const n = 20000;
    const u = values(runOp('random_uniform', [counter(5)], { seed: 9, shape: [n] }));
    expect(u.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(Math.abs(u.reduce((s, v) => s + v, 0) / n - 0.5)).toBeLessThan(0.01);
    const z = values(runOp('random_normal', [counter(5)], { seed: 9, shape: [n] }));
    const mean = z.reduce((s, v) => s + v, 0) / n;
    const variance = z.reduce((s, v) => s + (v - mean) ** 2, 0) / n;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
  });
  it('the counter must be an i32 scalar', () => {
    const f = errorOf('random_uniform', [{ kind: 'input', name: 'c', type: tensorType('f32', []) }], {
      seed: 1,
      shape: [2],
    });
    expect(f.code).toBe('K1002');
    expect(f.detail).toBe('random_uniform: counter has type f32[], expected dtype i32');
    const r = errorOf('random_normal', [{ kind: 'input', name: 'c', type: tensorType('i32', [1]) }], {
      seed: 1,
      shape: [2],
    });
    expect(r.code).toBe('K1001');
    expect(r.detail).toBe('random_normal: counter i32[1] has rank 1, expected rank 0');
  });
  it('sources have no gradient', () => {
    for (const def of Object.values(SOURCE)) expect(def.vjp).toBe('none');
    expect(SOURCE.random_uniform.kind).toBe('random');
    expect(SOURCE.iota.kind).toBe('source');
  });
});
