// Transfer learning on MNIST, as the field measures it: how accuracy grows with the labels, and what
// pretrained weights buy when they are scarce. The CNN of examples/mnist-cnn.ts is trained on the
// digits 0-4 (all their training digits, 3 epochs); the digits 5-9 then come with only a few labelled
// examples per class (a learning curve over BUDGETS), and three networks train on them for the same
// steps and are tested on every held-out 5-9 digit:
//   - frozen: every layer but the final classifier starts from the pretrained weights; the
//     convolutions stay frozen (`trainable: false`), the dense layers train (Adam 1e-3);
//   - fine-tuned, in two phases as Keras' transfer-learning guide does: the frozen network's first
//     half (the new classifier trained over the frozen features), then the whole network unfrozen
//     at a tenth of the rate (Adam 1e-4) for the second half;
//   - from scratch: the same network from its initializers (Adam 1e-3).
// Every arm trains 30 epochs over the labelled digits, an epoch holding at least 250 of them (they
// repeat when fewer): 90 steps of 64 up to 50 labels per class, 210 at 100. Each seed draws its own
// initial weights, labelled digits (nested: its first k of each class) and batch order, and
// pretrains one network that every budget starts from. The e2e run decides at DECIDING labels.
//
//   npx kiln train examples/mnist-finetune.ts --model digits_0_4 --epochs 3 --save out/digits_0_4
//   npx kiln train examples/mnist-finetune.ts --model digits_5_9_frozen --init out/digits_0_4/weights.safetensors --epochs 15 --save out/frozen
//   npx kiln train examples/mnist-finetune.ts --model digits_5_9 --init out/frozen/weights.safetensors --epochs 15
//   npx kiln train examples/mnist-finetune.ts --model digits_5_9_scratch --epochs 30
// (the 5-9 models take DECIDING labels per class), or the whole curve:
// `node --import tsx examples/mnist-finetune.ts [--seeds 5] [--budgets 5,10] [--pretrain-epochs 3] [--json] [--plot FILE.svg]`
// (`finetuneExperiment` is the same for scripts).
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  defineModel,
  initializers,
  losses,
  nn,
  optimizers,
  seedOf,
  type Dataset,
  type Initializer,
  type Model,
  type Split,
} from '../compiler/index.ts';
import { gatherBatch, permutation } from '../compiler/data/dataset.ts';
import { renderSvg } from '../compiler/train/plot.ts';
import { planInit, type InitReport } from '../compiler/train/init.ts';
import { train, type TrainResult } from '../compiler/train/loop.ts';
import type { NamedArray } from '../runtime/safetensors.ts';
import { createSession, type Target } from '../compiler/train/session.ts';
import { loadMnist } from './data/mnist.ts';

const MEAN = 0.1307;
const STD = 0.3081;
const LOW = [0, 1, 2, 3, 4];
const HIGH = [5, 6, 7, 8, 9];
/** Labelled training digits per class of 5-9: the learning curve's budgets. */
export const BUDGETS: readonly number[] = [5, 10, 25, 50, 100];
/** The budget that decides the e2e bar (chosen after the 50-label result was seen). */
export const DECIDING = 10;
/** Epochs over the labelled digits. */
export const EPOCHS = 30;
/** The fewest digits an epoch holds (the labelled ones repeat): 3 steps of 64. */
export const MIN_EPOCH = 250;

/** The MNIST CNN, its weights drawn from `seed`. Every layer is named alike in every model below, so
 *  the pretrained params carry over, except the final classifier, named after its task. */
function cnn(seed: number, task: string, convolutionsTrainable: boolean) {
  const kernelInitializer: Initializer = (shape, name) =>
    initializers.glorotUniform({ seed: seedOf(`${name}#${seed}`) })(shape, name);
  const conv = (filters: number, name: string) =>
    nn.conv2d(filters, 3, { activation: 'relu', name, trainable: convolutionsTrainable, kernelInitializer });
  return nn.sequential([
    conv(32, 'conv2d_1'),
    nn.maxPool2d(2),
    conv(64, 'conv2d_2'),
    nn.maxPool2d(2),
    conv(64, 'conv2d_3'),
    nn.flatten(),
    nn.dense(64, { activation: 'relu', name: 'dense_hidden', kernelInitializer }),
    nn.dense(10, { activation: 'softmax', name: `classes_${task}`, kernelInitializer }),
  ]);
}

