// `npm run e2e [-- --json] [-- --only NAME,...] [-- --out DIR]`: the full training runs of the seed
// models through `kiln train` (a child process each, its --json lines parsed), with each run's bar.
// With --json, one line per result: { model, target, metric, value, baseline, epochs, seconds, bar, pass }.
// The GAN's judge is the MNIST CNN this script trains first (run `mnist_cnn` with `dcgan`);
// `--judge DIR` only judges a GAN saved by `kiln train examples/gan.ts --save DIR` (the CNN of --out);
// `--noise-seeds 1,2,3` with it also judges samples drawn with other noise seeds than the e2e's
// (JUDGE_NOISE_SEED).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { decodeSafetensors } from '../runtime/safetensors.ts';
import { generate, judge, type Judgement } from '../compiler/train/judge.ts';
import type { Model } from '../compiler/dsl/model.ts';
import type { Session } from '../compiler/train/loop.ts';
import { createSession } from '../compiler/train/session.ts';
import { programSession, type ProgramSession } from '../compiler/train/schedule.ts';
import mnistCnn from '../examples/mnist-cnn.ts';
import dcgan, { EPOCHS as GAN_EPOCHS } from '../examples/gan.ts';
import { curveSpec, curveText, DECIDING, finetuneExperiment, meanSd } from '../examples/mnist-finetune.ts';
import { WORD_VECTORS } from '../examples/text-classifier.ts';
import { writeBowWordVectors } from './bow-vectors.ts';
import { renderSvg } from '../compiler/train/plot.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const KILN = join(ROOT, 'bin/kiln.js');

export interface Result {
  readonly model: string;
  readonly target: string;
  readonly metric: string;
  readonly value: number;
  /** What the value is compared with (a simpler model's figure, the majority class), where there is one. */
  readonly baseline?: number;
  /** The standard deviation over seeds, where the value is a mean over seeds. */
  readonly sd?: number;
  readonly epochs: number;
  readonly seconds: number;
  /** The bar, as text (`>= 0.98`), and whether the value clears it. */
  readonly bar: string;
  readonly pass: boolean;
}

interface Context {
  readonly out: string;
  /** Results of the runs so far, by model name, for baselines and the GAN's judge. */
  readonly done: Map<string, Result>;
  readonly say: (r: Result) => void;
}

interface Run {
  readonly name: string;
  /** A run whose results this one needs (its baseline, its saved weights): run first when picked with --only. */
  readonly needs?: string;
  readonly run: (ctx: Context) => Promise<void> | void;
}

interface EpochLine {
  readonly epoch: number;
  /** The test split's accuracy (kiln train --json's `test_accuracy`). */
  readonly test_accuracy?: number;
  readonly seconds: number;
}

