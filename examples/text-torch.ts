// The text classifier as PyTorch tutorials write it: nn.Embedding -> nn.LSTM(128, num_layers=2) ->
// nn.Linear on the last step's hidden state, trained on logits with cross-entropy (Adam) on the
// topics of Debian's fortunes (examples/data/fortunes.ts).
import { defineModel, losses, nn, optimizers } from '../compiler/index.ts';
import { loadFortunes, SEQ_LEN, VOCAB } from './data/fortunes.ts';

export default defineModel({
  name: 'text_torch_lstm',
  batch: 32,
  inputs: { x: { dtype: 'i32', shape: [SEQ_LEN] } },
  targets: { y: { dtype: 'i32', shape: [] } },
  forward: nn.sequential([
    nn.embedding(VOCAB, 64),
    nn.lstm(128, { returnSequences: true }),
    nn.lstm(128),
    nn.dense(10),
  ]),
  train: {
    loss: losses.sparseCategoricalCrossentropy({ fromLogits: true }),
    optimizer: optimizers.adam(),
    metrics: ['accuracy'],
  },
  dataset: loadFortunes,
});
