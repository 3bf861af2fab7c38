// A DCGAN for 28x28 digits, with the practice of Radford et al. (2016): a generator from 100 noise
// values through Dense 7*7*256, a Conv2DTranspose of 128 (stride 1) and two strided Conv2DTranspose
// layers of 64 and 1 (BatchNorm and ReLU between, tanh out; TensorFlow's DCGAN tutorial at full width,
// 4x4 kernels), a discriminator of three strided convolutions of 64, 128 and 256 (LeakyReLU 0.2;
// BatchNorm on all but the first), both trained by Adam with beta1 0.5 from 2e-4, the rates decaying
// along a cosine to 5% of that over 30 epochs; batch 32; the real images' target is 0.9 (one-sided
// label smoothing, Salimans et al. 2016); the generator's optimizer keeps a moving average of its
// params (`ema` 0.999), which the samples come from. Kernels of 4 (a multiple of the stride) avoid the
// checkerboard of 5x5 transposed convolutions at stride 2. README.md ("End to end") shows how each
// choice was measured against the 0.7 judge bar.
// Two training steps, each updating one network against the other (binary cross-entropy on logits),
// taking turns as the default export's schedule declares, on the MNIST digits scaled to [-1, 1];
// samples come from `infer`, which normalizes with BatchNorm's running statistics:
//   npx kiln train examples/gan.ts --epochs 30 --save out/gan   # out/gan/samples-<epoch>.png each epoch
import {
  defineModel,
  k,
  losses,
  nn,
  optimizers,
  type Dataset,
  type Layer,
  type Split,
  type Tensor,
} from '../compiler/index.ts';
import { loadMnist } from './data/mnist.ts';
import { cosineDecay, type LearningRate } from '../compiler/dsl/schedules.ts';

export const NOISE = 100;

const bce = losses.binaryCrossentropy({ fromLogits: true });
/** The discriminator's target for real images: 0.9, not 1 (one-sided label smoothing). */
const REAL = 0.9;
const ones = (t: Tensor): Tensor => k.ones(t.shape);
const zeros = (t: Tensor): Tensor => k.zeros(t.shape);

/** Batch 32: 250 turns of the two steps per epoch on the 8,000 training digits. */
export const BATCH = 32;
/** The epochs the rates decay over (npm run e2e trains this many). */
export const EPOCHS = 30;
/** Adam's rate for both networks: 2e-4, down a cosine to 5% of it by the end of EPOCHS epochs. */
const RATE = cosineDecay({ initial: 2e-4, decaySteps: EPOCHS * Math.floor(8000 / BATCH), alpha: 0.05 });

/** The generator's moving average (its optimizer's `ema`); samples come from the average. */
const EMA = 0.999;

const images = { dtype: 'f32', shape: [28, 28, 1] } as const;
const noise = { dtype: 'f32', shape: [NOISE] } as const;

/** The MNIST digits as the discriminator's real images, pixels scaled from [0, 1] to [-1, 1] like the generator's tanh. */
export function mnistReal(): Dataset {
  const d = loadMnist();
  const scale = (s: Split): Split => ({ size: s.size, columns: { real: s.columns.x!.map((v) => 2 * v - 1) } });
  return { name: 'mnist-real', train: scale(d.train), test: scale(d.test) };
}

/** What a DCGAN variant changes (scripts/gan-variants.ts): the generator's width (wide: Dense 7*7*256 ->
 *  Conv2DTranspose 128, stride 1 -> 64 -> 1; narrow: Dense 7*7*128 -> 64 -> 1), the discriminator's two
 *  widths, the batch, Adam's rates. The defaults are this file's DCGAN. */
export interface DcganOptions {
  readonly wide?: boolean;
  readonly wideKernel?: number;
  /** Two or three strided convolutions (BatchNorm on all but the first). */
  readonly discriminatorWidths?: readonly number[];
  readonly batch?: number;
  readonly lrDiscriminator?: LearningRate;
  readonly lrGenerator?: LearningRate;
  /** 'bce': binary cross-entropy on logits (this file's); 'ls': least squares (Mao et al. 2017). */
  readonly loss?: 'bce' | 'ls';
  /** The generator optimizer's moving average of its params (`ema`): this file's 0.999 when the key is
   *  absent; `ema: undefined` given explicitly keeps none. */
  readonly ema?: number;
}

