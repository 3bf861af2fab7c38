// Losses against PyTorch, their stability for huge logits, and accuracy.
import { describe, expect, test } from 'vitest';
import { defineModel, inferGraph, k, losses, metrics, type Tensor } from '../../compiler/index.ts';
import { interpret } from '../../ir/interpret.ts';
import { expectClose, f32, fixture, fx, i32, type FixtureTensor } from './helpers.ts';
import type { Tensor as Data } from '../../ir/types.ts';

/** Evaluates f(yTrue, yPred) on the interpreter. */
function evalLoss(f: (t: Tensor, p: Tensor) => Tensor, yTrue: Data, yPred: Data): number {
  const spec = (d: Data) => ({ dtype: d.type.dtype, shape: d.type.shape.slice(1) });
  const m = defineModel({
    name: 'loss',
    batch: yPred.type.shape[0]!,
    inputs: { t: spec(yTrue), p: spec(yPred) },
    forward: ({ t, p }) => f(t!, p!),
  });
  return interpret(inferGraph(m), { t: yTrue, p: yPred }).outputs.y!.data[0]!;
}

describe('losses', () => {
  type Tensors = 'logits' | 'labels' | 'onehot' | 'probs' | 'blogits' | 'btarget' | 'bprobs';
  type Values = 'mse' | 'bce_logits' | 'bce_probs' | 'cce_logits' | 'cce_probs';
  const c = fixture('losses').losses! as unknown as Record<Tensors, FixtureTensor> & Record<Values, number>;
  const num = (key: Values): number => c[key];

  test('match PyTorch', () => {
    const got = [
      evalLoss(losses.meanSquaredError().of, fx(c.onehot), fx(c.probs)),
      evalLoss(losses.binaryCrossentropy({ fromLogits: true }).of, fx(c.btarget), fx(c.blogits)),
      evalLoss(losses.binaryCrossentropy().of, fx(c.btarget), fx(c.bprobs)),
      evalLoss(losses.categoricalCrossentropy({ fromLogits: true }).of, fx(c.onehot), fx(c.logits)),
      evalLoss(losses.categoricalCrossentropy().of, fx(c.onehot), fx(c.probs)),
      evalLoss(losses.sparseCategoricalCrossentropy({ fromLogits: true }).of, fx(c.labels, 'i32'), fx(c.logits)),
      evalLoss(losses.sparseCategoricalCrossentropy().of, fx(c.labels, 'i32'), fx(c.probs)),
    ];
    const want = (
      ['mse', 'bce_logits', 'bce_probs', 'cce_logits', 'cce_probs', 'cce_logits', 'cce_probs'] as const
    ).map(num);
    expectClose(got, want, 1e-5);
  });

  test('no NaN or Infinity for logits of ±1e4', () => {
    const logits = f32([2, 2], [1e4, -1e4, -1e4, 1e4]);
    const cce = evalLoss(losses.sparseCategoricalCrossentropy({ fromLogits: true }).of, i32([2], [1, 1]), logits);
    expectClose([cce], [(2e4 + 0) / 2]); // example 1: lse - x_1 = 1e4 - (-1e4); example 2: 0
    const bce = evalLoss(losses.binaryCrossentropy({ fromLogits: true }).of, f32([2, 2], [0, 0, 1, 1]), logits);
    expectClose([bce], [(1e4 + 0 + 1e4 + 0) / 4]);
    // softmax probabilities of huge logits are exactly 0 and 1: clipped, not log(0)
    const probs = evalLoss(
      (t, p) => losses.categoricalCrossentropy().of(t, k.softmax(p)),
      f32([2, 2], [0, 1, 0, 1]),
      logits,
    );
    expect(Number.isFinite(probs)).toBe(true);
    expectClose([probs], [-Math.log(1e-7) / 2], 1e-3);
  });

  test('the factories pick the only output and target, or the named ones', () => {
    const mse = losses.meanSquaredError({ output: 'b', target: 't' });
    const m = defineModel({
      name: 'pick',
      batch: 1,
      inputs: { x: { dtype: 'f32', shape: [2] } },
      forward: ({ x }) => mse({ a: x!.mul(100), b: x! }, { t: x!.add(1) }),
    });
    expectClose(interpret(inferGraph(m), { x: f32([1, 2], [3, 4]) }).outputs.y!.data, [1]);
  });
});

describe('accuracy', () => {
  test('class ids, one-hot targets, and probabilities against 0.5', () => {
    const pred = f32([4, 3], [0.1, 0.8, 0.1, 0.7, 0.2, 0.1, 0.2, 0.2, 0.6, 0.3, 0.3, 0.4]);
    expectClose([evalLoss((t, p) => metrics.accuracy(t, p), i32([4], [1, 0, 0, 2]), pred)], [0.75]);
    expectClose(
      [evalLoss((t, p) => metrics.accuracy(t, p), f32([4, 3], [0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1]), pred)],
      [0.75],
    );
    expectClose(
      [evalLoss((t, p) => metrics.accuracy(t, p), f32([4, 1], [1, 0, 0, 1]), f32([4, 1], [0.9, 0.6, 0.2, 0.4]))],
      [0.5],
    );
  });
});
