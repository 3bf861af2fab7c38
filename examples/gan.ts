// A DCGAN for 28x28 digits, with the practice of Radford et al. (2016): a generator from 100 noise
// values through Dense 7*7*128 and two strided Conv2DTranspose layers (BatchNorm and ReLU between,
// tanh out), a discriminator of two strided convolutions (LeakyReLU 0.2; BatchNorm on the second, not
// on the first), both trained by Adam at 2e-4 with beta1 0.5; the real images' target is 0.9 (one-sided
// label smoothing, Salimans et al. 2016). Kernels of 4 (a multiple of the stride) avoid the
// checkerboard of 5x5 transposed convolutions at stride 2.
// Two training steps, each updating one network against the other (binary cross-entropy on logits),
// taking turns as the default export's schedule declares, on the MNIST digits scaled to [-1, 1];
// samples come from `infer`, which normalizes with BatchNorm's running statistics:
//   npx kiln train examples/gan.ts --epochs 10 --save out/gan   # out/gan/samples-<epoch>.png each epoch
import { defineModel, k, losses, nn, optimizers, type Dataset, type Split, type Tensor } from '../compiler/index.ts';
import { loadMnist } from './data/mnist.ts';

export const NOISE = 100;
const BATCH = 64;

export const generator = nn.sequential(
  [
    nn.dense(7 * 7 * 128, { useBias: false }),
    nn.batchNorm(),
    nn.activation('relu'),
    nn.reshape([7, 7, 128]),
    nn.conv2dTranspose(64, 4, { strides: 2, padding: 'same', useBias: false }),
    nn.batchNorm(),
    nn.activation('relu'),
    nn.conv2dTranspose(1, 4, { strides: 2, padding: 'same', useBias: false, activation: 'tanh' }),
  ],
  { name: 'generator' },
);

export const discriminator = nn.sequential(
  [
    nn.conv2d(32, 4, { strides: 2, padding: 'same' }),
    nn.leakyRelu({ negativeSlope: 0.2 }),
    nn.conv2d(64, 4, { strides: 2, padding: 'same', useBias: false }),
    nn.batchNorm(),
    nn.leakyRelu({ negativeSlope: 0.2 }),
    nn.flatten(),
    nn.dense(1),
  ],
  { name: 'discriminator' },
);

const bce = losses.binaryCrossentropy({ fromLogits: true });
/** The discriminator's target for real images: 0.9, not 1 (one-sided label smoothing). */
const REAL = 0.9;
const ones = (t: Tensor): Tensor => k.ones(t.shape);
const zeros = (t: Tensor): Tensor => k.zeros(t.shape);

const images = { dtype: 'f32', shape: [28, 28, 1] } as const;
const noise = { dtype: 'f32', shape: [NOISE] } as const;

/** Sampling: noise -> images in [-1, 1]. */
export const ganGenerator = defineModel({ name: 'gan_generator', batch: BATCH, inputs: { noise }, forward: generator });

/** The discriminator's step: real images are 0.9 (smoothed), generated ones 0; only the discriminator learns. */
export const ganDiscriminatorStep = defineModel({
  name: 'gan_discriminator_step',
  batch: BATCH,
  inputs: { real: images, noise },
  forward: ({ real, noise }) => ({ real: discriminator(real!), fake: discriminator(generator(noise!)) }),
  train: {
    loss: ({ real, fake }) => bce.of(ones(real!).mul(REAL), real!).add(bce.of(zeros(fake!), fake!)),
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