/** The DCGAN's networks, its sampling model, its two steps and the program that schedules them. */
export function buildDcgan(o: DcganOptions = {}) {
  const batch = o.batch ?? BATCH;
  const gan = o.loss === 'ls' ? losses.meanSquaredError() : bce;
  const wide = o.wide ?? true;
  // made where the generator uses them, so its layers are numbered in their order
  const upsample = (): Layer[] => [
    nn.conv2dTranspose(64, 4, { strides: 2, padding: 'same', useBias: false }),
    nn.batchNorm(),
    nn.activation('relu'),
    nn.conv2dTranspose(1, 4, { strides: 2, padding: 'same', useBias: false, activation: 'tanh' }),
  ];
  const width = wide ? 256 : 128;
  const generator = nn.sequential(
    [
      nn.dense(7 * 7 * width, { useBias: false }),
      nn.batchNorm(),
      nn.activation('relu'),
      nn.reshape([7, 7, width]),
      ...(wide
        ? [
            nn.conv2dTranspose(128, o.wideKernel ?? 4, { strides: 1, padding: 'same', useBias: false }),
            nn.batchNorm(),
            nn.activation('relu'),
          ]
        : []),
      ...upsample(),
    ],
    { name: 'generator' },
  );
  const [c1, ...rest] = o.discriminatorWidths ?? [64, 128, 256];
  const discriminator = nn.sequential(
    [
      nn.conv2d(c1!, 4, { strides: 2, padding: 'same' }),
      nn.leakyRelu({ negativeSlope: 0.2 }),
      ...rest.flatMap((c) => [
        nn.conv2d(c, 4, { strides: 2, padding: 'same', useBias: false }),
        nn.batchNorm(),
        nn.leakyRelu({ negativeSlope: 0.2 }),
      ]),
      nn.flatten(),
      nn.dense(1),
    ],
    { name: 'discriminator' },
  );

  /** Sampling: noise -> images in [-1, 1]. */
  const ganGenerator = defineModel({ name: 'gan_generator', batch, inputs: { noise }, forward: generator });

  /** The discriminator's step: real images are 0.9 (smoothed), generated ones 0; only the discriminator learns. */
  const ganDiscriminatorStep = defineModel({
    name: 'gan_discriminator_step',
    batch,
    inputs: { real: images, noise },
    forward: ({ real, noise }) => ({ real: discriminator(real!), fake: discriminator(generator(noise!)) }),
    train: {
      loss: ({ real, fake }) => gan.of(ones(real!).mul(REAL), real!).add(gan.of(zeros(fake!), fake!)),
      optimizer: optimizers.adam({ learningRate: o.lrDiscriminator ?? RATE, beta1: 0.5 }),
      trainable: (p) => discriminator.owns(p),
    },
  });

  /** The generator's step: it learns to make the discriminator say 1 on its images. */
  const ganGeneratorStep = defineModel({
    name: 'gan_generator_step',
    batch,
    inputs: { noise },
    forward: ({ noise }) => discriminator(generator(noise!)),
    train: {
      loss: ({ y }) => gan.of(ones(y!), y!),
      optimizer: optimizers.adam({ learningRate: o.lrGenerator ?? RATE, beta1: 0.5, ema: 'ema' in o ? o.ema : EMA }),
      trainable: (p) => generator.owns(p),
    },
  });

  /** The GAN as one program: `infer` generates from noise; the discriminator and generator steps take
   *  turns on each batch of real digits, with fresh standard-normal noise for every step. */
  const dcgan = defineModel({
    name: 'dcgan',
    batch,
    inputs: { noise },
    forward: generator,
    schedule: {
      steps: [
        { name: 'discriminator_step', model: ganDiscriminatorStep },
        { name: 'generator_step', model: ganGeneratorStep },
      ],
      draw: { noise: 'normal' },
      preview: { rows: batch / 8, cols: 8, range: [-1, 1] },
    },
    dataset: mnistReal,
  });
  return { generator, discriminator, ganGenerator, ganDiscriminatorStep, ganGeneratorStep, dcgan };
}

export const { generator, discriminator, ganGenerator, ganDiscriminatorStep, ganGeneratorStep, dcgan } = buildDcgan();

export default dcgan;
