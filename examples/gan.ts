// A DCGAN for 28x28 digits (TensorFlow's tutorial at half its widths, so an epoch takes seconds, not
// minutes, on one CPU core): a generator from 100 noise values through Dense 7*7*128 and three
// Conv2DTranspose layers, and a discriminator of two strided convolutions.
// Two training steps, each updating one network against the other (binary cross-entropy on logits),
// taking turns as the default export's schedule declares, on the MNIST digits scaled to [-1, 1]:
//   npx kiln train examples/gan.ts --epochs 10 --save out/gan   # out/gan/samples-<epoch>.png each epoch
import { defineModel, k, losses, nn, optimizers, type Dataset, type Split, type Tensor } from '../compiler/index.ts';
import { loadMnist } from './data/mnist.ts';

export const NOISE = 100;
const BATCH = 64;

export const generator = nn.sequential(
  [
    nn.dense(7 * 7 * 128, { useBias: false }),
    nn.batchNorm(),
    nn.leakyRelu(),
    nn.reshape([7, 7, 128]),
    nn.conv2dTranspose(64, 5, { strides: 1, padding: 'same', useBias: false }),
    nn.batchNorm(),
    nn.leakyRelu(),
    nn.conv2dTranspose(32, 5, { strides: 2, padding: 'same', useBias: false }),
    nn.batchNorm(),
    nn.leakyRelu(),
    nn.conv2dTranspose(1, 5, { strides: 2, padding: 'same', useBias: false, activation: 'tanh' }),
  ],
  { name: 'generator' },
);

export const discriminator = nn.sequential(
  [
    nn.conv2d(32, 5, { strides: 2, padding: 'same' }),
    nn.leakyRelu(),
    nn.dropout(0.3),
    nn.conv2d(64, 5, { strides: 2, padding: 'same' }),
    nn.leakyRelu(),
    nn.dropout(0.3),
    nn.flatten(),
    nn.dense(1),
  ],
  { name: 'discriminator' },
);

const bce = losses.binaryCrossentropy({ fromLogits: true });
const ones = (t: Tensor): Tensor => k.ones(t.shape);
const zeros = (t: Tensor): Tensor => k.zeros(t.shape);

const images = { dtype: 'f32', shape: [28, 28, 1] } as const;
const noise = { dtype: 'f32', shape: [NOISE] } as const;

/** Sampling: noise -> images in [-1, 1]. */
export const ganGenerator = defineModel({ name: 'gan_generator', batch: BATCH, inputs: { noise }, forward: generator });

/** The discriminator's step: real images are 1, generated ones 0; only the discriminator learns. */
export const ganDiscriminatorStep = defineModel({
  name: 'gan_discriminator_step',
  batch: BATCH,
  inputs: { real: images, noise },
  forward: ({ real, noise }) => ({ real: discriminator(real!), fake: discriminator(generator(noise!)) }),
  train: {
    loss: ({ real, fake }) => bce.of(ones(real!), real!).add(bce.of(zeros(fake!), fake!)),
    optimizer: optimizers.adam({ learningRate: 2e-4, beta1: 0.5 }),
    trainable: (p) => discriminator.owns(p),
  },
});

/** The generator's step: it learns to make the discriminator say 1 on its images. */
export const ganGeneratorStep = defineModel({
  name: 'gan_generator_step',
  batch: BATCH,
  inputs: { noise },
  forward: ({ noise }) => discriminator(generator(noise!)),
  train: {
    loss: ({ y }) => bce.of(ones(y!), y!),
    optimizer: optimizers.adam({ learningRate: 2e-4, beta1: 0.5 }),
    trainable: (p) => generator.owns(p),
  },
});

/** The MNIST digits as the discriminator's real images, pixels scaled from [0, 1] to [-1, 1] like the generator's tanh. */
export function mnistReal(): Dataset {
  const d = loadMnist();
  const scale = (s: Split): Split => ({ size: s.size, columns: { real: s.columns.x!.map((v) => 2 * v - 1) } });
  return { name: 'mnist-real', train: scale(d.train), test: scale(d.test) };
}

/** The GAN as one program: `infer` generates from noise; the discriminator and generator steps take
 *  turns on each batch of real digits, with fresh standard-normal noise for every step. */
export const dcgan = defineModel({
  name: 'dcgan',
  batch: BATCH,
  inputs: { noise },
  forward: generator,
  schedule: {
    steps: [
      { name: 'discriminator_step', model: ganDiscriminatorStep },
      { name: 'generator_step', model: ganGeneratorStep },
    ],
    draw: { noise: 'normal' },
    preview: { rows: 8, cols: 8, range: [-1, 1] },
  },
  dataset: mnistReal,
});

export default dcgan;