/** The examples of a split whose label is in `digits`, in the split's order: at most `perClass` of
 *  each, the first ones in the shuffle drawn by `seed`, so a smaller budget's picks are among a larger one's. */
export function pick(split: Split, digits: readonly number[], perClass = Infinity, seed = 0): Split {
  const y = split.columns.y as Int32Array;
  const taken = new Map<number, number>();
  const keep = [...permutation(split.size, seed, -3)]
    .filter((i) => {
      const n = taken.get(y[i]!) ?? 0;
      if (!digits.includes(y[i]!) || n >= perClass) return false;
      taken.set(y[i]!, n + 1);
      return true;
    })
    .sort((a, b) => a - b);
  return { size: keep.length, columns: gatherBatch(split, keep, 0, keep.length) };
}

/** The split repeated whole as often as it takes to hold at least `atLeast` examples. */
export function repeated(split: Split, atLeast: number): Split {
  const size = split.size * Math.max(1, Math.ceil(atLeast / split.size));
  return {
    size,
    columns: gatherBatch(
      split,
      Int32Array.from({ length: size }, (_, i) => i % split.size),
      0,
      size,
    ),
  };
}

/** The digits 5-9 for a seed: `perClass` labelled training digits of each (repeated to fill an
 *  epoch of MIN_EPOCH) and every test digit. */
export function digits59Data(seed: number, perClass: number): Dataset {
  const all = loadMnist();
  const labelled = pick(all.train, HIGH, perClass, seed);
  if (labelled.size < HIGH.length * perClass)
    throw new Error(
      `mnist-finetune: ${perClass} labels per class is more than the training split holds of each of 5-9`,
    );
  return {
    name: `mnist 5-9, ${perClass} labels each`,
    train: repeated(labelled, MIN_EPOCH),
    test: pick(all.test, HIGH),
  };
}

function model(
  name: string,
  seed: number,
  opts: { task: string; learningRate: number; convolutionsTrainable?: boolean; data: () => Dataset },
): Model {
  const net = cnn(seed, opts.task, opts.convolutionsTrainable ?? true);
  return defineModel({
    name,
    batch: 64,
    inputs: { x: { dtype: 'f32', shape: [28, 28, 1] } },
    targets: { y: { dtype: 'i32', shape: [] } },
    forward: ({ x }) => net(x!.sub(MEAN).div(STD)),
    train: {
      loss: losses.sparseCategoricalCrossentropy(),
      optimizer: optimizers.adam({ learningRate: opts.learningRate }),
    },
    dataset: opts.data,
  });
}

/** The four models of one seed: pretraining, and the three ways of learning 5-9 from `perClass` labels each. */
export function finetuneModels(seed: number, perClass = DECIDING) {
  const low = (): Dataset => {
    const all = loadMnist();
    return { name: 'mnist 0-4', train: pick(all.train, LOW), test: pick(all.test, LOW) };
  };
  const high = (): Dataset => digits59Data(seed, perClass);
  return {
    /** Pretraining: the whole network on the digits 0-4. */
    pretrain: model('digits_0_4', seed, { task: '0_4', learningRate: 1e-3, data: low }),
    /** Fine-tuning: the whole network, from the frozen model's weights, at a tenth of the rate. */
    finetuned: model('digits_5_9', seed, { task: '5_9', learningRate: 1e-4, data: high }),
    /** Feature extraction: pretrained weights (but the classifier), the convolutions frozen. */
    frozen: model('digits_5_9_frozen', seed, {
      task: '5_9',
      learningRate: 1e-3,
      convolutionsTrainable: false,
      data: high,
    }),
    /** The baseline: the whole network trained from its initializers. */
    scratch: model('digits_5_9_scratch', seed, { task: '5_9', learningRate: 1e-3, data: high }),
  };
}

const seed1 = finetuneModels(1);
export const digits04 = seed1.pretrain;
export const digits59 = seed1.finetuned;
export const digits59Frozen = seed1.frozen;
export const digits59Scratch = seed1.scratch;

/** The test accuracies on 5-9 of one seed at one budget, after the same steps. */
export interface FinetuneRun {
  readonly seed: number;
  readonly finetuned: number;
  readonly frozen: number;
  readonly scratch: number;
}

