// Models: a name, typed inputs (per example; the batch is chosen at compile time), a forward
// function or layer, and optionally a training setup. `trace` runs the forward (and in 'train' the
// loss, penalties and metrics) into a GraphBuilder; the autodiff and training passes take it from there.
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { GraphBuilder } from '../../ir/builder.ts';
import { fail, type Loc } from '../../ir/errors.ts';
import type { Assign, Graph, Input, Param, Value } from '../../ir/graph.ts';
import type { DType, Shape } from '../../ir/types.ts';
import type { Dataset } from '../data/dataset.ts';
import { checkDims, TraceContext, withTrace } from './context.ts';
import { isLayer } from './layers/layer.ts';
import { defaultMetrics, metrics as METRICS, type LossFn, type LossOptions, type MetricName } from './losses.ts';
import { callerLoc } from './loc.ts';
import type { OptimizerSpec } from './optimizers.ts';
import type { Clipping, Regularization } from './regularizers-clip.ts';
import { Tensor } from './tensor.ts';

export interface TensorSpec {
  readonly dtype: DType;
  /** Per example, without the batch axis. */
  readonly shape: Shape;
  /** i32 only: every value v satisfies range[0] <= v < range[1] (class labels, token ids). Compiled
   *  artifacts declare it and the runtime refuses calls with values outside it. */
  readonly range?: readonly [number, number];
}

/** The forward pass: a function of the named inputs, or a Layer (which is one: it takes a model's single input). */
export type Forward = (inputs: Record<string, Tensor>, ctx: { training: boolean }) => Tensor | Record<string, Tensor>;

export interface TrainDef {
  readonly loss: LossFn;
  readonly optimizer: OptimizerSpec;
  /** What `kiln train` reports beside the loss: 'accuracy' (classification), 'mse', 'mae' (regression).
   *  Default: accuracy for a cross-entropy loss, mae for the mean squared error. The training step
   *  computes the metrics listed here; evaluation computes these or the default. */
  readonly metrics?: readonly MetricName[];
  /** The fraction of the training split held out for validation when the dataset has no `validation` split. */
  readonly validationSplit?: number;
  /** Which params the optimizer updates (default: all trainable ones). */
  readonly trainable?: (paramName: string) => boolean;
  readonly clip?: Clipping;
  /** A penalty on every trainable weight, on top of the layers' own regularizers. */
  readonly regularization?: Regularization;
}

/** One training entry of a scheduled model: a model with a train setup whose params (by name) the
 *  scheduled model's other entries share, as the GAN's discriminator and generator steps do. */
export interface ScheduleStep {
  /** The entry point's name in the compiled program. */
  readonly name: string;
  readonly model: Model;
  /** Runs per turn of the schedule (default 1). */
  readonly repeat?: number;
}

/** Training by alternating entries (a GAN): the steps run in order, each `repeat` times, and every
 *  run of a step that reads a dataset column takes the next batch; an epoch ends when a step finds
 *  the split used up. */
export interface TrainSchedule {
  readonly steps: readonly ScheduleStep[];
  /** Inputs drawn afresh for every run instead of read from the dataset: standard normal, or uniform in [-1, 1). */
  readonly draw?: Readonly<Record<string, 'normal' | 'uniform'>>;
  /** After each epoch, `kiln train --save DIR` writes DIR/samples-<epoch>.png: the model's output
   *  ([batch, height, width, 1 | 3], values in `range`) for fixed drawn inputs, as a rows x cols grid. */
  readonly preview?: { readonly rows: number; readonly cols: number; readonly range: readonly [number, number] };
}

export interface ModelDef {
  readonly name: string;
  /** The default compile-time batch size. */
  readonly batch: number;
  readonly inputs: Readonly<Record<string, TensorSpec>>;
  readonly targets?: Readonly<Record<string, TensorSpec>>;
  readonly forward: Forward;
  readonly train?: TrainDef;
  /** Training by alternating entries instead of one `train` step (`forward` is then the `infer` entry). */
  readonly schedule?: TrainSchedule;
  /** The data `kiln train` streams: columns named like the inputs and targets. */
  readonly dataset?: () => Dataset | Promise<Dataset>;
}

export interface Model {
  readonly kind: 'kiln.model';
  readonly name: string;
  readonly def: ModelDef;
  /** Where defineModel was called. */
  readonly definedAt: Loc | undefined;
}

export interface Traced {
  readonly builder: GraphBuilder;
  readonly inputs: Record<string, Input>;
  readonly targets: Record<string, Input>;
  readonly outputs: Record<string, Value>;
  /** Scalar f32, mode 'train' only; includes the layers' regularization penalties. */
  readonly loss?: Value;
  readonly metrics: Record<string, Value>;
  /** Params the optimizer updates, in creation order. */
  readonly trainable: Param[];
  /** BatchNorm running statistics, dropout counters: written in place every step, not trained.
   *  `trace` does not add them to the builder: the training step does (`finishTraced` for tests). */
  readonly stateUpdates: Assign[];
}

