// The seed models of examples/ as differential test cases: each exported model, at a small batch,
// with its entry graphs (infer, and train_step when it trains), its initial params (initParams)
// and seeded batches. Shared by the Kernel IR (test/compiler/seed-models.test.ts) and WebAssembly
// (test/targets/models.test.ts) differential tests.
import { expect } from 'vitest';
import type { Graph } from '../../ir/graph.ts';
import { initParams } from '../../ir/init.ts';
import type { Tensor } from '../../ir/types.ts';
import { loadModels, type Model } from '../../compiler/dsl/model.ts';
import { modelEntries } from '../../compiler/pipeline.ts';
import { randomTensor, rng } from '../grad/check-vjp.ts';
import { runtimeTensor } from '../targets/wasm-helpers.ts';

export interface SeedCase {
  /** examples/<file> */
  readonly file: string;
  /** The model's name (defineModel's `name`). */
  readonly model: string;
  readonly batch: number;
  /** i32 inputs and targets: ids in [0, classes). */
  readonly ids?: Readonly<Record<string, number>>;
  /** f32 inputs and targets: uniform in [lo, hi). */
  readonly range?: readonly [number, number];
  /** Most relative error |got - want| / (1 + |want|) allowed after one entry call. */
  readonly tol: number;
  /** The same bound on WGSL where it differs: its tiled GEMMs sum in another order than the
   *  interpreter, and Adam's m / sqrt(v) turns last-bit differences in near-zero gradient entries
   *  into param differences of a fraction of the learning rate. The step as a whole is still held
   *  to expectUpdate's 5 % (models.test.ts). */
  readonly gpuTol?: number;
  /** Training steps in a row where a test runs several (each costs a graph-interpreter step). */
  readonly steps: number;
}

const TEXT = { x: 10000, y: 10 };

/** Every model exported by examples/*.ts. The GAN's convolutions (about 2·10^7 multiply-adds per
 *  example per step) run at batch 1 and one step, the recurrent models two steps in a row where a
 *  test runs several, so that the graph interpreter (the oracle) keeps each test file near a
 *  minute: it takes about 10 s for the GAN generator's step at batch 1 on this machine. */
export const SEED_CASES: readonly SeedCase[] = [
  { file: 'xor.ts', model: 'xor', batch: 4, range: [0, 1], tol: 1e-5, steps: 3 },
  {
    file: 'mnist-cnn.ts',
    model: 'mnist_cnn',
    batch: 2,
    range: [0, 1],
    ids: { y: 10 },
    tol: 1e-4,
    gpuTol: 5e-4,
    steps: 3,
  },
  // The transfer-learning example: the same CNN; digits_5_9_frozen's step has frozen convolutions (no filter gradients).
  { file: 'mnist-finetune.ts', model: 'digits_0_4', batch: 2, range: [0, 1], ids: { y: 10 }, tol: 1e-4, steps: 1 },
  { file: 'mnist-finetune.ts', model: 'digits_5_9', batch: 2, range: [0, 1], ids: { y: 10 }, tol: 1e-4, steps: 1 },
  {
    file: 'mnist-finetune.ts',
    model: 'digits_5_9_frozen',
    batch: 2,
    range: [0, 1],
    ids: { y: 10 },
    tol: 1e-4,
    steps: 1,
  },
  {
    file: 'mnist-finetune.ts',
    model: 'digits_5_9_scratch',
    batch: 2,
    range: [0, 1],
    ids: { y: 10 },
    tol: 1e-4,
    steps: 1,
  },
  { file: 'text-lstm.ts', model: 'text_lstm', batch: 2, ids: TEXT, tol: 1e-4, steps: 2 },
  { file: 'text-gru.ts', model: 'text_gru', batch: 2, ids: TEXT, tol: 1e-4, steps: 2 },
  { file: 'gan.ts', model: 'gan_generator', batch: 1, tol: 1e-4, steps: 1 },
  { file: 'gan.ts', model: 'gan_discriminator_step', batch: 1, tol: 1e-4, steps: 1 },
  { file: 'gan.ts', model: 'gan_generator_step', batch: 1, tol: 1e-4, steps: 1 },
  // the scheduled GAN: its infer entry (its steps are the two cases above, with their own counters)
  { file: 'gan.ts', model: 'dcgan', batch: 1, tol: 1e-4, steps: 1 },
  { file: 'text-rnn.ts', model: 'text_rnn', batch: 2, ids: TEXT, tol: 1e-4, steps: 2 },
  { file: 'text-torch.ts', model: 'text_torch_lstm', batch: 2, ids: TEXT, tol: 1e-4, steps: 1 },
  { file: 'text-bow.ts', model: 'text_bow', batch: 2, ids: TEXT, tol: 1e-4, steps: 2 },
  ...['sgd', 'momentum', 'nesterov', 'rmsprop', 'adam', 'adagrad', 'adadelta'].map(
    (o) =>
      ({
        file: 'mnist-mlp.ts',
        model: `mnist_mlp_${o}`,
        batch: 8,
        range: [0, 1],
        ids: { y: 10 },
        tol: 1e-4,
        steps: 2,
      }) as const,
  ),
];

