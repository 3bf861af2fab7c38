import { describe, expect, test } from 'vitest';
import { k } from '../../compiler/index.ts';
import { expectClose, f32, infer, model1 } from './helpers.ts';

describe('tensor ops', () => {
  test('arithmetic with numbers, broadcasting and reductions', () => {
    const m = model1([2, 3], ({ x }) => x!.mul(2).add(1).sub(x!.sum(1, true)));
    // rows [1,2,3] (sum 6) and [4,5,6] (sum 15): 2x+1-sum
    expectClose(infer(m, f32([2, 3], [1, 2, 3, 4, 5, 6])).data, [-3, -1, 1, -6, -4, -2]);
  });

  test('matmul, transpose, reshape and slice', () => {
    const m = model1([2, 2], ({ x }) => x!.matmul(x!.transpose()).reshape([4]).slice([1], [3]));
    // [[1,2],[3,4]] · its transpose = [[5,11],[11,25]]
    expectClose(infer(m, f32([2, 2], [1, 2, 3, 4])).data, [11, 11]);
  });

  test('softmax and log-sum-exp are stable for huge logits', () => {
    const m = model1([1, 3], ({ x }) => k.concat([k.softmax(x!), k.logSumExp(x!, -1, true)], 1));
    const out = infer(m, f32([1, 3], [1e4, 0, -1e4])).data;
    expectClose(out, [1, 0, 0, 1e4]);
  });

  test('where, comparisons, casts and argmax', () => {
    const m = model1([1, 4], ({ x }) => k.where(x!.greater(0), x!, x!.mul(0.5)).add(x!.argmax(-1, true).cast('f32')));
    // argmax of [-2, 3, 1, -4] is 1
    expectClose(infer(m, f32([1, 4], [-2, 3, 1, -4])).data, [0, 4, 2, -1]);
  });

  test('leakyRelu, gather and oneHot', () => {
    const m = model1([2, 2], ({ x }) => k.leakyRelu(x!, 0.1).add(k.oneHot(k.constant([1, 0], [2], 'i32'), 2)));
    expectClose(infer(m, f32([2, 2], [-10, 2, 3, -4])).data, [-1, 3, 4, -0.4]);
  });

  test('k functions take numbers on either side; pad, broadcastTo, iota, gather', () => {
    const m = model1([1, 2], ({ x }) =>
      k.concat(
        [
          k.sub(1, x!), // [0, -1]
          k.maximum(x!, 1.5), // [1.5, 2]
          k.pad(x!, [0, 1], [0, 1], 9), // [9, 1, 2, 9]
          k.broadcastTo(k.sum(x!), [1, 2]), // [3, 3]
          k.gather(x!, k.constant([1, 0], [2], 'i32'), 1), // [2, 1]
          k.iota([1, 3], 1).cast('f32'), // [0, 1, 2]
        ],
        1,
      ),
    );
    expectClose(infer(m, f32([1, 2], [1, 2])).data, [0, -1, 1.5, 2, 9, 1, 2, 9, 3, 3, 2, 1, 0, 1, 2]);
  });
});
