// Transfer learning on MNIST: the CNN of examples/mnist-cnn.ts trained on the digits 0-4; its
// convolutions (the feature extractor) then serve the digits 5-9, frozen (`trainable: false`), under
// a new classifier (the two dense layers); compared, for the same number of steps on 5-9, with the
// same network trained from scratch, with the frozen convolutions left at their initializers (which
// isolates what the pretrained features bring), and with the pretrained convolutions trained too.
//
//   npx kiln train examples/mnist-finetune.ts --model digits_0_4 --epochs 2 --save out/digits_0_4
//   npx kiln train examples/mnist-finetune.ts --model digits_5_9 --init out/digits_0_4/weights.safetensors --steps 40
//   npx kiln train examples/mnist-finetune.ts --model digits_5_9_scratch --steps 40
//
// or the whole comparison at once: `node --import tsx examples/mnist-finetune.ts [--steps N] [--json]`
// (`finetuneExperiment` is the same for scripts).
import { pathToFileURL } from 'node:url';
import { defineModel, losses, nn, optimizers, type Dataset, type Model, type Split } from '../compiler/index.ts';
import { planInit, type InitReport } from '../compiler/train/init.ts';
import { train, type Scores } from '../compiler/train/loop.ts';
import { createSession, type Target } from '../compiler/train/session.ts';
import { loadMnist } from './data/mnist.ts';

const MEAN = 0.1307;
const STD = 0.3081;

/** The MNIST CNN: convolutions named alike in every model below, so their params carry over; the
 *  classifier's dense layers are named after `top`, so a new task gets a new classifier. */
function cnn(convolutionsTrainable: boolean, top: string) {
  const conv = (filters: number, name: string) =>
    nn.conv2d(filters, 3, { activation: 'relu', name, trainable: convolutionsTrainable });
  return nn.sequential([
    conv(32, 'conv2d_1'),
    nn.maxPool2d(2),
    conv(64, 'conv2d_2'),
    nn.maxPool2d(2),
    conv(64, 'conv2d_3'),
    nn.flatten(),
    nn.dense(64, { activation: 'relu', name: `${top}_hidden` }),
    nn.dense(10, { activation: 'softmax', name: `${top}_classes` }),
  ]);
}

/** The examples of a split whose label is in `digits`. */
function only(split: Split, digits: readonly number[]): Split {
  const y = split.columns.y as Int32Array;
  const keep = Int32Array.from({ length: split.size }, (_, i) => i).filter((i) => digits.includes(y[i]!));
  const x = split.columns.x as Float32Array;
  const xs = new Float32Array(keep.length * 784);
  keep.forEach((i, j) => xs.set(x.subarray(i * 784, (i + 1) * 784), j * 784));
  return { size: keep.length, columns: { x: xs, y: Int32Array.from(keep, (i) => y[i]!) } };
}

function digits(which: readonly number[]): () => Dataset {
  return () => {
    const all = loadMnist();
    return { name: `mnist ${which.join('')}`, train: only(all.train, which), test: only(all.test, which) };
  };
}

const LOW = [0, 1, 2, 3, 4];
const HIGH = [5, 6, 7, 8, 9];

function model(name: string, convolutionsTrainable: boolean, top: string, data: readonly number[]): Model {
  const net = cnn(convolutionsTrainable, top);
  return defineModel({
    name,
    batch: 64,
    inputs: { x: { dtype: 'f32', shape: [28, 28, 1] } },
    targets: { y: { dtype: 'i32', shape: [] } },
    forward: ({ x }) => net(x!.sub(MEAN).div(STD)),
    train: { loss: losses.sparseCategoricalCrossentropy(), optimizer: optimizers.adam() },
    dataset: digits(data),
  });
}

/** Pretraining: the whole network on the digits 0-4. */
export const digits04 = model('digits_0_4', true, 'top_0_4', LOW);
/** Fine-tuning: the pretrained convolutions frozen, a new classifier trained on the digits 5-9. */
export const digits59 = model('digits_5_9', false, 'top_5_9', HIGH);
/** The baseline: the whole network trained from its initializers on the digits 5-9. */
export const digits59Scratch = model('digits_5_9_scratch', true, 'top_5_9', HIGH);

