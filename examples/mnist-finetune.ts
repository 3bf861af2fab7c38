// Transfer learning on MNIST, as the field measures it: what pretrained weights buy when labels are
// scarce. The CNN of examples/mnist-cnn.ts is trained on the digits 0-4 (all their training digits);
// the digits 5-9 then come with only 50 labelled examples per class, and three networks train on
// them for the same steps (30 epochs of the 250 labels, 90 steps) and are tested on every held-out
// 5-9 digit:
//   - frozen: every layer but the final classifier starts from the pretrained weights; the
//     convolutions stay frozen (`trainable: false`), the dense layers train (Adam 1e-3);
//   - fine-tuned, in two phases as Keras' transfer-learning guide does: the frozen network's first
//     half (the new classifier trained over the frozen features), then the whole network unfrozen
//     at a tenth of the rate (Adam 1e-4) for the second half;
//   - from scratch: the same network from its initializers (Adam 1e-3).
// Each seed draws its own initial weights, labelled subset and batch order; the e2e run reports the
// mean and spread over seeds.
//
//   npx kiln train examples/mnist-finetune.ts --model digits_0_4 --epochs 3 --save out/digits_0_4
//   npx kiln train examples/mnist-finetune.ts --model digits_5_9_frozen --init out/digits_0_4/weights.safetensors --epochs 15 --save out/frozen
//   npx kiln train examples/mnist-finetune.ts --model digits_5_9 --init out/frozen/weights.safetensors --epochs 15
//   npx kiln train examples/mnist-finetune.ts --model digits_5_9_scratch --epochs 30
//
// or the whole comparison: `node --import tsx examples/mnist-finetune.ts [--seeds 5] [--json]`
// (`finetuneExperiment` is the same for scripts).
import { pathToFileURL } from 'node:url';
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
import { permutation } from '../compiler/data/dataset.ts';
import { planInit, type InitReport } from '../compiler/train/init.ts';
import { train, type TrainResult } from '../compiler/train/loop.ts';
import type { NamedArray } from '../runtime/safetensors.ts';
import { createSession, type Target } from '../compiler/train/session.ts';
import { loadMnist } from './data/mnist.ts';

const MEAN = 0.1307;
const STD = 0.3081;
const LOW = [0, 1, 2, 3, 4];
const HIGH = [5, 6, 7, 8, 9];
/** Labelled training examples per class of the target task (5-9). */
export const PER_CLASS = 50;

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

/** The examples of a split whose label is in `digits`; at most `perClass` of each, picked by `seed`. */
function only(split: Split, digits: readonly number[], perClass = Infinity, seed = 0): Split {
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
  const x = split.columns.x as Float32Array;
  const xs = new Float32Array(keep.length * 784);
  keep.forEach((i, j) => xs.set(x.subarray(i * 784, (i + 1) * 784), j * 784));
  return { size: keep.length, columns: { x: xs, y: Int32Array.from(keep, (i) => y[i]!) } };
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

/** The four models of one seed: pretraining, and the three ways of learning 5-9 from `PER_CLASS` labels each. */
export function finetuneModels(seed: number) {
  const low = (): Dataset => {
    const all = loadMnist();
    return { name: 'mnist 0-4', train: only(all.train, LOW), test: only(all.test, LOW) };
  };
  const high = (): Dataset => {
    const all = loadMnist();
    return {
      name: `mnist 5-9, ${PER_CLASS} labels each`,
      train: only(all.train, HIGH, PER_CLASS, seed),
      test: only(all.test, HIGH),
    };
  };
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

export interface FinetuneRun {
  readonly seed: number;
  /** Test accuracy on 0-4 after pretraining. */
  readonly pretrained: number;
  /** Test accuracy on 5-9 after the same steps on the few labels. */
  readonly finetuned: number;
  readonly frozen: number;
  readonly scratch: number;
}

export interface FinetuneResult {
  readonly pretrainEpochs: number;
  /** Epochs over the few labels, and the steps they make (the same for the three). */
  readonly epochs: number;
  readonly steps: number;
  readonly init: InitReport;
  readonly runs: readonly FinetuneRun[];
}

/** For each seed: pretrains on 0-4, then trains over frozen features, fine-tunes (the frozen run's
 *  first half, then the whole network) and trains from scratch on `PER_CLASS` labels of each of 5-9;
 *  test accuracies on all 5-9 test digits. */
export async function finetuneExperiment(
  opts: { seeds?: readonly number[]; pretrainEpochs?: number; epochs?: number; target?: Target } = {},
): Promise<FinetuneResult> {
  const { seeds = [1, 2, 3, 4, 5], pretrainEpochs = 3, epochs = 30, target = 'wasm' } = opts;
  const runs: FinetuneRun[] = [];
  let init: InitReport | undefined;
  let steps = 0;
  for (const seed of seeds) {
    const m = finetuneModels(seed);
    const high = await m.finetuned.def.dataset!();
    const pre = await createSession(m.pretrain, { target });
    const pretrained = train(pre, await m.pretrain.def.dataset!(), { epochs: pretrainEpochs, seed }).kept!.test
      .accuracy!;
    const session = async (which: Model, from: Record<string, NamedArray> | undefined) => {
      const s = await createSession(which, { target });
      if (from) {
        const plan = planInit(s.params(), from);
        s.load(plan.load);
        init ??= plan.report;
      }
      return s;
    };
    const scratch = train(await session(m.scratch, undefined), high, { epochs, seed });
    // The frozen network for the whole budget; its params halfway start the fine-tuning of the whole network.
    const frozen = await session(m.frozen, pre.params());
    const head = train(frozen, high, { epochs: epochs / 2, seed });
    const halfway = frozen.params();
    const after = { history: head.history, stopped: false };
    const frozenRun = train(frozen, high, { epochs, seed, from: after });
    const fine = await createSession(m.finetuned, { target });
    fine.load(planInit(fine.params(), halfway).load);
    const fineRun = train(fine, high, { epochs, seed, from: after });
    const accuracy = (r: TrainResult): number => r.kept!.test.accuracy!;
    steps = scratch.history.reduce((n, e) => n + e.steps, 0);
    runs.push({
      seed,
      pretrained,
      finetuned: accuracy(fineRun),
      frozen: accuracy(frozenRun),
      scratch: accuracy(scratch),
    });
  }
  return { pretrainEpochs, epochs, steps, init: init!, runs };
}

/** Mean and sample standard deviation. */
export function meanSd(xs: readonly number[]): { mean: number; sd: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, xs.length - 1));
  return { mean, sd };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const arg = (name: string): string | undefined => process.argv[process.argv.indexOf(name) + 1];
  const n = process.argv.includes('--seeds') ? Number(arg('--seeds')) : 5;
  const r = await finetuneExperiment({ seeds: Array.from({ length: n }, (_, i) => i + 1) });
  if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(r)}\n`);
  else {
    const pct = (k: 'pretrained' | 'finetuned' | 'frozen' | 'scratch'): string => {
      const { mean, sd } = meanSd(r.runs.map((x) => x[k]));
      return `${(100 * mean).toFixed(2)}% ± ${(100 * sd).toFixed(2)}`;
    };
    process.stdout.write(
      `${r.runs.length} seeds; pretrained on 0-4 for ${r.pretrainEpochs} epochs: ${pct('pretrained')} on 0-4\n` +
        `digits 5-9 from ${PER_CLASS} labels each, ${r.steps} steps (${r.epochs} epochs): fine-tuned ${pct('finetuned')}, ` +
        `frozen convolutions ${pct('frozen')}, from scratch ${pct('scratch')} (test accuracy, mean ± sd)\n`,
    );
  }
}
