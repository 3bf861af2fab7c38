// A text classifier over token ids: Embedding 10000x64, two stacked recurrent layers (the first
// returning its whole sequence), Dense 64 relu, Dense 10 softmax, trained on the topics of Debian's
// fortunes (examples/data/fortunes.ts). text-lstm.ts, text-gru.ts and text-rnn.ts pick the
// recurrent layer.
import {
  defineModel,
  losses,
  nn,
  optimizers,
  type Layer,
  type Model,
  type RecurrentOptions,
} from '../compiler/index.ts';
import { loadFortunes } from './data/fortunes.ts';

export function textClassifier(name: string, recurrent: (units: number, opts?: RecurrentOptions) => Layer): Model {
  return defineModel({
    name,
    batch: 32,
    inputs: { x: { dtype: 'i32', shape: [50], range: [0, 10000] } },
    targets: { y: { dtype: 'i32', shape: [], range: [0, 10] } },
    forward: nn.sequential([
      nn.embedding(10000, 64),
      recurrent(64, { returnSequences: true }),
      recurrent(32),
      nn.dense(64, { activation: 'relu' }),
      nn.dense(10, { activation: 'softmax' }),
    ]),
    train: {
      loss: losses.sparseCategoricalCrossentropy(),
      optimizer: optimizers.adam(),
      metrics: ['accuracy'],
    },
    dataset: loadFortunes,
  });
}
