// Short versions of `npm run e2e` (fixed seeds, a few hundred steps at most): the text classifiers
// and the bag-of-words baseline fit a small part of the fortunes split, the MNIST MLP's loss falls
// under every optimizer, and the GAN's schedule trains its entries in turn with finite losses and
// writes its grid of samples.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import type { Dataset, Split } from '../../compiler/data/dataset.ts';
import type { Model } from '../../compiler/dsl/model.ts';
import { generate, judge } from '../../compiler/train/judge.ts';
import { train, type Session } from '../../compiler/train/loop.ts';
import { programSession, trainScheduled } from '../../compiler/train/schedule.ts';
import { createSession } from '../../compiler/train/session.ts';
import { gatherBatch } from '../../compiler/data/dataset.ts';
import { loadFortunes } from '../../examples/data/fortunes.ts';
import { loadMnist } from '../../examples/data/mnist.ts';
import dcgan, { ganGeneratorStep, mnistReal } from '../../examples/gan.ts';
import * as mlp from '../../examples/mnist-mlp.ts';
import textBow from '../../examples/text-bow.ts';
import textGru from '../../examples/text-gru.ts';
import textLstm from '../../examples/text-lstm.ts';
import { WORD_VECTORS, WORD_VECTORS_PARAM } from '../../examples/text-classifier.ts';
import { BOW_KERNEL, bowWordVectors } from '../../scripts/bow-vectors.ts';
import { freezePredicate } from '../../compiler/train/init.ts';
import type { NamedArray } from '../../runtime/safetensors.ts';

const KILN = join(import.meta.dirname, '../../bin/kiln.js');
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Trains `steps` steps on the first `size` examples of the training split, from the params in
 *  `init` (the rest at their initializers) and with the params `freeze` picks fixed; returns the loss
 *  of every step and the session. */
async function trained(
  model: Model,
  data: Dataset,
  size: number,
  steps: number,
  seed = 5,
  opts: { init?: Record<string, NamedArray>; freeze?: (param: string) => boolean } = {},
): Promise<{ losses: number[]; session: Session }> {
  const s = await createSession(model, { target: 'wasm', ...(opts.freeze ? { freeze: opts.freeze } : {}) });
  if (opts.init) s.load(opts.init);
  const seen: number[] = [];
  const recording: Session = {
    ...s,
    step: (b) => {
      const l = s.step(b);
      seen.push(l);
      return l;
    },
  };
  const part: Split = {
    size,
    columns: gatherBatch(
      data.train,
      Int32Array.from({ length: size }, (_, i) => i),
      0,
      size,
    ),
  };
  const epochs = Math.ceil(steps / Math.floor(size / s.batch));
  train(recording, { ...data, train: part, test: part }, { epochs, seed });
  return { losses: seen.slice(0, steps), session: s };
}

const losses = async (model: Model, data: Dataset, size: number, steps: number, seed = 5): Promise<number[]> =>
  (await trained(model, data, size, steps, seed)).losses;

describe('text classifiers on fortunes (256 training texts)', () => {
  const data = loadFortunes();
  // Each model fits a small part of the split: the mean loss of its last 16 steps is under a third of
  // its first step's (ln 10 = 2.3 at the start; the pooled recurrent models fall below 2 within 8 steps).
  for (const [name, model, steps] of [
    ['text_bow', textBow, 96],
    ['text_lstm', textLstm, 160],
    ['text_gru', textGru, 160],
  ] as const) {
    it(`${name}: ${steps} steps cut the loss by 3x`, async () => {
      const l = await losses(model, data, 256, steps);
      expect(l).toHaveLength(steps);
      expect(l[0]).toBeGreaterThan(2);
      expect(mean(l.slice(-16))).toBeLessThan(l[0]! / 3);
    }, 180_000);
  }

  it("text_lstm from the bag-of-words MLP's word vectors, frozen (e2e's setting): they load, stay fixed, and 160 steps cut the loss by 3x", async () => {
    const bow = await trained(textBow, data, 256, 96);
    const vectors = bowWordVectors(bow.session.params());
    expect(Object.keys(vectors)).toEqual([WORD_VECTORS_PARAM]);
    const lstm = await trained(textLstm, data, 256, 160, 5, { init: vectors, freeze: freezePredicate([WORD_VECTORS]) });
    const after = lstm.session.params();
    expect(after[WORD_VECTORS_PARAM]!.data).toEqual(bow.session.params()[BOW_KERNEL]!.data);
    expect(after[WORD_VECTORS_PARAM]!.data.some((v) => v !== 0)).toBe(true);
    expect(lstm.losses[0]).toBeGreaterThan(2);
    expect(mean(lstm.losses.slice(-16))).toBeLessThan(lstm.losses[0]! / 3);
  }, 180_000);

  it('bowWordVectors refuses weights without the bag-of-words kernel (K7011)', () => {
    expect(() => bowWordVectors({}, 'x.safetensors')).toThrow(
      /K7011.*x\.safetensors holds no 'bag_of_words_1\/kernel'/,
    );
  });
});

describe('the MNIST MLP (BatchNorm, Dropout, L2) under each optimizer', () => {
  const data = loadMnist();
  for (const name of ['sgd', 'momentum', 'nesterov', 'rmsprop', 'adam', 'adagrad', 'adadelta']) {
    it(`${name}: 100 steps cut the loss by 3x`, async () => {
      const model = (mlp as unknown as Record<string, Model>)[`mnist_mlp_${name}`]!;
      const l = await losses(model, data, 6400, 100, 3);
      expect(mean(l.slice(-20))).toBeLessThan(mean(l.slice(0, 5)) / 3);
    });
  }
});

