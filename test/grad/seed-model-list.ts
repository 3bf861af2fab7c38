// The seed models the PyTorch training fixtures cover, with the batch each fixture uses.
import { loadModels, type Model } from '../../compiler/dsl/model.ts';
import type { Fill } from './train-fixtures.ts';
import * as fx from './fixture-models.ts';

export interface SeedModel {
  /** Fixture name: test/fixtures/train-<name>.json. */
  readonly name: string;
  readonly load: () => Promise<Model>;
  readonly batch: number;
  /** How each input and target is filled (default: uniform f32 in [-1, 1)). */
  readonly fills: Readonly<Record<string, Fill>>;
}

/** The model `name` exported by an example file (or its only model). */
const fromExample = (file: string, name?: string) => async (): Promise<Model> => {
  const models = await loadModels(new URL(`../../examples/${file}`, import.meta.url).pathname);
  const m = name ? models[name] : Object.values(models)[0];
  if (!m) throw new Error(`examples/${file} exports no model '${name}'; it has ${Object.keys(models).join(', ')}`);
  return m;
};

const inline = (m: Model) => async (): Promise<Model> => m;
const digits = { x: { kind: 'uniform', lo: 0, hi: 1 }, y: { kind: 'ids', classes: 10 } } as const;
const text = { x: { kind: 'ids', classes: 10000 }, y: { kind: 'ids', classes: 10 } } as const;

export const SEED_MODELS: readonly SeedModel[] = [
  // the seed models of examples/
  { name: 'xor', load: fromExample('xor.ts'), batch: 4, fills: { x: { kind: 'binary' }, y: { kind: 'binary' } } },
  { name: 'mnist_cnn', load: fromExample('mnist-cnn.ts'), batch: 2, fills: digits },
  // small versions (test/grad/fixture-models.ts): a CNN with BatchNorm, dropout and strided 'same'
  // convolutions, and the GAN steps (examples/gan.ts's DCGAN is too big for the interpreter in a
  // unit test: about 10^8 multiply-adds per step; COMPILED_SEED_MODELS checks it on WebAssembly)
  { name: 'small_cnn', load: inline(fx.mnistCnn), batch: 4, fills: digits },
  { name: 'gan_d_step', load: inline(fx.ganDiscriminator), batch: 4, fills: {} },
  { name: 'gan_g_step', load: inline(fx.ganGenerator), batch: 4, fills: {} },
  // the text classifiers' first design, two stacked LSTM or GRU layers (examples/text-classifier.ts
  // now pools one layer's outputs over time; no PyTorch fixture covers that design yet)
  { name: 'text_lstm', load: inline(fx.textLstm), batch: 2, fills: text },
  { name: 'text_gru', load: inline(fx.textGru), batch: 2, fills: text },
];

/** examples/gan.ts's DCGAN steps at narrow widths, without the generator's moving average
 *  (`buildDcgan({ wide: false, discriminatorWidths: [32, 64, 128], ema: undefined })`): generator
 *  Dense 7·7·128 -> Conv2DTranspose 64 -> 1, discriminator 32/64/128 (the default's three
 *  convolutions at half width); the same layer kinds as the default's, about 2·10^7 multiply-adds per
 *  example: their fixtures (test/fixtures/train-gan_full_*.json) are checked on the compiled
 *  WebAssembly program in float32 by test/grad/gan-full.test.ts, as the float64 interpreter is too
 *  slow for a unit test. Batch 2: the smallest at which the generator's BatchNorm layers have a batch
 *  variance. Fixtures of other configurations pass the loss and every gradient at the initial
 *  weights, but after three steps a check or two can miss in float32, the drift that test's header
 *  describes: the wide generator with the discriminator 64/128 (measured once) missed Momentum's
 *  projection of the discriminator's second kernel (1.5e-5 against a bound of 9.6e-6) and RMSprop's
 *  entry 975 of the generator's first BatchNorm beta (-0.0237 against -0.0260); the narrow
 *  discriminator 32/64 under the layer numbers it gets after the default's third convolution missed
 *  Nesterov's first projection of the generator's Dense kernel (9.0e-4 against 3.7e-4). */
const narrowDcgan = async () =>
  (await import('../../examples/gan.ts')).buildDcgan({
    wide: false,
    discriminatorWidths: [32, 64, 128],
    ema: undefined,
  });

export const COMPILED_SEED_MODELS: readonly SeedModel[] = [
  { name: 'gan_full_d_step', load: async () => (await narrowDcgan()).ganDiscriminatorStep, batch: 2, fills: {} },
  { name: 'gan_full_g_step', load: async () => (await narrowDcgan()).ganGeneratorStep, batch: 2, fills: {} },
];
