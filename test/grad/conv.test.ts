import { describe, it } from 'vitest';
import type { Attrs } from '../../ir/graph.ts';
import { makeNode } from '../../ir/builder.ts';
import { tensorType, type Shape } from '../../ir/types.ts';
import { checkVjp } from './check-vjp.ts';

const f = (s: Shape) => tensorType('f32', s);

/** Random-ish geometries: plain, strided, dilated, padded (asymmetric), all at once. */
const CASES: { name: string; x: Shape; w: Shape; attrs: Attrs }[] = [
  { name: 'plain', x: [2, 5, 4, 3], w: [3, 2, 3, 2], attrs: {} },
  { name: 'strided', x: [1, 7, 6, 2], w: [3, 3, 2, 3], attrs: { strides: [2, 3] } },
  { name: 'dilated', x: [1, 7, 7, 2], w: [2, 3, 2, 2], attrs: { dilations: [3, 2] } },
  { name: 'padded', x: [2, 4, 4, 1], w: [3, 3, 1, 2], attrs: { pads: [1, 2, 0, 1] } },
  {
    name: 'strided, dilated and padded',
    x: [1, 8, 7, 2],
    w: [3, 2, 2, 3],
    attrs: { strides: [2, 2], dilations: [2, 1], pads: [2, 1, 1, 0] },
  },
];

describe('conv VJPs', () => {
  CASES.forEach(({ name, x, w, attrs }, i) => {
    const dy = makeNode(
      'conv2d',
      [
        { kind: 'input', name: 'x', type: f(x) },
        { kind: 'input', name: 'w', type: f(w) },
      ],
      attrs,
    ).type.shape;
    it(`conv2d (${name})`, () => {
      checkVjp('conv2d', [f(x), f(w)], attrs, { seed: 10 + i });
    });
    it(`conv2d_input_grad (${name})`, () => {
      checkVjp('conv2d_input_grad', [f(dy), f(w)], { ...attrs, input_shape: x }, { seed: 20 + i });
    });
    it(`conv2d_filter_grad (${name})`, () => {
      checkVjp('conv2d_filter_grad', [f(x), f(dy)], { ...attrs, filter_shape: w }, { seed: 30 + i });
    });
  });
});
