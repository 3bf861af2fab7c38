import { describe, expect, it } from 'vitest';
import { batches, permutation, splitDataset } from '../../compiler/data/dataset.ts';
import { loadMnist } from '../../examples/data/mnist.ts';

describe('datasets', () => {
  it('permutations are seeded permutations', () => {
    const p = permutation(1000, 7, 3);
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(permutation(1000, 7, 3)).toEqual(p);
    expect(permutation(1000, 7, 4)).not.toEqual(p);
  });

  it('batches gather whole examples and drop the partial batch', () => {
    const x = Float32Array.from({ length: 10 * 2 }, (_, i) => i);
    const y = Int32Array.from({ length: 10 }, (_, i) => i);
    const all = batches({ size: 10, columns: { x, y } }, 4, 1, 0);
    const got = [...all];
    expect(got).toHaveLength(2);
    for (const b of got) {
      const ys = b.y as Int32Array;
      const xs = b.x as Float32Array;
      for (let i = 0; i < 4; i++) expect([xs[2 * i], xs[2 * i + 1]]).toEqual([2 * ys[i]!, 2 * ys[i]! + 1]);
    }
  });

  it('splits without overlap', () => {
    const y = Int32Array.from({ length: 50 }, (_, i) => i);
    const d = splitDataset('t', { size: 50, columns: { y } }, 40, 3);
    const seen = new Set([...(d.train.columns.y as Int32Array), ...(d.test.columns.y as Int32Array)]);
    expect(d.train.size).toBe(40);
    expect(d.test.size).toBe(10);
    expect(seen.size).toBe(50);
  });

  it('loads the real MNIST digits split 8000/2000', () => {
    const d = loadMnist();
    expect(d.train.size).toBe(8000);
    expect(d.test.size).toBe(2000);
    expect(d.train.columns.x!.length).toBe(8000 * 784);
    const counts = new Array(10).fill(0);
    for (const v of d.test.columns.y as Int32Array) counts[v]++;
    for (const c of counts) expect(c).toBeGreaterThan(120); // every class present in the test split
    const px = d.train.columns.x as Float32Array;
    expect(Math.max(...px.subarray(0, 784))).toBeLessThanOrEqual(1);
    expect(px.subarray(0, 784).some((v) => v > 0.5)).toBe(true);
  });
});