export interface FinetuneResult {
  /** Steps of training on 5-9, the same for both. */
  readonly steps: number;
  readonly pretrain: { readonly epochs: number; readonly test: Scores };
  readonly init: InitReport;
  readonly finetuned: Scores;
  readonly scratch: Scores;
  /** The fine-tuning model without the pretrained weights: frozen convolutions at their initializers. */
  readonly frozenRandom: Scores;
  /** The pretrained convolutions, not frozen, trained with the new classifier. */
  readonly unfrozen: Scores;
  readonly seconds: { readonly pretrain: number; readonly finetune: number; readonly scratch: number };
}

/** Pretrains on 0-4, fine-tunes on 5-9 with frozen convolutions, trains from scratch on 5-9; test scores on 5-9. */
export async function finetuneExperiment(
  opts: { steps?: number; pretrainEpochs?: number; target?: Target; seed?: number } = {},
): Promise<FinetuneResult> {
  const { steps = 40, pretrainEpochs = 3, target = 'wasm', seed = 1 } = opts;
  const time = <T>(f: () => T): [T, number] => {
    const t0 = performance.now();
    const r = f();
    return [r, (performance.now() - t0) / 1000];
  };
  const low = await digits04.def.dataset!();
  const high = await digits59.def.dataset!();
  const pre = await createSession(digits04, { target });
  const [preRun, preSeconds] = time(() => train(pre, low, { epochs: pretrainEpochs, seed }));
  const fine = await createSession(digits59, { target });
  const { load, report } = planInit(fine.params(), pre.params());
  fine.load(load);
  const [fineRun, fineSeconds] = time(() => train(fine, high, { epochs: 1, seed, maxSteps: steps }));
  const scratch = await createSession(digits59Scratch, { target });
  const [scratchRun, scratchSeconds] = time(() => train(scratch, high, { epochs: 1, seed, maxSteps: steps }));
  const random = await createSession(digits59, { target });
  const randomRun = train(random, high, { epochs: 1, seed, maxSteps: steps });
  const unfrozen = await createSession(digits59Scratch, { target });
  unfrozen.load(planInit(unfrozen.params(), pre.params()).load);
  const unfrozenRun = train(unfrozen, high, { epochs: 1, seed, maxSteps: steps });
  return {
    steps,
    pretrain: { epochs: pretrainEpochs, test: preRun.kept!.test },
    init: report,
    finetuned: fineRun.kept!.test,
    scratch: scratchRun.kept!.test,
    frozenRandom: randomRun.kept!.test,
    unfrozen: unfrozenRun.kept!.test,
    seconds: { pretrain: preSeconds, finetune: fineSeconds, scratch: scratchSeconds },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const arg = (name: string): string | undefined => process.argv[process.argv.indexOf(name) + 1];
  const steps = process.argv.includes('--steps') ? Number(arg('--steps')) : undefined;
  const r = await finetuneExperiment(steps !== undefined ? { steps } : {});
  if (process.argv.includes('--json')) process.stdout.write(JSON.stringify(r) + '\n');
  else {
    const pct = (s: Scores): string => `${(100 * s.accuracy!).toFixed(2)}% (loss ${s.loss!.toFixed(4)})`;
    process.stdout.write(
      `pretrained on 0-4 for ${r.pretrain.epochs} epochs: test accuracy on 0-4 ${pct(r.pretrain.test)}, ${r.seconds.pretrain.toFixed(1)} s\n` +
        `loaded and froze ${r.init.loaded.join(', ')}; a new classifier: ${r.init.initialized.join(', ')}\n` +
        `digits 5-9 after ${r.steps} steps: fine-tuned ${pct(r.finetuned)} in ${r.seconds.finetune.toFixed(1)} s; from scratch ${pct(r.scratch)} in ${r.seconds.scratch.toFixed(1)} s; ` +
        `frozen convolutions without pretraining ${pct(r.frozenRandom)}; pretrained convolutions not frozen ${pct(r.unfrozen)}\n`,
    );
  }
}
