// Small models for the PyTorch training fixtures beside the examples' seed models: a CNN with
// BatchNorm, dropout and strided convolutions, and a small GAN's discriminator and generator steps. Layer names are
// explicit so param names (and so fixtures) do not depend on the order models are built in.
import { defineModel, k, losses, nn, optimizers, type Model, type Tensor } from '../../compiler/dsl/index.ts';

export const mnistCnn: Model = (() => {
  const net = nn.sequential(
    [
      nn.conv2d(8, 3, { name: 'cnn_conv1', activation: 'relu' }),
      nn.maxPool2d(2, { name: 'cnn_pool1' }),
      nn.conv2d(16, 3, { name: 'cnn_conv2', padding: 'same', strides: 2 }),
      nn.batchNorm({ name: 'cnn_bn' }),
      nn.activation('relu', { name: 'cnn_relu2' }),
      nn.flatten({ name: 'cnn_flatten' }),
      nn.dropout(0.25, { name: 'cnn_dropout' }),
      nn.dense(10, { name: 'cnn_logits' }),
    ],
    { name: 'cnn' },
  );
  return defineModel({
    name: 'mnist_cnn',
    batch: 4,
    inputs: { x: { dtype: 'f32', shape: [28, 28, 1] } },
    targets: { y: { dtype: 'i32', shape: [] } },
    forward: ({ x }) => net(x!),
    train: {
      loss: losses.sparseCategoricalCrossentropy({ fromLogits: true }),
      optimizer: optimizers.adam(),
      metrics: ['accuracy'],
    },
  });
})();

// GAN: a generator z -> 14x14 image through Conv2DTranspose, a convolutional discriminator; two
// training models over the same layers, each training its own half.
const gen = nn.sequential(
  [
    nn.dense(7 * 7 * 4, { name: 'gen_dense' }),
    nn.leakyRelu({ name: 'gen_act1', negativeSlope: 0.2 }),
    nn.reshape([7, 7, 4], { name: 'gen_reshape' }),
    nn.conv2dTranspose(4, 3, { name: 'gen_up', strides: 2, padding: 'same' }),
    nn.batchNorm({ name: 'gen_bn' }),
    nn.leakyRelu({ name: 'gen_act2', negativeSlope: 0.2 }),
    nn.conv2d(1, 3, { name: 'gen_out', padding: 'same', activation: 'tanh' }),
  ],
  { name: 'gen' },
);
const disc = nn.sequential(
  [
    nn.conv2d(4, 3, { name: 'disc_conv', strides: 2, padding: 'same' }),
    nn.leakyRelu({ name: 'disc_act', negativeSlope: 0.2 }),
    nn.flatten({ name: 'disc_flatten' }),
    nn.dense(1, { name: 'disc_logit' }),
  ],
  { name: 'disc' },
);
const bce = losses.binaryCrossentropy({ fromLogits: true });
const ganInputs = { real: { dtype: 'f32', shape: [14, 14, 1] }, z: { dtype: 'f32', shape: [16] } } as const;
const labels = (t: Tensor, v: number): Tensor => k.constant(v, t.shape);

export const ganDiscriminator: Model = defineModel({
  name: 'gan_d_step',
  batch: 4,
  inputs: ganInputs,
  forward: ({ real, z }) => ({ real: disc(real!), fake: disc(gen(z!)) }),
  train: {
    loss: (o) => bce.of(labels(o.real!, 1), o.real!).add(bce.of(labels(o.fake!, 0), o.fake!)),
    optimizer: optimizers.adam(),
    trainable: (p) => p.startsWith('disc_'),
  },
});

export const ganGenerator: Model = defineModel({
  name: 'gan_g_step',
  batch: 4,
  inputs: { z: ganInputs.z },
  forward: ({ z }) => ({ fake: disc(gen(z!)) }),
  train: {
    loss: (o) => bce.of(labels(o.fake!, 1), o.fake!),
    optimizer: optimizers.adam(),
    trainable: (p) => p.startsWith('gen_'),
  },
});

/** The text classifiers' first design (Embedding 10000x64 -> recurrent 64 returning its sequence ->
 *  recurrent 32 -> Dense 64 relu -> Dense 10 softmax), which the PyTorch fixtures train-text_lstm.json
 *  and train-text_gru.json were made from: two stacked LSTM or GRU layers, the first feeding every
 *  step to the second. The names are the fixtures'. */
function stackedText(
  name: string,
  recurrent: typeof nn.lstm,
  [embedding, first, second, hidden, out]: readonly string[],
): Model {
  return defineModel({
    name,
    batch: 2,
    inputs: { x: { dtype: 'i32', shape: [50], range: [0, 10000] } },
    targets: { y: { dtype: 'i32', shape: [], range: [0, 10] } },
    forward: nn.sequential([
      nn.embedding(10000, 64, { name: embedding }),
      recurrent(64, { returnSequences: true, name: first }),
      recurrent(32, { name: second }),
      nn.dense(64, { activation: 'relu', name: hidden }),
      nn.dense(10, { activation: 'softmax', name: out }),
    ]),
    train: { loss: losses.sparseCategoricalCrossentropy(), optimizer: optimizers.adam(), metrics: ['accuracy'] },
  });
}

export const textLstm = stackedText('text_lstm', nn.lstm, ['embedding_1', 'lstm_1', 'lstm_2', 'dense_1', 'dense_2']);
export const textGru = stackedText('text_gru', nn.gru, ['embedding_2', 'gru_1', 'gru_2', 'dense_3', 'dense_4']);
