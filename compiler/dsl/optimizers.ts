// Optimizers as graph builders: given params, their gradients and the step counter, each emits the
// new values of the params and of its slots (moment estimates, accumulators), which the training
// step writes back in place. Defaults and formulas are Keras 3's; where PyTorch's form differs
// (epsilon inside or outside the square root, Adam's epsilon and bias correction) the option
// `epsilonStyle: 'torch'` gives PyTorch's. docs/optimizers.md writes out every formula.
import type { Assign, Init, Param, Value } from '../../ir/graph.ts';
import type { Emit } from '../../ir/ops/def.ts';
import { fail } from '../../ir/errors.ts';
import { arith, type Arith } from './optimizer-math.ts';
import { clipGradients, type Clipping } from './regularizers-clip.ts';
import { learningRate as rateAt, type LearningRate } from './schedules.ts';

export type EpsilonStyle = 'keras' | 'torch';

interface Common extends Clipping {
  readonly learningRate: LearningRate;
  /** Keeps an exponential moving average of every updated param in its slot `ema` (Keras 3's
   *  `use_ema`/`ema_momentum`): after each update, `ema <- ema + (1 - d) * (p - ema)` with
   *  `d = min(ema, (t - 1) / (t + 9))`, so the first step copies the param and the average warms up
   *  (d 0.5 at step 11, 0.9 at 91, 0.99 at 991) before it holds the given decay. A GAN samples from
   *  its generator's average (compiler/train/schedule.ts). */
  readonly ema?: number;
}

export type OptimizerSpec =
  | (Common & { readonly kind: 'sgd'; readonly momentum: number; readonly nesterov: boolean })
  | (Common & {
      readonly kind: 'rmsprop';
      readonly rho: number;
      readonly momentum: number;
      readonly epsilon: number;
      readonly centered: boolean;
      readonly epsilonStyle: EpsilonStyle;
    })
  | (Common & {
      readonly kind: 'adam';
      readonly beta1: number;
      readonly beta2: number;
      readonly epsilon: number;
      readonly amsgrad: boolean;
      readonly epsilonStyle: EpsilonStyle;
    })
  | (Common & {
      readonly kind: 'adagrad';
      readonly initialAccumulator: number;
      readonly epsilon: number;
      readonly epsilonStyle: EpsilonStyle;
    })
  | (Common & { readonly kind: 'adadelta'; readonly rho: number; readonly epsilon: number });

type Options<K extends OptimizerSpec['kind']> = Partial<Omit<Extract<OptimizerSpec, { kind: K }>, 'kind'>>;

export const sgd = (o: Options<'sgd'> = {}): OptimizerSpec => ({
  learningRate: 0.01,
  momentum: 0,
  nesterov: false,
  ...o,
  kind: 'sgd',
});
/** SGD with (heavy-ball) momentum 0.9 unless given. */
export const momentum = (o: Options<'sgd'> = {}): OptimizerSpec => sgd({ momentum: 0.9, ...o });
/** SGD with Nesterov momentum 0.9 unless given. */
export const nesterov = (o: Options<'sgd'> = {}): OptimizerSpec => sgd({ momentum: 0.9, ...o, nesterov: true });
export const rmsprop = (o: Options<'rmsprop'> = {}): OptimizerSpec => ({
  learningRate: 0.001,
  rho: 0.9,
  momentum: 0,
  epsilon: 1e-7,
  centered: false,
  epsilonStyle: 'keras',
  ...o,
  kind: 'rmsprop',
});
export const adam = (o: Options<'adam'> = {}): OptimizerSpec => ({
  learningRate: 0.001,
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-7,
  amsgrad: false,
  epsilonStyle: 'keras',
  ...o,
  kind: 'adam',
});
export const adagrad = (o: Options<'adagrad'> = {}): OptimizerSpec => ({
  learningRate: 0.001,
  initialAccumulator: 0.1,
  epsilon: 1e-7,
  epsilonStyle: 'keras',
  ...o,
  kind: 'adagrad',
});
export const adadelta = (o: Options<'adadelta'> = {}): OptimizerSpec => ({
  learningRate: 0.001,
  rho: 0.95,
  epsilon: 1e-7,
  ...o,
  kind: 'adadelta',
});