describe('the DCGAN schedule', () => {
  it('takes turns: the discriminator step trains only the discriminator, the generator step only the generator, each with its counter', async () => {
    const s = await programSession(dcgan);
    expect([...s.entries.keys()]).toEqual(['infer', 'discriminator_step', 'generator_step']);
    const before = s.params();
    const one = {
      ...dcgan,
      def: { ...dcgan.def, schedule: { ...dcgan.def.schedule!, steps: [dcgan.def.schedule!.steps[0]!] } },
    };
    trainScheduled(s, one, mnistReal(), { epochs: 1, seed: 1, maxTurns: 1 });
    const afterD = s.params();
    const changed = (a: typeof before, b: typeof before, name: string): boolean =>
      a[name]!.data.some((v, i) => v !== b[name]!.data[i]);
    expect(changed(before, afterD, 'conv2d_1/kernel')).toBe(true); // the discriminator's first convolution
    expect(changed(before, afterD, 'dense_1/kernel')).toBe(false); // the generator's dense layer
    expect([...afterD['discriminator_step/iterations']!.data, ...afterD['generator_step/iterations']!.data]).toEqual([
      1, 0,
    ]);
  }, 120_000);

  it("the generator's optimizer keeps its moving average (the ema option) in the compiled step, and samples come from it", async () => {
    // examples/gan.ts's DCGAN: `ema: 0.999` on the generator's Adam
    expect(ganGeneratorStep.def.train!.optimizer.ema).toBe(0.999);
    const s = await programSession(dcgan);
    const data = mnistReal();
    const tracked = ['dense_1/kernel', 'batch_normalization_1/gamma', 'conv2d_transpose_2/kernel'];
    for (const n of tracked) expect(s.params()[`${n}/ema`], n).toBeDefined();
    expect(Object.keys(s.params()).filter((n) => n.startsWith('conv2d_1/') && n.endsWith('/ema'))).toEqual([]); // the discriminator's optimizer keeps none
    // The reference (float64) from the trajectory of each param: ema <- ema + (1 - d) * (p - ema), d = min(0.999, (t - 1) / (t + 9)).
    const avg: Record<string, number[]> = {};
    for (let t = 1; t <= 3; t++) {
      trainScheduled(s, dcgan, data, { epochs: 1, seed: t, maxTurns: 1 });
      const p = s.params();
      const d = Math.min(0.999, (t - 1) / (t + 9));
      for (const n of tracked) {
        avg[n] = Array.from(p[n]!.data, (v, i) => (avg[n]?.[i] ?? 0) + (1 - d) * (v - (avg[n]?.[i] ?? 0)));
        const got = p[`${n}/ema`]!.data;
        const worst = avg[n].reduce((w, v, i) => Math.max(w, Math.abs(v - got[i]!)), 0);
        expect(worst, `${n} after ${t} steps`).toBeLessThan(1e-6);
      }
    }
    const live = s.params();
    expect(live['dense_1/kernel']!.data.some((v, i) => v !== live['dense_1/kernel/ema']!.data[i])).toBe(true);
    const averaged = generate(s, dcgan, 64, 7);
    expect(s.params()['dense_1/kernel']!.data).toEqual(live['dense_1/kernel']!.data); // the trained values are back
    const trained = generate(s, dcgan, 64, 7, false);
    expect(averaged.some((v, i) => v !== trained[i])).toBe(true);
    // the averaged samples are the trained model's `infer` with the averages loaded in place of the params
    s.load(
      Object.fromEntries(
        Object.keys(live)
          .filter((n) => live[`${n}/ema`])
          .map((n) => [n, live[`${n}/ema`]!]),
      ),
    );
    expect(generate(s, dcgan, 64, 7, false)).toEqual(averaged);
  }, 120_000);

  it('kiln train runs two turns with finite losses and writes the grid of samples and the params', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-gan-'));
    const out = execFileSync(
      process.execPath,
      [KILN, 'train', 'examples/gan.ts', '--steps', '2', '--json', '--no-typecheck', '--save', dir],
      { encoding: 'utf8' },
    );
    const line = JSON.parse(out.trim()) as { losses: Record<string, number>; turns: number; samples: string };
    expect(line.turns).toBe(2);
    expect(Object.keys(line.losses)).toEqual(['discriminator_step', 'generator_step']);
    for (const v of Object.values(line.losses)) expect(Number.isFinite(v) && v > 0).toBe(true);
    const png = PNG.sync.read(readFileSync(line.samples));
    expect([png.width, png.height]).toEqual([8 * 29 + 1, 4 * 29 + 1]); // 4 rows of 8 digits (batch 32) of 28 pixels, 1-pixel borders
    expect(existsSync(join(dir, 'weights.safetensors'))).toBe(true);
  }, 120_000);

  it('the judge counts confident samples and the spread of classes', () => {
    // A stand-in classifier: sample i is class i % 4, with probability 0.95 for even i and 0.6 for odd i.
    const classifier = {
      batch: 4,
      predict: (cols: Record<string, Float32Array | Int32Array>) => {
        const x = cols.x!;
        const probs = new Float32Array(4 * 10);
        for (let b = 0; b < 4; b++) {
          const i = x[b]!;
          probs.fill((1 - (i % 2 === 0 ? 0.95 : 0.6)) / 9, b * 10, (b + 1) * 10);
          probs[b * 10 + (i % 4)] = i % 2 === 0 ? 0.95 : 0.6;
        }
        return { y: probs };
      },
    } as unknown as Session;
    const j = judge(
      classifier,
      'x',
      Float32Array.from({ length: 10 }, (_, i) => i),
      10,
    );
    expect(j.confident).toBe(0.5);
    expect(j.spread.slice(0, 4)).toEqual([0.3, 0.3, 0.2, 0.2]);
    expect(j.largestClass).toBe(0.3);
  });
});