export async function seedModel(c: SeedCase): Promise<Model> {
  const models = await loadModels(new URL(`../../examples/${c.file}`, import.meta.url).pathname);
  const m = models[c.model];
  if (!m) throw new Error(`examples/${c.file} exports no model '${c.model}'; it has ${Object.keys(models).join(', ')}`);
  return m;
}

/** `infer`, and `train_step` when the model trains, at the case's batch. */
export function seedEntries(m: Model, c: SeedCase): { name: string; graph: Graph }[] {
  return modelEntries(m, { train: m.def.train !== undefined, batch: c.batch });
}

/** Initial values of every param of the entries (weights, optimizer slots, counters). */
export function seedParams(entries: readonly { graph: Graph }[]): Record<string, Tensor> {
  return initParams({ params: entries.flatMap((e) => e.graph.params) });
}

/** A seeded batch for `g`'s inputs (f32 in the case's range, ids below their class count). */
export function seedBatch(g: Graph, c: SeedCase, seed: number): Record<string, Tensor> {
  const next = rng(seed);
  const [lo, hi] = c.range ?? [-1, 1];
  return Object.fromEntries(
    g.inputs.map((i) => {
      if (i.type.dtype === 'i32' && c.ids?.[i.name] === undefined)
        throw new Error(`seed case ${c.model}: give the id range of input '${i.name}'`);
      const t = randomTensor(
        i.type,
        next,
        i.type.dtype === 'i32' ? 0 : lo,
        i.type.dtype === 'i32' ? c.ids![i.name]! : hi,
      );
      return [i.name, runtimeTensor(t)];
    }),
  );
}

/** Relative L2 error allowed in a step's update of an assigned param (expectUpdate). */
export const UPDATE_TOL = 0.05;

/** The step changed a param as the oracle did: |(got - before) - (want - before)|_2 <=
 *  UPDATE_TOL * |want - before|_2. Elementwise tolerances (1 + |w|) relative hide a missing or
 *  stale optimizer update (lr 1e-3 or 1e-4); this does not: such a step is about 100 % off. */
export function expectUpdate(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  before: ArrayLike<number>,
  what: string,
): void {
  let diff = 0,
    size = 0;
  for (let i = 0; i < want.length; i++) {
    diff += (got[i]! - want[i]!) ** 2;
    size += (want[i]! - before[i]!) ** 2;
  }
  expect(
    Math.sqrt(diff),
    `${what}: update off by ${Math.sqrt(diff)} for a step of size ${Math.sqrt(size)}`,
  ).toBeLessThanOrEqual(UPDATE_TOL * Math.sqrt(size) + 1e-30);
}
