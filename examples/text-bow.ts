// The bag-of-words baseline for the fortunes topics: an MLP over each text's word counts (its 50
// token ids, padding not counted) -> Dense 64 relu -> Dense 10 softmax. The first layer's matmul of
// a counts vector is written as the sum of the kernel rows its ids pick, so no 10,000-wide vector
// is built.
import { defineModel, k, losses, makeLayer, nn, optimizers } from '../compiler/index.ts';
import { loadFortunes, SEQ_LEN, VOCAB } from './data/fortunes.ts';

const UNITS = 64;

/** counts(x) · kernel + bias, relu: a Dense layer over the bag of words. */
const bagOfWords = makeLayer('bag_of_words', {}, (x, s) => {
  const kernel = s.weight('kernel', [VOCAB, UNITS], 'glorotUniform');
  const bias = s.weight('bias', [UNITS], 'zeros');
  const [batch, time] = x.shape as [number, number];
  const counted = x.notEqual(0).cast('f32').reshape([batch, time, 1]);
  return k.gather(kernel, x).mul(counted).sum(1).add(bias).relu();
});

export default defineModel({
  name: 'text_bow',
  batch: 32,
  inputs: { x: { dtype: 'i32', shape: [SEQ_LEN] } },
  targets: { y: { dtype: 'i32', shape: [] } },
  forward: nn.sequential([bagOfWords, nn.dropout(0.5), nn.dense(10, { activation: 'softmax' })]),
  train: {
    loss: losses.sparseCategoricalCrossentropy(),
    optimizer: optimizers.adam(),
    metrics: ['accuracy'],
  },
  dataset: loadFortunes,
});
