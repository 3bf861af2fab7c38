import { describe, it } from 'vitest';
import { tensorType, type Shape } from '../../ir/types.ts';
import { checkVjp } from './check-vjp.ts';

const f = (s: Shape) => tensorType('f32', s);

describe('matmul VJP', () => {
  for (const transpose_a of [false, true]) {
    for (const transpose_b of [false, true]) {
      it(`matches finite differences, transpose_a=${transpose_a} transpose_b=${transpose_b}`, () => {
        const a: Shape = transpose_a ? [4, 3] : [3, 4];
        const b: Shape = transpose_b ? [5, 4] : [4, 5];
        checkVjp('matmul', [f(a), f(b)], { transpose_a, transpose_b }, { seed: 3 });
        checkVjp('matmul', [f([2, ...a]), f([2, ...b])], { transpose_a, transpose_b }, { seed: 4 });
      });
    }
  }

  it('sums the cotangent over broadcast batch dimensions', () => {
    checkVjp('matmul', [f([2, 3, 4]), f([4, 2])], {}, { seed: 5 });
    checkVjp('matmul', [f([3, 4]), f([2, 4, 2])], { transpose_b: false }, { seed: 6 });
    checkVjp('matmul', [f([2, 1, 3, 4]), f([3, 2, 4])], { transpose_b: true }, { seed: 7 });
    checkVjp('matmul', [f([1, 4, 3]), f([2, 1, 4, 5])], { transpose_a: true }, { seed: 8 });
  });
});
