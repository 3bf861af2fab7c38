// Learning-rate schedules, driven by the optimizer's step counter (an i32 scalar param counting the
// steps already taken, so the first step sees 0). Each schedule builds the rate as a graph value.
import type { Value } from '../../ir/graph.ts';
import { fail } from '../../ir/errors.ts';
import { arith, type Arith } from './optimizer-math.ts';
import type { Emit } from '../../ir/ops/def.ts';

export type Schedule =
  | { readonly kind: 'constant'; readonly value: number }
  /** initial * gamma ^ floor(step / stepSize) (PyTorch's StepLR). */
  | { readonly kind: 'step'; readonly initial: number; readonly stepSize: number; readonly gamma: number }
  /** initial * decayRate ^ (step / decaySteps), the exponent floored when staircase (Keras' ExponentialDecay). */
  | {
      readonly kind: 'exponential';
      readonly initial: number;
      readonly decaySteps: number;
      readonly decayRate: number;
      readonly staircase: boolean;
    }
  /** initial * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, decaySteps) / decaySteps)) + alpha) (Keras' CosineDecay). */
  | { readonly kind: 'cosine'; readonly initial: number; readonly decaySteps: number; readonly alpha: number };

export type LearningRate = number | Schedule;

export const constant = (value: number): Schedule => ({ kind: 'constant', value });
export const stepDecay = (o: { initial: number; stepSize: number; gamma?: number }): Schedule => ({
  kind: 'step',
  initial: o.initial,
  stepSize: o.stepSize,
  gamma: o.gamma ?? 0.1,
});
export const exponentialDecay = (o: {
  initial: number;
  decaySteps: number;
  decayRate: number;
  staircase?: boolean;
}): Schedule => ({
  kind: 'exponential',
  initial: o.initial,
  decaySteps: o.decaySteps,
  decayRate: o.decayRate,
  staircase: o.staircase ?? false,
});
export const cosineDecay = (o: { initial: number; decaySteps: number; alpha?: number }): Schedule => ({
  kind: 'cosine',
  initial: o.initial,
  decaySteps: o.decaySteps,
  alpha: o.alpha ?? 0,
});

function positive(what: string, x: number): void {
  if (!(x > 0)) fail('K2002', `learning-rate schedule: ${what} is ${x}; it must be positive`);
}

function decayed(x: Arith, s: Schedule, step: Value): Value {
  switch (s.kind) {
    case 'constant':
      return x.c(s.value);
    case 'step': {
      positive('stepSize', s.stepSize);
      const k = x.emit('floor', [x.div(x.f32(step), s.stepSize)]);
      return x.mul(s.initial, x.pow(s.gamma, k));
    }
    case 'exponential': {
      positive('decaySteps', s.decaySteps);
      const p = x.div(x.f32(step), s.decaySteps);
      return x.mul(s.initial, x.pow(s.decayRate, s.staircase ? x.emit('floor', [p]) : p));
    }
    case 'cosine': {
      positive('decaySteps', s.decaySteps);
      const frac = x.div(x.min(x.f32(step), s.decaySteps), s.decaySteps);
      const cosine = x.mul(0.5, x.add(1, x.emit('cos', [x.mul(Math.PI, frac)])));
      return x.mul(s.initial, x.add(x.mul(1 - s.alpha, cosine), s.alpha));
    }
  }
}

/** The learning rate at `step` (i32 scalar, steps taken so far) as an f32 scalar value. */
export function learningRate(lr: LearningRate, emit: Emit, step: Value): Value {
  const x = arith(emit);
  return typeof lr === 'number' ? x.c(lr) : decayed(x, lr, step);
}

/** Each schedule's fields as the text form names them, with their defaults (undefined: required). */
const FIELDS: Readonly<Record<Schedule['kind'], Readonly<Record<string, number | boolean | undefined>>>> = {
  constant: {},
  step: { stepSize: undefined, gamma: 0.1 },
  exponential: { decaySteps: undefined, decayRate: undefined, staircase: false },
  cosine: { decaySteps: undefined, alpha: 0 },
};

/** The initial rate of a learning rate: the number itself, or the schedule's starting value. */
export function initialRate(lr: LearningRate): number {
  return typeof lr === 'number' ? lr : lr.kind === 'constant' ? lr.value : lr.initial;
}

/**
 * A schedule from its text form `kind:field=value,...` (the fields of the DSL's schedule of that
 * kind; a boolean field alone means true), starting at `initial` unless the text sets `initial=`:
 * `exponential:decaySteps=1000,decayRate=0.9,staircase`, `step:stepSize=500,gamma=0.5`,
 * `cosine:decaySteps=2000,alpha=0.01`, `constant`.
 */
export function parseSchedule(text: string, initial: number): Schedule {
  const [kind, rest = ''] = text.split(/:(.*)/s) as [string, string?];
  const fields = FIELDS[kind as Schedule['kind']];
  const known = Object.keys(FIELDS).join(', ');
  if (!Object.hasOwn(FIELDS, kind) || !fields)
    fail('K8001', `learning-rate schedule '${text}': unknown kind '${kind}'; known: ${known}`);
  const values: Record<string, number | boolean | undefined> = { ...fields, initial };
  for (const part of rest.split(',').filter((p) => p !== '')) {
    const [key, raw] = part.split('=') as [string, string?];
    if (!(key in values))
      fail(
        'K8001',
        `learning-rate schedule '${text}': ${kind} has no field '${key}'; its fields: ${['initial', ...Object.keys(fields)].join(', ')}`,
      );
    const boolean = typeof fields[key] === 'boolean';
    const value = boolean ? (raw === undefined || raw === 'true' ? true : raw === 'false' ? false : NaN) : Number(raw);
    if (typeof value === 'number' && !Number.isFinite(value))
      fail(
        'K8001',
        `learning-rate schedule '${text}': ${key}=${raw ?? ''} is not ${boolean ? 'true or false' : 'a number'}`,
      );
    values[key] = value;
  }
  const missing = Object.keys(values).filter((k) => values[k] === undefined);
  if (missing.length)
    fail('K8001', `learning-rate schedule '${text}': ${kind} needs ${missing.map((k) => `${k}=<number>`).join(', ')}`);
  const v = values as Record<string, number> & Record<string, boolean>;
  switch (kind as Schedule['kind']) {
    case 'constant':
      return constant(v.initial!);
    case 'step':
      return stepDecay({ initial: v.initial!, stepSize: v.stepSize!, gamma: v.gamma! });
    case 'exponential':
      return exponentialDecay({
        initial: v.initial!,
        decaySteps: v.decaySteps!,
        decayRate: v.decayRate!,
        staircase: v.staircase === true,
      });
    case 'cosine':
      return cosineDecay({ initial: v.initial!, decaySteps: v.decaySteps!, alpha: v.alpha! });
  }
}
