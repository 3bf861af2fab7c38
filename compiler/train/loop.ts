// The training loop behind `kiln train`: epochs of shuffled batches through a compiled training
// step; after each epoch the loss and metrics of the validation and test splits through the
// compiled `evaluate` entry; early stopping on the validation loss, which keeps the best params.
// A run's `Progress` is everything it needs to continue exactly (a checkpoint stores it): the
// batches of epoch e depend only on (seed, e), and every other state lives in the params.
import { fail } from '../../ir/errors.ts';
import type { NamedArray } from '../../runtime/safetensors.ts';
import { batches, gatherBatch, type Column, type Dataset, type Split } from '../data/dataset.ts';

/** A compiled model being trained: one call per step, whatever the backend. */
export interface Session {
  readonly batch: number;
  /** Runs one training step on a full batch (inputs and targets by name); returns the loss. */
  step(batch: Readonly<Record<string, Column>>): number;
  /** Runs `infer` on a full batch of inputs; returns the model's outputs. */
  predict(inputs: Readonly<Record<string, Column>>): Record<string, Column>;
  /** The loss and metrics of a full batch in inference mode ('loss', 'accuracy', ...); writes nothing. */
  evaluate(batch: Readonly<Record<string, Column>>): Record<string, number>;
  /** The current params (weights, optimizer slots, counters) by name. */
  params(): Record<string, NamedArray>;
  /** Overwrites params by name (a saved model); names the session does not have are an error. */
  load(params: Readonly<Record<string, NamedArray>>): void;
}

/** The loss and each metric of a split, by name. */
export type Scores = Readonly<Record<string, number>>;

export interface EpochResult {
  readonly epoch: number;
  /** The mean training loss over the epoch's steps (penalties included). */
  readonly loss: number;
  readonly validation?: Scores;
  readonly test: Scores;
  readonly seconds: number;
  readonly steps: number;
}

/** The best epoch by validation loss, and the params it ended with. */
export interface Best {
  readonly epoch: number;
  readonly loss: number;
  readonly params: Readonly<Record<string, NamedArray>>;
}

/** How far a run has come: its epochs' results, the best epoch so far (early stopping) and whether it stopped. */
export interface Progress {
  readonly history: readonly EpochResult[];
  readonly best?: Best;
  /** Early stopping ended the run: no epoch follows. */
  readonly stopped: boolean;
}

export interface TrainOptions {
  /** The epoch to end with (counting the epochs of `from`). */
  readonly epochs: number;
  readonly seed: number;
  /** Stop each epoch after this many steps (short runs and tests). */
  readonly maxSteps?: number;
  /** Stop when the validation loss has not improved for `patience` epochs; keep the best params. */
  readonly earlyStopping?: { readonly patience: number };
  /** Continue a run (a checkpoint's progress; the session holds its params). */
  readonly from?: Progress;
  readonly onStep?: (info: {
    epoch: number;
    step: number;
    steps: number;
    loss: number;
    samplesPerSecond: number;
  }) => void;
  /** After each epoch, with the run's progress (write a checkpoint here). */
  readonly onEpoch?: (r: EpochResult, progress: Progress) => void;
}

export interface TrainResult {
  readonly history: readonly EpochResult[];
  /** The epoch whose params the session holds at the end (the best one with early stopping). */
  readonly kept: EpochResult | undefined;
  /** The epoch early stopping ended the run at, if it did. */
  readonly stoppedAt?: number;
}

/** Adds `w` times each score to `sums`. */
function accumulate(sums: Record<string, number>, scores: Scores, w: number): void {
  for (const [k, v] of Object.entries(scores)) sums[k] = (sums[k] ?? 0) + w * v;
}

/**
 * The loss and metrics of a whole split, as means over its examples. The compiled batch size is
 * static, so the last partial batch of r examples is padded with copies of its last example e; its
 * score s_p is (sum of the r real scores + (B - r) * s_e) / B, where s_e, e's own score, is the score
 * of a batch of B copies of e. This holds for every loss and metric that is a mean over examples
 * (all of kiln's are; inference mode makes examples independent).
 */
