import { describe, it } from 'vitest';
import { makeNode } from '../../ir/builder.ts';
import type { Attrs } from '../../ir/graph.ts';
import { sizeOf, tensorType, type Shape, type Tensor } from '../../ir/types.ts';
import { checkVjp, rng } from './check-vjp.ts';

const f = (s: Shape) => tensorType('f32', s);

/** Distinct values 0.1 apart in a shuffled order (max pooling without ties, robust to the finite-difference step). */
function distinct(shape: Shape, seed: number): Tensor {
  const next = rng(seed);
  const v = Array.from({ length: sizeOf(shape) }, (_, i) => 0.1 * i - 1);
  for (let i = v.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [v[i], v[j]] = [v[j]!, v[i]!];
  }
  return { type: f(shape), data: Float64Array.from(v) };
}

const CASES: { name: string; x: Shape; attrs: Attrs }[] = [
  { name: 'overlapping', x: [2, 4, 5, 2], attrs: { window: [2, 2], strides: [1, 1] } },
  { name: 'strided', x: [1, 6, 6, 3], attrs: { window: [2, 3], strides: [2, 3] } },
  { name: 'padded', x: [1, 5, 4, 2], attrs: { window: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] } },
  { name: 'asymmetric pads', x: [2, 5, 5, 1], attrs: { window: [2, 3], strides: [2, 1], pads: [0, 1, 2, 0] } },
];

describe('pool VJPs', () => {
  CASES.forEach(({ name, x, attrs }, i) => {
    const y = makeNode('max_pool2d', [{ kind: 'input', name: 'x', type: f(x) }], attrs).type.shape;
    it(`max_pool2d (${name})`, () => {
      checkVjp('max_pool2d', [f(x)], attrs, { seed: 40 + i, values: [distinct(x, 50 + i)] });
    });
    it(`avg_pool2d (${name})`, () => {
      checkVjp('avg_pool2d', [f(x)], attrs, { seed: 60 + i });
    });
    it(`avg_pool2d_grad (${name})`, () => {
      checkVjp('avg_pool2d_grad', [f(y)], { ...attrs, input_shape: x }, { seed: 70 + i });
    });
    it(`max_pool2d_grad, linear in dy (${name})`, () => {
      checkVjp('max_pool2d_grad', [f(x), f(y)], attrs, { seed: 80 + i, values: [distinct(x, 90 + i)] });
    });
  });

  it("max_pool2d_grad's dy cotangent never picks a padded tap (all values negative)", () => {
    const x: Shape = [1, 3, 3, 1];
    const neg: Tensor = { type: f(x), data: Float64Array.from([-9, -8, -7, -6, -5, -4, -3, -2, -1]) };
    checkVjp(
      'max_pool2d_grad',
      [f(x), f([1, 2, 2, 1])],
      { window: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] },
      { seed: 99, values: [neg] },
    );
  });
});
