// Initializers: Keras' limits and standard deviations, seeds from the param name, determinism.
import { describe, expect, test } from 'vitest';
import { fans, initializers, inferGraph, nn, seedOf } from '../../compiler/index.ts';
import { initParams, initialValue } from '../../ir/init.ts';
import type { Param } from '../../ir/graph.ts';
import { model1 } from './helpers.ts';

const param = (name: string, shape: number[], init: ReturnType<ReturnType<typeof initializers.zeros>>): Param => ({
  kind: 'param',
  name,
  type: { dtype: 'f32', shape },
  init,
});

const stats = (xs: ArrayLike<number>) => {
  const a = Array.from(xs);
  const mean = a.reduce((s, v) => s + v, 0) / a.length;
  return {
    mean,
    std: Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length),
    min: Math.min(...a),
    max: Math.max(...a),
  };
};

describe('initializers', () => {
  test("Keras' fans: matrices and conv kernels", () => {
    expect(fans([784, 128])).toEqual({ fanIn: 784, fanOut: 128 });
    expect(fans([3, 3, 32, 64])).toEqual({ fanIn: 288, fanOut: 576 });
  });

  test('glorotUniform: uniform in ±sqrt(6 / (fanIn + fanOut))', () => {
    const init = initializers.glorotUniform()([20, 30], 'w');
    expect(init).toEqual({
      name: 'random_uniform',
      attrs: { min: -Math.sqrt(6 / 50), max: Math.sqrt(6 / 50), seed: seedOf('w') },
    });
    const s = stats(initialValue(param('w', [20, 30], init)).data);
    expect(s.min).toBeGreaterThanOrEqual(-Math.sqrt(6 / 50));
    expect(s.max).toBeLessThanOrEqual(Math.sqrt(6 / 50));
    expect(s.std).toBeCloseTo(Math.sqrt(6 / 50) / Math.sqrt(3), 2);
  });

  test('heNormal and glorotNormal: truncated normals with the variance 2/fanIn and 2/(fanIn+fanOut)', () => {
    const he = initialValue(param('h', [200, 100], initializers.heNormal({ seed: 5 })([200, 100], 'h'))).data;
    const s = stats(he);
    expect(s.std).toBeCloseTo(Math.sqrt(2 / 200), 3);
    expect(Math.max(Math.abs(s.min), s.max)).toBeLessThanOrEqual((2 * Math.sqrt(2 / 200)) / 0.87962566103423978 + 1e-6);
    const gn = initializers.glorotNormal()([10, 30], 'g');
    expect(gn.name).toBe('truncated_normal');
    expect(gn.attrs.stddev).toBeCloseTo(Math.sqrt(2 / 40) / 0.87962566103423978, 12);
    expect(initializers.heUniform()([50, 7], 'u').attrs).toMatchObject({
      min: -Math.sqrt(6 / 50),
      max: Math.sqrt(6 / 50),
    });
  });

  test('constants, Keras defaults of randomNormal / randomUniform, explicit seeds', () => {
    expect(Array.from(initialValue(param('c', [3], initializers.constant(2.5)([3], 'c'))).data)).toEqual([
      2.5, 2.5, 2.5,
    ]);
    expect(Array.from(initialValue(param('o', [2], initializers.ones()([2], 'o'))).data)).toEqual([1, 1]);
    expect(initializers.randomNormal()([2], 'n').attrs).toEqual({ mean: 0, stddev: 0.05, seed: seedOf('n') });
    expect(initializers.randomUniform({ seed: 7 })([2], 'n').attrs).toEqual({ min: -0.05, max: 0.05, seed: 7 });
  });

  test('orthogonal: orthonormal columns of a tall matrix', () => {
    const q = initialValue(param('q', [6, 3], initializers.orthogonal()([6, 3], 'q'))).data;
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        let d = 0;
        for (let r = 0; r < 6; r++) d += q[r * 3 + i]! * q[r * 3 + j]!;
        expect(d).toBeCloseTo(i === j ? 1 : 0, 5);
      }
    }
  });

  test('two builds give the same weights; different params get different seeds', () => {
    const layer = nn.dense(4, { name: 'same' });
    const a = initParams(inferGraph(model1([1, 3], layer)));
    const b = initParams(inferGraph(model1([1, 3], layer)));
    expect(Array.from(a['same/kernel']!.data)).toEqual(Array.from(b['same/kernel']!.data));
    expect(seedOf('dense_1/kernel')).not.toBe(seedOf('dense_2/kernel'));
  });
});