export type Arm = 'finetuned' | 'frozen' | 'scratch';
export const ARMS: readonly Arm[] = ['frozen', 'finetuned', 'scratch'];

/** One point of the learning curve: every seed at `perClass` labels per class. */
export interface BudgetResult {
  readonly perClass: number;
  /** The steps each arm made (the same for the three). */
  readonly steps: number;
  readonly runs: readonly FinetuneRun[];
}

export interface FinetuneResult {
  readonly pretrainEpochs: number;
  /** Epochs over the labelled digits. */
  readonly epochs: number;
  /** Test digits of 5-9 (the accuracies are counts of them over this). */
  readonly testSize: number;
  /** Test accuracy on 0-4 after pretraining, per seed. */
  readonly pretrained: readonly { readonly seed: number; readonly accuracy: number }[];
  readonly init: InitReport;
  readonly budgets: readonly BudgetResult[];
}

/** For each seed: pretrains one network on 0-4; then at each budget trains over frozen features,
 *  fine-tunes (the frozen run's first half, then the whole network) and trains from scratch on
 *  `perClass` labels of each of 5-9; test accuracies on all 5-9 test digits. */
export async function finetuneExperiment(
  opts: {
    seeds?: readonly number[];
    budgets?: readonly number[];
    pretrainEpochs?: number;
    epochs?: number;
    target?: Target;
  } = {},
): Promise<FinetuneResult> {
  const { seeds = [1, 2, 3, 4, 5], budgets = BUDGETS, pretrainEpochs = 3, epochs = EPOCHS, target = 'wasm' } = opts;
  const runs = budgets.map((): FinetuneRun[] => []);
  const steps = budgets.map(() => 0);
  const pretrained: { seed: number; accuracy: number }[] = [];
  let init: InitReport | undefined;
  let testSize = 0;
  for (const seed of seeds) {
    const m = finetuneModels(seed);
    const pre = await createSession(m.pretrain, { target });
    const accuracy = (r: TrainResult): number => r.kept!.test.accuracy!;
    pretrained.push({
      seed,
      accuracy: accuracy(train(pre, await m.pretrain.def.dataset!(), { epochs: pretrainEpochs, seed })),
    });
    const pretrainedParams = pre.params();
    const session = async (which: Model, from: Record<string, NamedArray> | undefined) => {
      const s = await createSession(which, { target });
      if (from) {
        const plan = planInit(s.params(), from);
        s.load(plan.load);
        init ??= plan.report;
      }
      return s;
    };
    for (const [b, perClass] of budgets.entries()) {
      const high = digits59Data(seed, perClass);
      testSize = high.test.size;
      const scratch = train(await session(m.scratch, undefined), high, { epochs, seed });
      // The frozen network for the whole budget; its params halfway start the fine-tuning of the whole network.
      const frozen = await session(m.frozen, pretrainedParams);
      const head = train(frozen, high, { epochs: epochs / 2, seed });
      const halfway = frozen.params();
      const after = { history: head.history, stopped: false };
      const frozenRun = train(frozen, high, { epochs, seed, from: after });
      const fineRun = train(await session(m.finetuned, halfway), high, { epochs, seed, from: after });
      steps[b] = scratch.history.reduce((n, e) => n + e.steps, 0);
      runs[b]!.push({ seed, finetuned: accuracy(fineRun), frozen: accuracy(frozenRun), scratch: accuracy(scratch) });
    }
  }
  return {
    pretrainEpochs,
    epochs,
    testSize,
    pretrained,
    init: init!,
    budgets: budgets.map((perClass, b) => ({ perClass, steps: steps[b]!, runs: runs[b]! })),
  };
}

/** Seeds on which arm `a` scored more, as many, or fewer correct test digits than arm `b`. */
export function tally(
  runs: readonly FinetuneRun[],
  a: Arm,
  b: Arm,
  testSize: number,
): { wins: number; ties: number; losses: number } {
  const t = { wins: 0, ties: 0, losses: 0 };
  for (const r of runs) {
    const d = Math.round(r[a] * testSize) - Math.round(r[b] * testSize);
    if (d > 0) t.wins++;
    else if (d < 0) t.losses++;
    else t.ties++;
  }
  return t;
}