/** `kiln train FILE --json ...`; returns its epoch lines and the wall-clock seconds. */
function kilnTrain(file: string, args: readonly string[]): { lines: EpochLine[]; seconds: number } {
  const t0 = performance.now();
  const out = execFileSync(process.execPath, [KILN, 'train', file, '--json', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  const lines = out
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as EpochLine);
  return { lines, seconds: (performance.now() - t0) / 1000 };
}

/** An accuracy run: the test accuracy after the last epoch (the mean over `seeds`, one run each,
 *  default seed 1), against `min` (and above `baselineOf`'s result when given, which `needs` it).
 *  `args(ctx, seed)` adds options to a seed's run; `save` writes its weights to `<out>/<name>` (`<out>/<name>/seed-<seed>` with `seeds`). */
function accuracyRun(
  name: string,
  file: string,
  epochs: number,
  min: number,
  opts: {
    model?: string;
    baseline?: number;
    baselineOf?: string;
    save?: boolean;
    seeds?: readonly number[];
    args?: (ctx: Context, seed: number) => string[];
  } = {},
): Run {
  const seeds = opts.seeds ?? [1];
  return {
    name,
    ...(opts.baselineOf ? { needs: opts.baselineOf } : {}),
    run(ctx) {
      const runs = seeds.map((seed) =>
        kilnTrain(file, [
          '--epochs',
          String(epochs),
          ...(opts.seeds ? ['--seed', String(seed)] : []),
          ...(opts.model ? ['--model', opts.model] : []),
          ...(opts.save ? ['--save', opts.seeds ? savedDir(ctx, name, seed) : join(ctx.out, name), '--force'] : []),
          ...(opts.args?.(ctx, seed) ?? []),
        ]),
      );
      const values = runs.map((r) => r.lines[r.lines.length - 1]!.test_accuracy!);
      const { mean: value, sd } = meanSd(values);
      const seconds = runs.reduce((t, r) => t + r.seconds, 0);
      const baseline = opts.baselineOf ? ctx.done.get(opts.baselineOf)?.value : opts.baseline;
      const pass = value >= min && (opts.baselineOf === undefined || baseline === undefined || value > baseline);
      const bar = `>= ${min}${opts.baselineOf ? ` and above ${opts.baselineOf}` : ''}`;
      if (seeds.length > 1)
        process.stderr.write(
          `${name}: test accuracy per seed ${seeds.map((s, i) => `${s}: ${values[i]}`).join(', ')}\n`,
        );
      ctx.say({
        model: name,
        target: 'wasm',
        metric: seeds.length > 1 ? `test_accuracy_mean_of_${seeds.length}_seeds` : 'test_accuracy',
        value,
        ...(baseline !== undefined ? { baseline } : {}),
        ...(seeds.length > 1 ? { sd } : {}),
        epochs,
        seconds,
        bar,
        pass,
      });
    },
  };
}

/** Where run `name` saves its weights for `seed`. */
const savedDir = (ctx: Context, name: string, seed: number): string => join(ctx.out, name, `seed-${seed}`);

/** The recurrent text classifiers start from the word vectors of the bag-of-words MLP trained with
 *  the same seed (run text_bow, scripts/bow-vectors.ts), kept frozen. */
function bowWordVectorArgs(ctx: Context, seed: number): string[] {
  const dir = savedDir(ctx, 'text_bow', seed);
  const vectors = join(dir, 'word-vectors.safetensors');
  writeBowWordVectors(join(dir, 'weights.safetensors'), vectors);
  return ['--init', vectors, '--freeze', WORD_VECTORS];
}

/** The noise seed of the GAN's judged samples. */
export const JUDGE_NOISE_SEED = 2024;

/** The MNIST CNN `cnn` judges 1,000 samples of the scheduled GAN `model` running in `gen` (noise drawn
 *  with `seed`; from the generator's moving average where there is one, unless `averaged` is false):
 *  the fraction confident >= 0.9 and the classes' spread. */
export function judgeDcgan(
  cnn: Session,
  gen: ProgramSession,
  model: Model,
  seed = JUDGE_NOISE_SEED,
  averaged = true,
): Judgement {
  const samples = generate(gen, model, 1000, seed, averaged).map((v) => (v + 1) / 2); // [-1, 1] -> the CNN's [0, 1]
  return judge(cnn, 'x', samples, 1000, 0.9);
}

/** The MNIST CNN (weights `cnnWeights`) judges 1,000 samples of the GAN saved in `dir` (`kiln train examples/gan.ts --save dir`). */
async function judgeGan(
  dir: string,
  cnnWeights: string,
  seconds: number,
  say: (r: Result) => void,
  otherSeeds: readonly number[] = [],
): Promise<void> {
  const saved = decodeSafetensors(readFileSync(join(dir, 'weights.safetensors')));
  const gen = await programSession(dcgan);
  gen.load(saved.tensors);
  const cnn = await createSession(mnistCnn, { target: 'wasm' });
  cnn.load(decodeSafetensors(readFileSync(cnnWeights)).tensors);
  // Samples from the generator's moving average where its optimizer keeps one (the `ema` option), else from its trained weights.
  const averaged = Object.keys(saved.tensors).some((n) => n.endsWith('/ema'));
  const j = judgeDcgan(cnn, gen, dcgan);
  const common = { model: 'dcgan', target: 'wasm', epochs: Number(saved.metadata.epochs), seconds };
  say({ ...common, metric: 'judge_confident_0.9', value: j.confident, bar: '>= 0.7', pass: j.confident >= 0.7 });
  say({
    ...common,
    metric: 'judge_largest_class',
    value: j.largestClass,
    baseline: 0.1,
    bar: '<= 0.3',
    pass: j.largestClass <= 0.3,
  });
  const live = averaged ? judgeDcgan(cnn, gen, dcgan, JUDGE_NOISE_SEED, false) : undefined;
  process.stderr.write(
    `dcgan judge${averaged ? ' (the moving average)' : ''}: class spread ${j.spread.map((f, c) => `${c}:${f.toFixed(3)}`).join(' ')}; ` +
      (live
        ? `the trained weights: confident ${live.confident.toFixed(3)}, largest class ${live.largestClass.toFixed(3)}; `
        : '') +
      `samples in ${dir}\n`,
  );
  for (const seed of otherSeeds) {
    const o = judgeDcgan(cnn, gen, dcgan, seed);
    process.stderr.write(
      `dcgan judge, noise seed ${seed}: confident ${o.confident.toFixed(3)}, largest class ${o.largestClass.toFixed(3)}\n`,
    );
  }
}

/** The GAN: `kiln train examples/gan.ts`, then the MNIST CNN of run `mnist_cnn` judges 1,000 samples. */
function ganRun(epochs: number): Run {
  return {
    name: 'dcgan',
    needs: 'mnist_cnn', // the judge
    async run(ctx) {
      const dir = join(ctx.out, 'dcgan');
      const { seconds } = kilnTrain('examples/gan.ts', ['--epochs', String(epochs), '--save', dir, '--force']);
      await judgeGan(dir, join(ctx.out, 'mnist_cnn', 'weights.safetensors'), seconds, ctx.say);
    },
  };
}

/** Transfer learning (examples/mnist-finetune.ts): the CNN pretrained on 0-4, then the learning curve
 *  over the labels of 5-9; at DECIDING labels per class the fine-tuned network's mean test accuracy
 *  over five seeds must be above the same network's trained from scratch for the same steps. The
 *  whole curve goes to stderr, `mnist_finetune.json` and `mnist_finetune.svg` in the output folder. */
function finetuneRun(): Run {
  return {
    name: 'mnist_finetune',
    async run(ctx) {
      const t0 = performance.now();
      const r = await finetuneExperiment();
      const seconds = (performance.now() - t0) / 1000;
      const at = r.budgets.find((b) => b.perClass === DECIDING)!;
      const [fine, scratch] = [meanSd(at.runs.map((x) => x.finetuned)), meanSd(at.runs.map((x) => x.scratch))];
      ctx.say({
        model: 'mnist_finetune',
        target: 'wasm',
        metric: `test_accuracy_5_9_from_${DECIDING}_labels_mean_of_${at.runs.length}_seeds`,
        value: fine.mean,
        baseline: scratch.mean,
        sd: fine.sd,
        epochs: r.epochs,
        seconds,
        bar: `above from scratch (the baseline), same steps (${at.steps})`,
        pass: fine.mean > scratch.mean,
      });
      writeFileSync(join(ctx.out, 'mnist_finetune.json'), `${JSON.stringify(r)}\n`);
      writeFileSync(join(ctx.out, 'mnist_finetune.svg'), await renderSvg(curveSpec(r)));
      process.stderr.write(
        `mnist_finetune (${seconds.toFixed(0)} s):\n${curveText(r)}per seed: ${JSON.stringify(r.budgets)}\n`,
      );
    },
  };
}

const MAJORITY = 0.1462; // fortunes: the largest class's share of the test split (examples/data/fortunes.ts)
/** The text classifiers and their bag-of-words baseline: the mean over these seeds. */
const TEXT_SEEDS = [1, 2, 3];
const OPTIMIZERS = ['sgd', 'momentum', 'nesterov', 'rmsprop', 'adam', 'adagrad', 'adadelta'];

/** Every run, in order: baselines before the models compared with them, the CNN before the GAN's judge. */
export const RUNS: readonly Run[] = [
  accuracyRun('mnist_cnn', 'examples/mnist-cnn.ts', 5, 0.98, { save: true }),
  ...OPTIMIZERS.map((o) => accuracyRun(`mnist_mlp_${o}`, 'examples/mnist-mlp.ts', 5, 0.9, { model: `mnist_mlp_${o}` })),
  accuracyRun('text_bow', 'examples/text-bow.ts', 4, MAJORITY, { baseline: MAJORITY, seeds: TEXT_SEEDS, save: true }),
  ...(['lstm', 'gru', 'rnn'] as const).map((cell) =>
    accuracyRun(`text_${cell}`, `examples/text-${cell}.ts`, 5, cell === 'rnn' ? MAJORITY : 0.35, {
      baselineOf: 'text_bow',
      seeds: TEXT_SEEDS,
      args: bowWordVectorArgs,
    }),
  ),
  accuracyRun('text_torch_lstm', 'examples/text-torch.ts', 4, 0.35, { baselineOf: 'text_bow' }),
  ganRun(GAN_EPOCHS),
  finetuneRun(),
];

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean' },
      only: { type: 'string' },
      out: { type: 'string' },
      judge: { type: 'string' },
      'noise-seeds': { type: 'string' },
    },
  });
  const picked = values.only?.split(',');
  // a picked run brings the runs it needs (text_lstm: text_bow), kept in RUNS' order
  const only = picked && [...picked, ...picked.map((n) => RUNS.find((r) => r.name === n)?.needs ?? n)];
  const unknown = picked?.filter((n) => !RUNS.some((r) => r.name === n)) ?? [];
  if (unknown.length > 0)
    throw new Error(`e2e: no run named ${unknown.join(', ')}; runs: ${RUNS.map((r) => r.name).join(', ')}`);
  const out = values.out ?? join(ROOT, 'out', 'e2e');
  mkdirSync(out, { recursive: true });
  const done = new Map<string, Result>();
  let failed = 0;
  const say = (r: Result): void => {
    if (!done.has(r.model)) done.set(r.model, r);
    if (!r.pass) failed++;
    const b = r.baseline !== undefined ? `  baseline ${r.baseline.toFixed(4)}` : '';
    process.stdout.write(
      values.json
        ? `${JSON.stringify(r)}\n`
        : `${r.model}: ${r.metric} ${r.value.toFixed(4)}${r.sd !== undefined ? ` ± ${r.sd.toFixed(4)}` : ''}${b}  (bar ${r.bar}: ${r.pass ? 'pass' : 'FAIL'})  ${r.epochs} epochs, ${r.seconds.toFixed(0)} s\n`,
    );
  };
  const seeds = values['noise-seeds']?.split(',').map(Number) ?? [];
  if (seeds.some((n) => !Number.isInteger(n)))
    throw new Error(`e2e: --noise-seeds takes integers separated by commas, not '${values['noise-seeds']}'`);
  if (seeds.length > 0 && values.judge === undefined)
    throw new Error('e2e: --noise-seeds judges a saved GAN: give it with --judge DIR');
  if (values.judge !== undefined)
    await judgeGan(values.judge, join(out, 'mnist_cnn', 'weights.safetensors'), NaN, say, seeds);
  else for (const r of RUNS) if (!only || only.includes(r.name)) await r.run({ out, done, say });
  return failed === 0 ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = await main();