export interface TraceOptions {
  /** 'train': training behaviour, loss and the declared metrics. 'infer': inference behaviour, outputs
   *  only. 'eval': inference behaviour with the loss (no penalties) and the metrics (declared or default). */
  readonly mode: 'train' | 'infer' | 'eval';
  /** Overrides the model's batch size. */
  readonly batch?: number;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

export function defineModel(def: ModelDef): Model {
  const loc = callerLoc();
  if (!NAME.test(def.name))
    fail('K2002', `defineModel: name '${def.name}' must be letters, digits, _ . - (not starting with a digit)`, loc);
  if (!(Number.isInteger(def.batch) && def.batch > 0))
    fail('K2002', `defineModel(${def.name}): batch ${def.batch} must be a positive integer`, loc);
  if (Object.keys(def.inputs).length === 0) fail('K2002', `defineModel(${def.name}): declare at least one input`, loc);
  for (const [kind, specs] of [
    ['input', def.inputs],
    ['target', def.targets ?? {}],
  ] as const) {
    for (const [name, s] of Object.entries(specs))
      checkDims(`defineModel(${def.name}): ${kind} '${name}'`, s.shape, loc);
  }
  for (const [name, s] of Object.entries({ ...def.inputs, ...def.targets })) {
    const r = s.range;
    if (r && (s.dtype !== 'i32' || !Number.isSafeInteger(r[0]) || !Number.isSafeInteger(r[1]) || r[0] >= r[1])) {
      fail(
        'K2002',
        `defineModel(${def.name}): '${name}' has range ${JSON.stringify(r)}; a range is [lo, hi) with integers lo < hi, on an i32 value`,
        loc,
      );
    }
  }
  const v = def.train?.validationSplit;
  if (v !== undefined && !(v > 0 && v < 1))
    fail(
      'K2002',
      `defineModel(${def.name}): train.validationSplit ${v} must be a fraction strictly between 0 and 1`,
      loc,
    );
  if (def.schedule) checkSchedule(def, loc);
  return Object.freeze({ kind: 'kiln.model', name: def.name, def, definedAt: loc });
}

function checkSchedule(def: ModelDef, loc: Loc | undefined): void {
  const s = def.schedule!;
  if (def.train)
    fail(
      'K2002',
      `defineModel(${def.name}): give either train (one step) or schedule (alternating steps), not both`,
      loc,
    );
  if (s.steps.length === 0) fail('K2002', `defineModel(${def.name}): the schedule has no steps`, loc);
  const names = new Set<string>();
  for (const step of s.steps) {
    if (!NAME.test(step.name) || step.name === 'infer' || names.has(step.name))
      fail(
        'K2002',
        `defineModel(${def.name}): schedule step name '${step.name}' must be a unique identifier other than 'infer'`,
        loc,
      );
    names.add(step.name);
    if (!step.model.def.train)
      fail(
        'K2002',
        `defineModel(${def.name}): schedule step '${step.name}' uses model '${step.model.name}', which has no train setup`,
        loc,
      );
    if (step.repeat !== undefined && !(Number.isInteger(step.repeat) && step.repeat > 0))
      fail(
        'K2002',
        `defineModel(${def.name}): schedule step '${step.name}' repeat ${step.repeat} must be a positive integer`,
        loc,
      );
  }
}

export function isModel(x: unknown): x is Model {
  return typeof x === 'object' && x !== null && (x as Model).kind === 'kiln.model';
}

function declare(
  b: GraphBuilder,
  specs: Readonly<Record<string, TensorSpec>>,
  batch: number,
  loc: Loc | undefined,
): Record<string, Input> {
  return Object.fromEntries(
    Object.entries(specs).map(([name, s]) => [name, b.input(name, s.dtype, [batch, ...s.shape], loc)]),
  );
}

const wrap = (vs: Record<string, Value>): Record<string, Tensor> =>
  Object.fromEntries(Object.entries(vs).map(([k, v]) => [k, new Tensor(v)]));

function runForward(def: ModelDef, ctx: TraceContext, inputs: Record<string, Tensor>): Record<string, Tensor> {
  const f = def.forward;
  // A layer as forward: its ops are located where the user made it, not at this call.
  const out = isLayer(f) ? ctx.within(f.createdAt, () => f(inputs)) : f(inputs, { training: ctx.training });
  return out instanceof Tensor ? { y: out } : out;
}

export function trace(model: Model, opts: TraceOptions): Traced {
  const def = model.def;
  const batch = opts.batch ?? def.batch;
  if (!(Number.isSafeInteger(batch) && batch > 0))
    fail('K2002', `${def.name}: batch ${batch} must be a positive integer`, model.definedAt);
  const training = opts.mode === 'train';
  const withLoss = opts.mode !== 'infer';
  const train = def.train;
  if (withLoss && !train)
    fail(
      'K2002',
      `${def.name}: trace in '${opts.mode}' mode needs the model's train setup (loss, optimizer) in defineModel`,
    );
  const builder = new GraphBuilder(def.name);
  const inputs = declare(builder, def.inputs, batch, model.definedAt);
  const targets = withLoss ? declare(builder, def.targets ?? {}, batch, model.definedAt) : {};
  const ctx = new TraceContext(builder, training);
  return withTrace(ctx, () => {
    const outs = runForward(def, ctx, wrap(inputs));
    const outputs = Object.fromEntries(Object.entries(outs).map(([k, t]) => [k, t.value]));
    const isTrainable = train?.trainable ?? (() => true);
    const trainable = ctx.params.filter((p) => p.trainable && isTrainable(p.param.name)).map((p) => p.param);
    if (!withLoss || !train) return { builder, inputs, targets, outputs, metrics: {}, trainable, stateUpdates: [] };
    const tgts = wrap(targets);
    const names = training ? (train.metrics ?? []) : (train.metrics ?? defaultMetrics(train.loss));
    // The loss and metrics are located at defineModel: a loss factory has no call site of its own.
    const { loss, metrics } = ctx.within(model.definedAt, () => {
      const l = ctx.penalties.reduce((acc, p) => acc.add(new Tensor(p)), train.loss(outs, tgts));
      if (l.rank !== 0 || l.dtype !== 'f32')
        fail('K2002', `${def.name}: the loss must be an f32 scalar, got ${l}`, ctx.loc());
      return {
        loss: l,
        metrics: Object.fromEntries(names.map((m) => [m, metric(def.name, m, train.loss, outs, tgts).value])),
      };
    });
    return {
      builder,
      inputs,
      targets,
      outputs,
      loss: loss.value,
      metrics,
      trainable,
      stateUpdates: training ? ctx.stateUpdates() : [],
    };
  });
}

/** A metric of the output and target the loss uses (those it names, else the only ones). */
function metric(
  model: string,
  name: string,
  loss: LossFn,
  outs: Record<string, Tensor>,
  tgts: Record<string, Tensor>,
): Tensor {
  if (!Object.hasOwn(METRICS, name))
    fail('K2002', `${model}: unknown metric '${name}'; known: ${Object.keys(METRICS).join(', ')}`);
  const named = (loss as { options?: LossOptions }).options ?? {};
  const pick = (m: Record<string, Tensor>, key: string | undefined): Tensor | undefined =>
    key !== undefined ? m[key] : Object.keys(m).length === 1 ? Object.values(m)[0] : undefined;
  const [o, t] = [pick(outs, named.output), pick(tgts, named.target)];
  if (!o || !t)
    fail(
      'K2002',
      `${model}: '${name}' needs one output and one target (the model has [${Object.keys(outs).join(', ')}] and [${Object.keys(tgts).join(', ')}]); name them in the loss: losses.x({ output, target })`,
    );
  return METRICS[name as MetricName](t, o);
}

/** A graph of the trace: its outputs (plus 'loss' and the metrics in 'train'), and its state updates as assigns. */
export function finishTraced(t: Traced, opts: { assignState?: boolean } = {}): Graph {
  for (const [name, v] of Object.entries(t.outputs)) t.builder.output(name, v);
  if (t.loss) t.builder.output('loss', t.loss);
  for (const [name, v] of Object.entries(t.metrics)) t.builder.output(name, v);
  if (opts.assignState ?? true) for (const a of t.stateUpdates) t.builder.assign(a.param, a.value);
  return t.builder.finish();
}

/** The inference graph: inputs -> the model's outputs ('y' when forward returns one tensor). */
export function inferGraph(model: Model, batch?: number): Graph {
  return finishTraced(trace(model, { mode: 'infer', batch }));
}

/** The models a model file exports (default and named), by model name. */
export async function loadModels(file: string): Promise<Record<string, Model>> {
  const mod = (await import(pathToFileURL(resolve(file)).href)) as Record<string, unknown>;
  const found: Record<string, Model> = {};
  for (const v of Object.values(mod)) if (isModel(v)) found[v.name] = v;
  if (Object.keys(found).length === 0)
    fail('K8001', `${file}: exports no model; export the result of defineModel (default or named)`);
  return found;
}

/** One model of a file: `name` (model name), else the only one, else the default export. */
export async function pickModel(file: string, name: string | undefined, command: string): Promise<Model> {
  const models = await loadModels(file);
  const names = Object.keys(models);
  if (name !== undefined) {
    const m = models[name];
    if (!m) fail('K8001', `${command}: ${file} has no model '${name}'; it exports ${names.join(', ')}`);
    return m;
  }
  if (names.length === 1) return models[names[0]!]!;
  const mod = (await import(pathToFileURL(resolve(file)).href)) as { default?: unknown };
  if (isModel(mod.default)) return mod.default;
  return fail('K8001', `${command}: ${file} exports several models (${names.join(', ')}); pick one with --model`);
}
