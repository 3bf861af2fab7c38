// The training step: forward + loss (+ regularization) + gradients + optimizer update as one graph.
// Its entry point takes a batch (inputs and targets) and returns the loss and metrics; its assigns
// write back the trained params, the optimizer slots (`<param>/<slot>`), the step counter
// (`optimizer/iterations`, i32) and the model's state (BatchNorm statistics, RNG counters).
// Params keep the names the DSL gave them, so `inferGraph(model)` shares them.
import { makeNode } from '../../ir/builder.ts';
import { fail, type Loc } from '../../ir/errors.ts';
import type { Graph, Init, Param, Value } from '../../ir/graph.ts';
import type { Emit } from '../../ir/ops/def.ts';
import { trace, type Model, type Traced } from '../dsl/model.ts';
import { apply, type OptimizerSpec } from '../dsl/optimizers.ts';
import { clipGradients, weightPenalty, type Clipping, type Regularization } from '../dsl/regularizers-clip.ts';
import { grad } from './autodiff.ts';

export interface TrainStepOptions {
  /** Overrides the model's batch size. */
  readonly batch?: number;
  /** Overrides the model's optimizer. */
  readonly optimizer?: OptimizerSpec;
  /** Overrides the model's global regularization. */
  readonly regularization?: Regularization;
  /** Overrides the model's gradient clipping. */
  readonly clip?: Clipping;
  /** Params (by name) kept as they are: no gradient, no optimizer slots, no update. */
  readonly freeze?: (paramName: string) => boolean;
  /** The step counter's param name (default ITERATIONS); entries that take turns keep one each. */
  readonly iterations?: string;
}

/** The name of the step counter param. */
export const ITERATIONS = 'optimizer/iterations';

/** The forward half of a training step: the trace, and its loss with the global penalty added. */
export interface TrainTrace {
  readonly traced: Traced;
  /** Scalar f32: the model's loss, the layers' penalties and the global regularization. */
  readonly loss: Value;
}

const emitAt =
  (loc: Loc | undefined): Emit =>
  (op, inputs, attrs) =>
    makeNode(op, inputs, attrs, loc);

export function traceTrain(model: Model, opts: TrainStepOptions = {}): TrainTrace {
  const all = trace(model, { mode: 'train', batch: opts.batch });
  const freeze = opts.freeze;
  const traced = freeze ? { ...all, trainable: all.trainable.filter((p) => !freeze(p.name)) } : all;
  const reg = opts.regularization ?? model.def.train?.regularization;
  const penalty = reg ? weightPenalty(emitAt(model.definedAt), traced.trainable, reg) : null;
  const loss = penalty ? makeNode('add', [traced.loss!, penalty], {}, model.definedAt) : traced.loss!;
  return { traced, loss };
}

/** Outputs 'loss' and the metrics, assigns the model's state updates (and `extra`), named `name`. */
function finish(t: TrainTrace, name: string, extra: (b: Traced['builder']) => void): Graph {
  const b = t.traced.builder;
  b.output('loss', t.loss);
  for (const [k, v] of Object.entries(t.traced.metrics)) b.output(k, v);
  extra(b);
  for (const a of t.traced.stateUpdates) b.assign(a.param, a.value);
  return { ...b.finish(), name };
}

/** The training loss without the update: outputs 'loss' and the metrics, assigns the state updates. */
export function lossGraph(model: Model, opts: TrainStepOptions = {}): Graph {
  return finish(traceTrain(model, opts), `${model.name}_train_loss`, () => {});
}

/** Evaluation: the loss (without penalties) and the metrics (declared, else the loss's default) with
 *  the model in inference mode (BatchNorm's running statistics, no dropout); writes nothing back. */
export function evalGraph(model: Model, batch?: number): Graph {
  const t = trace(model, { mode: 'eval', batch });
  const b = t.builder;
  b.output('loss', t.loss!);
  for (const [k, v] of Object.entries(t.metrics)) b.output(k, v);
  return { ...b.finish(), name: `${model.name}_evaluate` };
}

/** The loss and the gradient of every trainable param (outputs `grad/<param>`), no update. */
export function gradientsGraph(model: Model, opts: TrainStepOptions = {}): Graph {
  const t = traceTrain(model, opts);
  const grads = grad({ of: t.loss, wrt: t.traced.trainable });
  return finish(t, `${model.name}_gradients`, (b) => {
    for (const p of t.traced.trainable) b.output(`grad/${p.name}`, grads.get(p)!);
  });
}

export function trainStep(model: Model, opts: TrainStepOptions = {}): Graph {
  const train = model.def.train;
  if (!train)
    fail(
      'K2002',
      `${model.name}: trainStep needs the model's train setup (loss, optimizer) in defineModel`,
      model.definedAt,
    );
  const t = traceTrain(model, opts);
  const b = t.traced.builder;
  const params = t.traced.trainable;
  const emit = emitAt(model.definedAt);
  const grads = grad({ of: t.loss, wrt: params });
  const clip = opts.clip ?? train.clip;
  const clipped = clip
    ? clipGradients(
        emit,
        params.map((p) => grads.get(p)!),
        clip,
      )
    : params.map((p) => grads.get(p)!);
  const step = b.param(opts.iterations ?? ITERATIONS, 'i32', [], { name: 'zeros', attrs: {} }, model.definedAt);
  const slot = (name: string, p: Param, init: Init): Param =>
    b.param(`${p.name}/${name}`, p.type.dtype, p.type.shape, init, model.definedAt);
  const update = apply(opts.optimizer ?? train.optimizer, { emit, params, grads: clipped, step, slot });
  return finish(t, `${model.name}_train_step`, () => {
    params.forEach((p, i) => b.assign(p, update.params[i]!));
    for (const s of update.slots) b.assign(s.param, s.value);
    b.assign(step, emit('add', [step, emit('constant', [], { value: [1], shape: [], dtype: 'i32' })]));
  });
}
