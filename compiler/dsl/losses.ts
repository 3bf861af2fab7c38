// Losses (Keras' names; arguments yTrue, yPred; the mean over the batch) in numerically stable
// form: from logits through log-sum-exp with the max's gradient stopped, from probabilities clipped
// to [1e-7, 1 - 1e-7] as Keras does. A model's `train.loss` is a factory's result: a function of
// the model's outputs and targets. The tensor-level losses are `losses.<name>.of(yTrue, yPred)`.
import { fail } from '../../ir/errors.ts';
import { formatType } from '../../ir/types.ts';
import { opLoc } from './context.ts';
import { k } from './ops.ts';
import type { Tensor } from './tensor.ts';

export type LossFn = (outputs: Readonly<Record<string, Tensor>>, targets: Readonly<Record<string, Tensor>>) => Tensor;

export interface LossOptions {
  /** Which output and target (default: the only one). */
  readonly output?: string;
  readonly target?: string;
}
export interface CrossentropyOptions extends LossOptions {
  /** yPred are logits rather than probabilities. */
  readonly fromLogits?: boolean;
}

const EPS = 1e-7;

function pick(
  what: 'output' | 'target',
  m: Readonly<Record<string, Tensor>>,
  name: string | undefined,
  loss: string,
): Tensor {
  const keys = Object.keys(m);
  const key = name ?? (keys.length === 1 ? keys[0] : undefined);
  const t = key === undefined ? undefined : m[key];
  if (!t)
    fail(
      'K2002',
      `${loss}: cannot tell which ${what} to use among [${keys.join(', ')}]; pass { ${what}: '<name>' }`,
      opLoc(),
    );
  return t;
}

function sameShapes(loss: string, yTrue: Tensor, yPred: Tensor): void {
  if (yTrue.shape.join() !== yPred.shape.join()) {
    fail(
      'K2001',
      `${loss}: target ${formatType(yTrue.value.type)} and prediction ${formatType(yPred.value.type)} differ in shape; make the target the model output's shape (for class ids use sparseCategoricalCrossentropy)`,
      opLoc(),
    );
  }
}

/** The mean over the batch of per-example losses (the mean over other axes as Keras has it). */
const batchMean = (perElement: Tensor): Tensor => perElement.mean();

export function mse(yTrue: Tensor, yPred: Tensor): Tensor {
  sameShapes('meanSquaredError', yTrue, yPred);
  return batchMean(yPred.sub(yTrue).square());
}

/** Binary cross-entropy; from logits x: max(x, 0) − x·z + log(1 + exp(−|x|)). */
export function binaryCrossentropy(yTrue: Tensor, yPred: Tensor, fromLogits = false): Tensor {
  sameShapes('binaryCrossentropy', yTrue, yPred);
  if (fromLogits) return batchMean(yPred.relu().sub(yPred.mul(yTrue)).add(yPred.abs().neg().exp().add(1).log()));
  const p = yPred.maximum(EPS).minimum(1 - EPS);
  return batchMean(
    yTrue
      .mul(p.log())
      .add(k.sub(1, yTrue).mul(k.sub(1, p).log()))
      .neg(),
  );
}

/** Categorical cross-entropy over the last axis with one-hot (or soft) targets. */
export function categoricalCrossentropy(yTrue: Tensor, yPred: Tensor, fromLogits = false): Tensor {
  sameShapes('categoricalCrossentropy', yTrue, yPred);
  const logp = fromLogits
    ? k.logSoftmax(yPred, -1)
    : yPred
        .div(yPred.sum(-1, true))
        .maximum(EPS)
        .minimum(1 - EPS)
        .log();
  return yTrue.mul(logp).sum(-1).neg().mean();
}

/** Categorical cross-entropy with i32 class ids: yTrue [...], yPred [..., classes]. */
export function sparseCategoricalCrossentropy(yTrue: Tensor, yPred: Tensor, fromLogits = false): Tensor {
  if (yTrue.dtype !== 'i32' || yTrue.shape.join() !== yPred.shape.slice(0, -1).join()) {
    fail(
      'K2001',
      `sparseCategoricalCrossentropy: target ${formatType(yTrue.value.type)} must be i32 class ids shaped like the prediction ${formatType(yPred.value.type)} without its last axis`,
      opLoc(),
    );
  }
  return categoricalCrossentropy(k.oneHot(yTrue, yPred.shape[yPred.rank - 1]!), yPred, fromLogits);
}

/** What a loss is for: it picks the metrics a model reports when it declares none. */
export type Task = 'classification' | 'regression';

type Of<O> = { of: (yTrue: Tensor, yPred: Tensor) => Tensor; readonly options: O; readonly task: Task };

function factory<O extends LossOptions>(f: (yTrue: Tensor, yPred: Tensor, o: O) => Tensor, name: string, task: Task) {
  return (o: O = {} as O): LossFn & Of<O> =>
    Object.assign(
      (outs: Readonly<Record<string, Tensor>>, tgts: Readonly<Record<string, Tensor>>) =>
        f(pick('target', tgts, o.target, name), pick('output', outs, o.output, name), o),
      {
        of: (yTrue: Tensor, yPred: Tensor) => f(yTrue, yPred, o),
        options: o,
        task,
      },
    );
}

export const losses = {
  meanSquaredError: factory<LossOptions>((t, p) => mse(t, p), 'meanSquaredError', 'regression'),
  binaryCrossentropy: factory<CrossentropyOptions>(
    (t, p, o) => binaryCrossentropy(t, p, o.fromLogits),
    'binaryCrossentropy',
    'classification',
  ),
  categoricalCrossentropy: factory<CrossentropyOptions>(
    (t, p, o) => categoricalCrossentropy(t, p, o.fromLogits),
    'categoricalCrossentropy',
    'classification',
  ),
  sparseCategoricalCrossentropy: factory<CrossentropyOptions>(
    (t, p, o) => sparseCategoricalCrossentropy(t, p, o.fromLogits),
    'sparseCategoricalCrossentropy',
    'classification',
  ),
};

/** Accuracy as Keras picks it: class ids vs argmax, one-hot vs argmax, or a single probability vs 0.5. */
export function accuracy(yTrue: Tensor, yPred: Tensor): Tensor {
  const classes = yPred.shape[yPred.rank - 1] ?? 1;
  let hit: Tensor;
  if (yTrue.dtype === 'i32' && yTrue.rank === yPred.rank - 1) hit = yPred.argmax(-1).equal(yTrue);
  else if (classes > 1 && yTrue.rank === yPred.rank) hit = yPred.argmax(-1).equal(yTrue.argmax(-1));
  else hit = yPred.greater(0.5).equal(yTrue.cast('f32').greater(0.5));
  return hit.cast('f32').mean();
}

/** The mean absolute error. */
export function mae(yTrue: Tensor, yPred: Tensor): Tensor {
  sameShapes('meanAbsoluteError', yTrue, yPred);
  return yPred.sub(yTrue).abs().mean();
}

/** Metrics by the names a model's `train.metrics` lists: accuracy for classification, mse and mae for regression. */
export const metrics = { accuracy, mse, mae };
export type MetricName = keyof typeof metrics;

/** The metrics a model reports when it declares none: accuracy for a classification loss, the mean
 *  absolute error for a regression loss (its loss is already the squared error), none for a loss
 *  function of the user's own. */
export function defaultMetrics(loss: LossFn): readonly MetricName[] {
  const task = (loss as { task?: Task }).task;
  return task === 'classification' ? ['accuracy'] : task === 'regression' ? ['mae'] : [];
}