export function evaluate(session: Session, split: Split): Scores {
  const B = session.batch;
  const sums: Record<string, number> = {};
  const order = Int32Array.from({ length: split.size }, (_, i) => i);
  const full = Math.floor(split.size / B);
  for (let i = 0; i < full; i++) accumulate(sums, session.evaluate(gatherBatch(split, order, i * B, B)), B);
  const rest = split.size - full * B;
  if (rest > 0) {
    const last = split.size - 1;
    const padded = Int32Array.from({ length: B }, (_, b) => Math.min(full * B + b, last));
    accumulate(sums, session.evaluate(gatherBatch(split, padded, 0, B)), B);
    accumulate(sums, session.evaluate(gatherBatch(split, new Int32Array(B).fill(last), 0, B)), -(B - rest));
  }
  return Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / split.size]));
}

/** One epoch of training steps, yielding after each; returns the mean loss and the number of steps. */
function* trainEpoch(
  session: Session,
  split: Split,
  epoch: number,
  opts: TrainOptions,
): Generator<void, { loss: number; steps: number }> {
  const perEpoch = Math.floor(split.size / session.batch);
  const steps = Math.min(perEpoch, opts.maxSteps ?? perEpoch);
  const t0 = performance.now();
  let sum = 0;
  let step = 0;
  for (const b of batches(split, session.batch, opts.seed, epoch)) {
    if (step >= steps) break;
    const loss = session.step(b);
    if (!Number.isFinite(loss))
      fail(
        'K7012',
        `train: the loss became ${loss} at epoch ${epoch}, step ${step + 1}; training diverged: lower the learning rate or clip the gradients (kiln train has checked that the data is finite)`,
      );
    sum += loss;
    step++;
    opts.onStep?.({
      epoch,
      step,
      steps,
      loss: sum / step,
      samplesPerSecond: (step * session.batch) / ((performance.now() - t0) / 1000),
    });
    yield;
  }
  return { loss: sum / Math.max(1, step), steps: step };
}

/** The training run one step at a time: yields after every step, returns the run's result. `train`
 *  runs it through; the CLI drives it asynchronously so Ctrl-C can stop it between steps. */
export function* trainSteps(session: Session, data: Dataset, opts: TrainOptions): Generator<void, TrainResult> {
  const patience = opts.earlyStopping?.patience;
  if (patience !== undefined && !data.validation)
    fail(
      'K8001',
      'train: early stopping watches the validation loss; give the dataset a validation split (or --validation-split)',
    );
  const history: EpochResult[] = [...(opts.from?.history ?? [])];
  let best = opts.from?.best;
  let stopped = opts.from?.stopped ?? false;
  for (let epoch = history.length + 1; epoch <= opts.epochs && !stopped; epoch++) {
    const t0 = performance.now();
    const { loss, steps } = yield* trainEpoch(session, data.train, epoch, opts);
    const seconds = (performance.now() - t0) / 1000;
    const validation = data.validation ? evaluate(session, data.validation) : undefined;
    const r: EpochResult = {
      epoch,
      loss,
      ...(validation ? { validation } : {}),
      test: evaluate(session, data.test),
      seconds,
      steps,
    };
    history.push(r);
    if (patience !== undefined) {
      const v = validation!.loss!;
      if (!best || v < best.loss) best = { epoch, loss: v, params: session.params() };
      stopped = epoch - best.epoch >= patience;
    }
    opts.onEpoch?.(r, { history, ...(best ? { best } : {}), stopped });
  }
  if (patience === undefined || !best) return { history, kept: history[history.length - 1] };
  session.load(best.params);
  const stoppedAt = stopped ? history[history.length - 1]!.epoch : undefined;
  return { history, kept: history[best.epoch - 1], ...(stoppedAt !== undefined ? { stoppedAt } : {}) };
}

export function train(session: Session, data: Dataset, opts: TrainOptions): TrainResult {
  const run = trainSteps(session, data, opts);
  for (;;) {
    const r = run.next();
    if (r.done) return r.value;
  }
}