export interface ApplyArgs {
  readonly emit: Emit;
  readonly params: readonly Param[];
  readonly grads: readonly Value[];
  /** The i32 scalar step counter: the number of updates already applied (0 on the first step). */
  readonly step: Value;
  /** Creates the slot param `name` of `param` (same type, the given initializer); called once per slot. */
  readonly slot: (name: string, param: Param, init: Init) => Param;
}

export interface ApplyResult {
  /** The new value of each param, in the order given. */
  readonly params: readonly Value[];
  /** The new value of each slot param. */
  readonly slots: readonly Assign[];
}

const ZEROS: Init = { name: 'zeros', attrs: {} };

/** Per-step scalars shared by every param's update. */
interface StepScalars {
  readonly lr: Value;
  /** The 1-based step number t as f32. */
  readonly t: Value;
}

type Update = (
  x: Arith,
  s: StepScalars,
  p: Param,
  g: Value,
  slot: (name: string, init?: Init) => Param,
  out: Assign[],
) => Value;

/** A slot's new value: recorded for write-back and returned for use in the formula. */
function put(out: Assign[], param: Param, value: Value): Value {
  out.push({ param, value });
  return value;
}

function sgdUpdate(o: Extract<OptimizerSpec, { kind: 'sgd' }>): Update {
  return (x, { lr }, p, g, slot, out) => {
    if (o.momentum === 0) return x.sub(p, x.mul(lr, g));
    const m = slot('momentum');
    const m1 = put(out, m, x.sub(x.mul(o.momentum, m), x.mul(lr, g))); // m = mu*m - lr*g
    return o.nesterov ? x.add(p, x.sub(x.mul(o.momentum, m1), x.mul(lr, g))) : x.add(p, m1);
  };
}

function rmspropUpdate(o: Extract<OptimizerSpec, { kind: 'rmsprop' }>): Update {
  return (x, { lr }, p, g, slot, out) => {
    const v = put(out, slot('rms'), x.add(x.mul(o.rho, slot('rms')), x.mul(1 - o.rho, x.square(g))));
    let variance = v;
    if (o.centered) {
      const mg = put(out, slot('mg'), x.add(x.mul(o.rho, slot('mg')), x.mul(1 - o.rho, g)));
      variance = x.sub(v, x.square(mg));
    }
    const denom = o.epsilonStyle === 'torch' ? x.add(x.sqrt(variance), o.epsilon) : x.sqrt(x.add(variance, o.epsilon));
    const increment = x.div(x.mul(lr, g), denom);
    if (o.momentum <= 0) return x.sub(p, increment);
    const mom = put(out, slot('momentum'), x.add(x.mul(o.momentum, slot('momentum')), increment));
    return x.sub(p, mom);
  };
}

function adamUpdate(o: Extract<OptimizerSpec, { kind: 'adam' }>): Update {
  return (x, { lr, t }, p, g, slot, out) => {
    const m = put(out, slot('adam_m'), x.add(slot('adam_m'), x.mul(x.sub(g, slot('adam_m')), 1 - o.beta1)));
    let v = put(out, slot('adam_v'), x.add(slot('adam_v'), x.mul(x.sub(x.square(g), slot('adam_v')), 1 - o.beta2)));
    if (o.amsgrad) v = put(out, slot('adam_vhat'), x.max(slot('adam_vhat'), v));
    const bc1 = x.sub(1, x.pow(o.beta1, t));
    const bc2 = x.sub(1, x.pow(o.beta2, t));
    if (o.epsilonStyle === 'torch') {
      // p -= lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps)
      return x.sub(p, x.div(x.mul(x.div(lr, bc1), m), x.add(x.div(x.sqrt(v), x.sqrt(bc2)), o.epsilon)));
    }
    // p -= m * alpha / (sqrt(v) + eps), alpha = lr * sqrt(bc2) / bc1
    const alpha = x.div(x.mul(lr, x.sqrt(bc2)), bc1);
    return x.sub(p, x.div(x.mul(m, alpha), x.add(x.sqrt(v), o.epsilon)));
  };
}