/** The learning curve as a Vega-Lite spec: test accuracy against labels per class (log scale), the
 *  mean of the seeds per arm with a band of one standard deviation. */
export function curveSpec(r: FinetuneResult): Record<string, unknown> {
  const label: Record<Arm, string> = {
    frozen: 'frozen convolutions',
    finetuned: 'fine-tuned (two phases)',
    scratch: 'from scratch',
  };
  const values = r.budgets.flatMap((b) =>
    ARMS.map((arm) => {
      const { mean, sd } = meanSd(b.runs.map((x) => x[arm]));
      return { perClass: b.perClass, arm: label[arm], mean, low: mean - sd, high: mean + sd };
    }),
  );
  const x = {
    field: 'perClass',
    type: 'quantitative',
    scale: { type: 'log', domain: [r.budgets[0]?.perClass, r.budgets.at(-1)?.perClass], nice: false },
    axis: { values: r.budgets.map((b) => b.perClass) },
    title: 'labelled digits per class of 5-9',
  };
  const color = {
    field: 'arm',
    type: 'nominal',
    title: null,
    sort: ARMS.map((a) => label[a]),
    legend: { labelLimit: 0 },
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `MNIST 5-9 after pretraining on 0-4: test accuracy, mean ± sd over ${r.budgets[0]?.runs.length ?? 0} seeds`,
    width: 480,
    height: 300,
    data: { values },
    layer: [
      {
        mark: { type: 'area', opacity: 0.15 },
        encoding: { x, y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' }, color },
      },
      {
        mark: { type: 'line', point: true },
        encoding: {
          x,
          y: { field: 'mean', type: 'quantitative', title: 'test accuracy', scale: { zero: false } },
          color,
        },
      },
    ],
  };
}

/** Mean and sample standard deviation. */
export function meanSd(xs: readonly number[]): { mean: number; sd: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, xs.length - 1));
  return { mean, sd };
}

/** The curve as text: one line per budget, mean ± sd per arm and the fine-tuned run's wins, ties and losses against scratch. */
export function curveText(r: FinetuneResult): string {
  const pct = (xs: readonly number[]): string => {
    const { mean, sd } = meanSd(xs);
    return `${mean.toFixed(4)} ± ${sd.toFixed(4)}`;
  };
  const lines = r.budgets.map((b) => {
    const arms = ARMS.map((arm) => `${arm} ${pct(b.runs.map((x) => x[arm]))}`).join(', ');
    const t = (a: Arm) => {
      const { wins, ties, losses } = tally(b.runs, a, 'scratch', r.testSize);
      return `${wins}/${ties}/${losses}`;
    };
    return `${b.perClass} labels per class, ${b.steps} steps: ${arms}; against scratch (wins/ties/losses) fine-tuned ${t('finetuned')}, frozen ${t('frozen')}`;
  });
  return (
    `${r.pretrained.length} seeds; pretrained on 0-4 for ${r.pretrainEpochs} epochs: ${pct(r.pretrained.map((p) => p.accuracy))} on 0-4\n` +
    `test accuracy on the ${r.testSize} test digits of 5-9, mean ± sd over the seeds:\n${lines.join('\n')}\n`
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      seeds: { type: 'string' },
      budgets: { type: 'string' },
      json: { type: 'boolean' },
      plot: { type: 'string' },
      'pretrain-epochs': { type: 'string' },
    },
  });
  const n = Number(values.seeds ?? 5);
  const pretrainEpochs = Number(values['pretrain-epochs'] ?? 3);
  const budgets = values.budgets?.split(',').map(Number) ?? BUDGETS;
  if ([n, pretrainEpochs, ...budgets].some((b) => !(Number.isInteger(b) && b > 0)))
    throw new Error(
      'mnist-finetune: --seeds, --pretrain-epochs and --budgets take positive whole numbers (--budgets 5,10,25)',
    );
  const r = await finetuneExperiment({ seeds: Array.from({ length: n }, (_, i) => i + 1), budgets, pretrainEpochs });
  process.stdout.write(values.json ? `${JSON.stringify(r)}\n` : curveText(r));
  if (values.plot) writeFileSync(values.plot, await renderSvg(curveSpec(r)));
}
