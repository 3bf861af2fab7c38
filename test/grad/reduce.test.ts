// Reduction VJPs against central differences (all axes, negative axes, several axes, keepdims),
// and the max/min rule at ties, where finite differences cannot see it.
import { describe, expect, it } from 'vitest';
import type { Attrs } from '../../ir/graph.ts';
import { tensor, tensorType, type Shape } from '../../ir/types.ts';
import { checkVjp } from './check-vjp.ts';
import { cotangentsOf } from './vjp-values.ts';

const CASES: [Shape, Attrs][] = [
  [[2, 3, 4], { axes: [] }],
  [[2, 3, 4], { axes: [], keepdims: true }],
  [[2, 3, 4], { axes: [0] }],
  [[2, 3, 4], { axes: [-1], keepdims: true }],
  [[2, 3, 4], { axes: [0, -1] }],
  [[2, 3, 4], { axes: [2, 1], keepdims: true }],
  [[5], { axes: [0] }],
  [[3, 1], { axes: [1] }],
  [[], { axes: [] }],
];

describe('reduction VJPs', () => {
  for (const op of ['sum', 'mean', 'max', 'min']) {
    it.each(CASES)(`${op} of %j with %j`, (shape, attrs) => {
      checkVjp(op, [tensorType('f32', shape)], attrs, { seed: shape.length + 3 });
    });
  }
});

describe('max and min at ties (JAX rule: tied positions share g equally)', () => {
  it('max over all axes splits g among the maxima', () => {
    expect(cotangentsOf('max', [tensor('f32', [4], [1, 3, 3, 2])], { axes: [] }, [6])).toEqual([[0, 3, 3, 0]]);
  });
  it('min along an axis, per row, with keepdims', () => {
    // [[2, 1, 1],
    //  [5, 4, 6]]
    const x = tensor('f32', [2, 3], [2, 1, 1, 5, 4, 6]);
    expect(cotangentsOf('min', [x], { axes: [-1], keepdims: true }, [10, 7])).toEqual([[0, 5, 5, 0, 7, 0]]);
  });
  it('max over a whole constant tensor gives each element g / n', () => {
    expect(cotangentsOf('max', [tensor('f32', [2, 2], [4, 4, 4, 4])], { axes: [0, 1] }, [1])).toEqual([
      [0.25, 0.25, 0.25, 0.25],
    ]);
  });
  it('sum and mean spread g; mean divides by the count', () => {
    const x = tensor('f32', [2, 3], [1, 2, 3, 4, 5, 6]);
    expect(cotangentsOf('sum', [x], { axes: [0] }, [1, 2, 3])).toEqual([[1, 2, 3, 1, 2, 3]]);
    expect(cotangentsOf('mean', [x], { axes: [1] }, [3, 6])).toEqual([[1, 1, 1, 2, 2, 2]]);
  });
  it('integer inputs get no cotangent', () => {
    expect(cotangentsOf('sum', [tensor('i32', [2], [1, 2])], { axes: [] }, [1])).toEqual([null]);
  });
});
