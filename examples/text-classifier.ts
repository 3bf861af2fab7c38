// A text classifier over token ids, trained on the topics of Debian's fortunes
// (examples/data/fortunes.ts): Embedding 10000x64 -> word dropout (whole tokens, 0.3) -> one
// recurrent layer of 64 returning its whole sequence -> the max and the sum of its outputs over the
// text's tokens (the padding in front left out) -> Dropout 0.5 -> Dense 10 softmax. Pooling over
// every step, rather than reading the last state, lets each word's output reach the classifier
// directly; the sum keeps how long the text is, which the topics differ in. text-lstm.ts,
// text-gru.ts and text-rnn.ts pick the recurrent layer; the settings were chosen on a validation
// split (README.md, "End to end"). `npm run e2e` starts the Embedding (`word_vectors`) from the
// bag-of-words MLP's first layer, kept frozen: `kiln train examples/text-bow.ts --save B`,
// `npx tsx scripts/bow-vectors.ts B/weights.safetensors V.safetensors`, then
// `kiln train examples/text-lstm.ts --init V.safetensors --freeze word_vectors`.
import {
  defineModel,
  k,
  losses,
  nn,
  optimizers,
  type Layer,
  type Model,
  type RecurrentOptions,
  type Tensor,
} from '../compiler/index.ts';
import { loadFortunes, SEQ_LEN, VOCAB } from './data/fortunes.ts';

/** The max and the sum over time of h [batch, time, units] at the steps where `ids` is not padding
 *  (0), side by side: [batch, 2·units]. */
export function poolTokens(h: Tensor, ids: Tensor): Tensor {
  const [batch, time] = ids.shape as [number, number];
  const token = ids.notEqual(0).reshape([batch, time, 1]);
  const max = k.where(token, h, -1e9).max(1);
  const sum = k.where(token, h, 0).sum(1);
  return k.concat([max, sum], 1);
}

/** The Embedding layer's name, the same in every classifier: `--freeze word_vectors` keeps its table fixed. */
export const WORD_VECTORS = 'word_vectors';
/** Its table [VOCAB, 64], the param that scripts/bow-vectors.ts fills from the bag-of-words MLP. */
export const WORD_VECTORS_PARAM = `${WORD_VECTORS}/embeddings`;

export function textClassifier(name: string, recurrent: (units: number, opts?: RecurrentOptions) => Layer): Model {
  const embed = nn.embedding(VOCAB, 64, { name: WORD_VECTORS });
  const wordDropout = nn.dropout(0.3, { noiseShape: [null, null, 1] });
  const rnn = recurrent(64, { returnSequences: true });
  const dropout = nn.dropout(0.5);
  const classify = nn.dense(10, { activation: 'softmax' });
  return defineModel({
    name,
    batch: 32,
    inputs: { x: { dtype: 'i32', shape: [SEQ_LEN], range: [0, VOCAB] } },
    targets: { y: { dtype: 'i32', shape: [], range: [0, 10] } },
    forward: ({ x }) => classify(dropout(poolTokens(rnn(wordDropout(embed(x!))), x!))),
    train: {
      loss: losses.sparseCategoricalCrossentropy(),
      optimizer: optimizers.adam(),
      metrics: ['accuracy'],
    },
    dataset: loadFortunes,
  });
}
