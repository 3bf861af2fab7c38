// The training loop behind `kiln train`: epochs of shuffled batches through a compiled training
// step, then an evaluation of the test split through the compiled `infer` entry.
import { batches, gatherBatch, type Column, type Dataset, type Split } from '../data/dataset.ts';
import type { NamedArray } from '../../runtime/safetensors.ts';
import { fail } from '../../ir/errors.ts';

/** A compiled model being trained: one call per step, whatever the backend. */
export interface Session {
  readonly batch: number;
  /** Runs one training step on a full batch (inputs and targets by name); returns the loss. */
  step(batch: Readonly<Record<string, Column>>): number;
  /** Runs `infer` on a full batch of inputs; returns the model's outputs. */
  predict(inputs: Readonly<Record<string, Column>>): Record<string, Column>;
  /** The current params (weights, optimizer slots, counters) by name. */
  params(): Record<string, NamedArray>;
  /** Overwrites params by name (a saved model); names the session does not have are an error. */
  load(params: Readonly<Record<string, NamedArray>>): void;
}

export interface EpochResult {
  readonly epoch: number;
  readonly loss: number;
  readonly accuracy: number;
  readonly seconds: number;
  readonly steps: number;
}

export interface TrainOptions {
  readonly epochs: number;
  readonly seed: number;
  /** Stop each epoch after this many steps (short runs and tests). */
  readonly maxSteps?: number;
  /** The model output and target compared for accuracy. */
  readonly output: string;
  readonly target: string;
  readonly onStep?: (info: { epoch: number; step: number; steps: number; loss: number; samplesPerSecond: number }) => void;
  readonly onEpoch?: (r: EpochResult) => void;
}

/** Index of the predicted class for example b: argmax over the last axis, or a 0.5 threshold for a single unit. */
function predictedClass(out: Column, per: number, b: number): number {
  if (per === 1) return out[b]! >= 0.5 ? 1 : 0;
  let best = 0;
  for (let j = 1; j < per; j++) if (out[b * per + j]! > out[b * per + best]!) best = j;
  return best;
}

function targetClass(t: Column, per: number, b: number): number {
  if (t instanceof Int32Array) return t[b]!;
  return predictedClass(t, per, b);
}

/** Accuracy on a split, in full batches; the last partial batch is padded by repeating its first example. */
export function evaluate(session: Session, split: Split, output: string, target: string): number {
  const order = Int32Array.from({ length: split.size }, (_, i) => i);
  let correct = 0;
  for (let from = 0; from < split.size; from += session.batch) {
    const count = Math.min(session.batch, split.size - from);
    const idx = Int32Array.from({ length: session.batch }, (_, b) => order[from + Math.min(b, count - 1)]!);
    const cols = gatherBatch(split, idx, 0, session.batch);
    const out = session.predict(cols)[output];
    if (!out) throw new Error(`evaluate: the model has no output '${output}'`);
    const t = cols[target]!;
    const perOut = out.length / session.batch;
    const perT = t.length / session.batch;
    for (let b = 0; b < count; b++) if (predictedClass(out, perOut, b) === targetClass(t, perT, b)) correct++;
  }
  return correct / split.size;
}

/** The training run one step at a time: yields after every step, returns the epochs' results.
 *  `train` runs it through; the CLI drives it asynchronously so Ctrl-C can stop it between steps. */
export function* trainSteps(session: Session, data: Dataset, opts: TrainOptions): Generator<void, EpochResult[]> {
  const results: EpochResult[] = [];
  const perEpoch = Math.floor(data.train.size / session.batch);
  const steps = Math.min(perEpoch, opts.maxSteps ?? perEpoch);
  if (perEpoch === 0) fail('K7010', `train: the batch (${session.batch}) is larger than the train split (${data.train.size} examples), so no step could run; use a batch of ${data.train.size} or less`);
  for (let epoch = 1; epoch <= opts.epochs; epoch++) {
    const t0 = performance.now();
    let sum = 0;
    let step = 0;
    for (const b of batches(data.train, session.batch, opts.seed, epoch)) {
      if (step >= steps) break;
      const loss = session.step(b);
      if (!Number.isFinite(loss)) fail('K7012', `train: the loss became ${loss} at epoch ${epoch}, step ${step + 1} ; training diverged: lower the learning rate or clip the gradients (kiln train has checked that the data is finite)`);
      sum += loss;
      step++;
      const secs = (performance.now() - t0) / 1000;
      opts.onStep?.({ epoch, step, steps, loss: sum / step, samplesPerSecond: (step * session.batch) / secs });
      yield;
    }
    const seconds = (performance.now() - t0) / 1000;
    const accuracy = evaluate(session, data.test, opts.output, opts.target);
    const r = { epoch, loss: sum / Math.max(1, step), accuracy, seconds, steps: step };
    results.push(r);
    opts.onEpoch?.(r);
  }
  return results;
}

export function train(session: Session, data: Dataset, opts: TrainOptions): EpochResult[] {
  const run = trainSteps(session, data, opts);
  for (;;) {
    const r = run.next();
    if (r.done) return r.value;
  }
}
