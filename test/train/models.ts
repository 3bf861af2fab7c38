// Tiny models and datasets for the training-practice tests: each compiles in about a second and
// trains an epoch in milliseconds. Layers carry explicit names so param names do not depend on the
// order models are made in.
import { defineModel, losses, nn, optimizers, type Dataset, type Split } from '../../compiler/index.ts';
import type { OptimizerSpec } from '../../compiler/dsl/optimizers.ts';

/** n examples of x in [-1, 1) (2 features) with y = f(x), from a fixed hash so the data is the same every run. */
export function regressionSplit(n: number, f: (a: number, b: number) => number, salt = 0): Split {
  const x = new Float32Array(2 * n);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x[2 * i] = ((i * 7919 + salt * 104729) % 200) / 100 - 1;
    x[2 * i + 1] = ((i * 4001 + salt * 15485) % 200) / 100 - 1;
    y[i] = f(x[2 * i]!, x[2 * i + 1]!);
  }
  return { size: n, columns: { x, y } };
}

/** A linear regression y = 2a - b (+ a small bump) on an MLP with dropout and Adam: slots, a step counter, an RNG counter. */
export const mlp = defineModel({
  name: 'tiny_mlp',
  batch: 8,
  inputs: { x: { dtype: 'f32', shape: [2] } },
  targets: { y: { dtype: 'f32', shape: [1] } },
  forward: nn.sequential([
    nn.dense(8, { activation: 'tanh', name: 'hidden' }),
    nn.dropout(0.25, { name: 'drop' }),
    nn.dense(1, { name: 'out' }),
  ]),
  train: { loss: losses.meanSquaredError(), optimizer: optimizers.adam({ learningRate: 0.05 }) },
  dataset: (): Dataset => {
    const f = (a: number, b: number): number => 2 * a - b + 0.3 * Math.sin(3 * a);
    return { name: 'tiny', train: regressionSplit(45, f), test: regressionSplit(13, f, 1) };
  },
});

/**
 * A one-weight regression whose validation targets disagree with its training targets: training
 * pulls w from 0 towards 1 (y = x), validation wants w = 0.4 (y = 0.4 x), so the validation loss
 * falls for a few epochs and then rises: early stopping must stop and go back.
 */
export const drifting = defineModel({
  name: 'drifting',
  batch: 4,
  inputs: { x: { dtype: 'f32', shape: [2] } },
  targets: { y: { dtype: 'f32', shape: [1] } },
  forward: nn.dense(1, { name: 'w', kernelInitializer: 'zeros', useBias: false }),
  train: { loss: losses.meanSquaredError(), optimizer: optimizers.sgd({ learningRate: 0.05 }) },
  dataset: (): Dataset => ({
    name: 'drifting',
    train: regressionSplit(16, (a, b) => a + b),
    validation: regressionSplit(8, (a, b) => 0.4 * (a + b), 2),
    test: regressionSplit(6, (a, b) => a + b, 3),
  }),
});

/** Three dense layers, the first frozen in the model file (`trainable: false`); tests freeze `middle` by name. */
export function frozenModel(optimizer: OptimizerSpec = optimizers.adam({ learningRate: 0.05 })) {
  return defineModel({
    name: 'frozen',
    batch: 8,
    inputs: { x: { dtype: 'f32', shape: [2] } },
    targets: { y: { dtype: 'f32', shape: [1] } },
    forward: nn.sequential([
      nn.dense(6, { activation: 'tanh', name: 'base', trainable: false }),
      nn.dense(6, { activation: 'tanh', name: 'middle' }),
      nn.dense(1, { name: 'head' }),
    ]),
    train: { loss: losses.meanSquaredError(), optimizer },
    dataset: (): Dataset => ({
      name: 'tiny',
      train: regressionSplit(40, (a, b) => a * b),
      test: regressionSplit(8, (a, b) => a * b, 1),
    }),
  });
}
