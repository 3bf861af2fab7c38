// Small models over the DSL's training features (every optimizer, L1/L2 penalties, gradient
// clipping; dense, dropout, conv, BatchNorm, pooling, transposed conv, simple RNN and GRU layers),
// for differential tests of the compiled training step against the graph interpreter.
import { defineModel, losses, nn, optimizers, type Layer, type Model } from '../../compiler/index.ts';
import type { TrainDef } from '../../compiler/dsl/model.ts';
import type { Graph } from '../../ir/graph.ts';
import type { Tensor } from '../../ir/types.ts';
import { randomTensor, rng } from '../grad/check-vjp.ts';
import { runtimeTensor } from '../targets/wasm-helpers.ts';

export const OPTIMIZERS: Readonly<Record<string, TrainDef['optimizer']>> = {
  sgd: optimizers.sgd(),
  momentum: optimizers.momentum(),
  nesterov: optimizers.nesterov(),
  rmsprop: optimizers.rmsprop(),
  'rmsprop centered with momentum': optimizers.rmsprop({ centered: true, momentum: 0.5 }),
  adam: optimizers.adam(),
  'adam amsgrad, torch epsilon': optimizers.adam({ amsgrad: true, epsilonStyle: 'torch' }),
  adagrad: optimizers.adagrad(),
  adadelta: optimizers.adadelta(),
};

/** Bodies over a [16] input, 3 classes. The convolution before BatchNorm has no bias (its gradient
 *  is zero up to rounding, and Adam-style steps turn rounding noise into +-lr). */
export const BODIES: Readonly<Record<string, () => Layer>> = {
  'dense tanh, dropout, dense softmax': () =>
    nn.sequential([nn.dense(5, { activation: 'tanh' }), nn.dropout(0.3), nn.dense(3, { activation: 'softmax' })]),
  'conv, BatchNorm, leaky relu, avg pool, transposed conv': () =>
    nn.sequential([
      nn.reshape([4, 4, 1]),
      nn.conv2d(3, 3, { padding: 'same', useBias: false }),
      nn.batchNorm(),
      nn.leakyRelu(),
      nn.avgPool2d(2),
      nn.conv2dTranspose(2, 3, { strides: 2, padding: 'same' }),
      nn.flatten(),
      nn.dense(3, { activation: 'softmax' }),
    ]),
  'simple RNN then GRU': () =>
    nn.sequential([
      nn.reshape([4, 4]),
      nn.simpleRNN(3, { returnSequences: true }),
      nn.gru(3),
      nn.dense(3, { activation: 'softmax' }),
    ]),
};

export const EXTRAS: Readonly<Record<string, Partial<TrainDef>>> = {
  plain: {},
  'l1 + l2 penalty': { regularization: { l1: 0.01, l2: 0.01 } },
  'clip by norm and global norm': { clip: { clipNorm: 0.5, globalClipNorm: 1 } },
  'clip by value': { clip: { clipValue: 0.01 } },
};

export function variantModel(body: string, optimizer: string, extra: string): Model {
  return defineModel({
    name: 'variant',
    batch: 3,
    inputs: { x: { dtype: 'f32', shape: [16] } },
    targets: { y: { dtype: 'i32', shape: [] } },
    forward: BODIES[body]!(),
    train: { loss: losses.sparseCategoricalCrossentropy(), optimizer: OPTIMIZERS[optimizer]!, ...EXTRAS[extra] },
  });
}

/** A seeded batch: x uniform in [-1, 1), labels in [0, 3). */
export function variantBatch(g: Graph, seed: number): Record<string, Tensor> {
  const next = rng(seed);
  return Object.fromEntries(
    g.inputs.map((i) => [
      i.name,
      runtimeTensor(randomTensor(i.type, next, i.type.dtype === 'i32' ? 0 : -1, i.type.dtype === 'i32' ? 3 : 1)),
    ]),
  );
}