function adagradUpdate(o: Extract<OptimizerSpec, { kind: 'adagrad' }>): Update {
  const init: Init = { name: 'constant', attrs: { value: o.initialAccumulator } };
  return (x, { lr }, p, g, slot, out) => {
    const acc = put(out, slot('adagrad_acc', init), x.add(slot('adagrad_acc', init), x.square(g)));
    const denom = o.epsilonStyle === 'torch' ? x.add(x.sqrt(acc), o.epsilon) : x.sqrt(x.add(acc, o.epsilon));
    return x.sub(p, x.div(x.mul(lr, g), denom));
  };
}

function adadeltaUpdate(o: Extract<OptimizerSpec, { kind: 'adadelta' }>): Update {
  return (x, { lr }, p, g, slot, out) => {
    const rms = (a: Value): Value => x.sqrt(x.add(a, o.epsilon));
    const ag = put(
      out,
      slot('adadelta_grad'),
      x.add(x.mul(o.rho, slot('adadelta_grad')), x.mul(1 - o.rho, x.square(g))),
    );
    const delta = x.div(x.mul(rms(slot('adadelta_delta')), g), rms(ag)); // the step is -delta
    put(out, slot('adadelta_delta'), x.add(x.mul(o.rho, slot('adadelta_delta')), x.mul(1 - o.rho, x.square(delta))));
    return x.sub(p, x.mul(lr, delta));
  };
}

function updateOf(spec: OptimizerSpec): Update {
  switch (spec.kind) {
    case 'sgd':
      return sgdUpdate(spec);
    case 'rmsprop':
      return rmspropUpdate(spec);
    case 'adam':
      return adamUpdate(spec);
    case 'adagrad':
      return adagradUpdate(spec);
    case 'adadelta':
      return adadeltaUpdate(spec);
  }
}

/** Emits one optimizer step: clipping, the learning rate at `step`, and each param's update. */
export function apply(spec: OptimizerSpec, a: ApplyArgs): ApplyResult {
  if (a.params.length !== a.grads.length) {
    fail(
      'K5002',
      `optimizer ${spec.kind}: ${a.params.length} params but ${a.grads.length} gradients; give one gradient per param`,
    );
  }
  const x = arith(a.emit);
  const grads = clipGradients(a.emit, a.grads, spec);
  const scalars: StepScalars = { lr: rateAt(spec.learningRate, a.emit, a.step), t: x.add(x.f32(a.step), 1) };
  const update = updateOf(spec);
  const slots: Assign[] = [];
  const slotsOf = (p: Param): ((name: string, init?: Init) => Param) => {
    const made = new Map<string, Param>();
    return (name, init = ZEROS) => {
      const s = made.get(name) ?? a.slot(name, p, init);
      made.set(name, s);
      return s;
    };
  };
  const params = a.params.map((p, i) => update(x, scalars, p, grads[i]!, slotsOf(p), slots));
  if (spec.ema !== undefined) {
    if (!(spec.ema > 0 && spec.ema < 1))
      fail('K2002', `optimizer ${spec.kind}: ema is ${spec.ema}; it must lie between 0 and 1 (or be left out)`);
    const t = scalars.t;
    const decay = x.min(spec.ema, x.div(x.sub(t, 1), x.add(t, 9)));
    a.params.forEach((p, i) => {
      const avg = slotsOf(p)('ema');
      put(slots, avg, x.add(avg, x.mul(x.sub(params[i]!, avg), x.sub(1, decay))));
    });
  }
  return { params, slots };
}
