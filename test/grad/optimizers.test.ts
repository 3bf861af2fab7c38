// Every optimizer's update formula on a tiny case for three steps, against values computed by hand
// (numpy float64, written out from the formulas in docs/optimizers.md; the PyTorch-style variants were
// also checked against torch.optim). Run in the f32 interpreter: tolerance 2e-6 absolute.
import { describe, expect, it } from 'vitest';
import { GraphBuilder, makeNode } from '../../ir/builder.ts';
import type { Param, Value } from '../../ir/graph.ts';
import { interpret } from '../../ir/interpret.ts';
import { initParams } from '../../ir/init.ts';
import type { Emit } from '../../ir/ops/def.ts';
import { tensor, type Tensor } from '../../ir/types.ts';
import * as opt from '../../compiler/dsl/optimizers.ts';
import { clipGradients, weightPenalty } from '../../compiler/dsl/regularizers-clip.ts';
import {
  constant,
  cosineDecay,
  exponentialDecay,
  learningRate,
  stepDecay,
  type Schedule,
} from '../../compiler/dsl/schedules.ts';

const emit: Emit = (op, inputs, attrs) => makeNode(op, inputs, attrs);
const P0 = [1, -2];
const GRADS = [
  [0.5, -1],
  [0.1, 0.2],
  [-0.3, 0.4],
];

/** Runs one optimizer step per gradient on p = P0; returns every param and slot after each step. */
function steps(spec: opt.OptimizerSpec, grads: readonly number[][]): Record<string, number[]>[] {
  const b = new GraphBuilder('opt');
  const p = b.param('w', 'f32', [2], { name: 'zeros', attrs: {} });
  const step = b.param('optimizer/iterations', 'i32', [], { name: 'zeros', attrs: {} });
  const g = b.input('g', 'f32', [2]);
  const slot = (name: string, param: Param, init: Param['init']): Param =>
    b.param(`${param.name}/${name}`, 'f32', param.type.shape, init);
  const r = opt.apply(spec, { emit, params: [p], grads: [g], step, slot });
  b.assign(p, r.params[0]!);
  for (const s of r.slots) b.assign(s.param, s.value);
  b.assign(step, emit('add', [step, emit('constant', [], { value: [1], shape: [], dtype: 'i32' })]));
  const graph = b.finish();
  let state: Record<string, Tensor> = { ...initParams(graph), w: tensor('f32', [2], P0) };
  return grads.map((gv) => {
    state = { ...state, ...interpret(graph, { g: tensor('f32', [2], gv) }, state).assigns };
    return Object.fromEntries(Object.entries(state).map(([k, t]) => [k, Array.from(t.data)]));
  });
}

/** Three optimizer steps on p = P0 with the gradients GRADS; p after each step. */
const threeSteps = (spec: opt.OptimizerSpec): number[][] => steps(spec, GRADS).map((s) => s.w!);

function expectClose(got: number[][], want: number[][], tol = 2e-6): void {
  got.forEach((row, i) =>
    row.forEach((v, j) =>
      expect(Math.abs(v - want[i]![j]!), `step ${i + 1}[${j}]: ${v} vs ${want[i]![j]}`).toBeLessThanOrEqual(tol),
    ),
  );
}

const CASES: [string, opt.OptimizerSpec, number[][]][] = [
  [
    'sgd',
    opt.sgd({ learningRate: 0.1 }),
    [
      [0.95, -1.9],
      [0.94, -1.92],
      [0.97, -1.96],
    ],
  ],
  [
    'momentum',
    opt.momentum({ learningRate: 0.1 }),
    [
      [0.95, -1.9],
      [0.895, -1.83],
      [0.8755, -1.807],
    ],
  ],
  [
    'nesterov',
    opt.nesterov({ learningRate: 0.1 }),
    [
      [0.905, -1.81],
      [0.8455, -1.767],
      [0.85795, -1.7863],
    ],
  ],
  [
    'rmsprop',
    opt.rmsprop({ learningRate: 0.1 }),
    [
      [0.683772866, -1.68377239],
      [0.618540198, -1.74900516],
      [0.791313597, -1.87511843],
    ],
  ],
  [
    'rmsprop centered + momentum',
    opt.rmsprop({ learningRate: 0.1, centered: true, momentum: 0.5 }),
    [
      [0.666667407, -1.66666685],
      [0.430115626, -1.56700276],
      [0.485713049, -1.64361688],
    ],
  ],
  [
    'rmsprop eps=0.1 keras (inside sqrt)',
    opt.rmsprop({ learningRate: 0.1, epsilon: 0.1 }),
    [
      [0.858578644, -1.7763932],
      [0.830123124, -1.82180086],
      [0.913280192, -1.91110972],
    ],
  ],
  [
    'rmsprop eps=0.1 torch (outside sqrt)',
    opt.rmsprop({ learningRate: 0.1, epsilon: 0.1, epsilonStyle: 'torch' }),
    [
      [0.806287057, -1.75974693],
      [0.766807725, -1.80893602],
      [0.8764418, -1.90481904],
    ],
  ],
  [
    'adam',
    opt.adam({ learningRate: 0.1 }),
    [
      [0.900000632, -1.90000032],
      [0.819697033, -1.84889787],
      [0.79862585, -1.83547395],
    ],
  ],
  [
    'adam eps=0.1 keras (epsilon hat)',
    opt.adam({ learningRate: 0.1, epsilon: 0.1 }),
    [
      [0.986347294, -1.97597469],
      [0.975201255, -1.96351781],
      [0.971882481, -1.96006622],
    ],
  ],
  [
    'adam eps=0.1 torch',
    opt.adam({ learningRate: 0.1, epsilon: 0.1, epsilonStyle: 'torch' }),
    [
      [0.916666667, -1.90909091],
      [0.853802092, -1.86421316],
      [0.837503598, -1.85262249],
    ],
  ],
  [
    'adam beta2=0.5',
    opt.adam({ learningRate: 0.1, beta2: 0.5 }),
    [
      [0.900000028, -1.90000001],
      [0.803508837, -1.83859652],
      [0.779523606, -1.82147496],
    ],
  ],
  [
    'adam beta2=0.5 amsgrad',
    opt.adam({ learningRate: 0.1, beta2: 0.5, amsgrad: true }),
    [
      [0.900000028, -1.90000001],
      [0.829093766, -1.85487784],
      [0.810056078, -1.84365048],
    ],
  ],
  [
    'adagrad',
    opt.adagrad({ learningRate: 0.1 }),
    [
      [0.915484587, -1.90465375],
      [0.898817922, -1.92338546],
      [0.943539277, -1.95846778],
    ],
  ],
  [
    'adagrad eps=0.1 keras',
    opt.adagrad({ learningRate: 0.1, epsilon: 0.1 }),
    [
      [0.925464401, -1.90871291],
      [0.910720205, -1.92667344],
      [0.951172197, -1.96047961],
    ],
  ],
  [
    'adagrad eps=0.1 torch',
    opt.adagrad({ learningRate: 0.1, epsilon: 0.1, epsilonStyle: 'torch' }),
    [
      [0.927704709, -1.91295332],
      [0.913418995, -1.93008089],
      [0.952338567, -1.96233439],
    ],
  ],
  [
    'adadelta',
    opt.adadelta({ learningRate: 0.1 }),
    [
      [0.999858579, -1.99985858],
      [0.999818378, -1.99989878],
      [0.999924411, -1.99997562],
    ],
  ],
];

describe('optimizers: three steps on a hand-computed case', () => {
  for (const [name, spec, want] of CASES) it(name, () => expectClose(threeSteps(spec), want));

  it('Keras 3 defaults', () => {
    expect(opt.sgd()).toMatchObject({ learningRate: 0.01, momentum: 0, nesterov: false });
    expect(opt.rmsprop()).toMatchObject({ learningRate: 0.001, rho: 0.9, momentum: 0, epsilon: 1e-7, centered: false });
    expect(opt.adam()).toMatchObject({ learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, amsgrad: false });
    expect(opt.adagrad()).toMatchObject({ learningRate: 0.001, initialAccumulator: 0.1, epsilon: 1e-7 });
    expect(opt.adadelta()).toMatchObject({ learningRate: 0.001, rho: 0.95, epsilon: 1e-7 });
  });

  it('clipping by value applies before the update', () => {
    // g1 = [0.5, -1] clipped to [0.5, -0.6], g2 unchanged, g3 = [-0.3, 0.4]: p = P0 - 0.1 * sum
    expectClose(threeSteps(opt.sgd({ learningRate: 0.1, clipValue: 0.6 })), [
      [0.95, -1.94],
      [0.94, -1.96],
      [0.97, -2.0],
    ]);
  });
});

describe('the moving average of the params (ema)', () => {
  const grads = Array.from({ length: 15 }, (_, k) => [Math.sin(k + 1), Math.cos(2 * k)]);
  it('follows ema <- ema + (1 - d) * (p - ema), d = min(ema, (t - 1) / (t + 9)), without changing the update', () => {
    const spec = opt.adam({ learningRate: 0.1, beta1: 0.5, ema: 0.5 });
    const got = steps(spec, grads);
    expectClose(
      got.map((s) => s.w!),
      steps(opt.adam({ learningRate: 0.1, beta1: 0.5 }), grads).map((s) => s.w!),
      0,
    );
    // The reference in float64 from the trajectory of p: the first step copies p, the decay reaches its cap 0.5 at t = 11.
    let avg = [0, 0];
    const want = got.map((s, i) => {
      const t = i + 1;
      const d = Math.min(0.5, (t - 1) / (t + 9));
      avg = avg.map((a, j) => a + (1 - d) * (s.w![j]! - a));
      return avg;
    });
    expectClose(
      got.map((s) => s['w/ema']!),
      want,
      1e-6,
    );
    expect(got[0]!['w/ema']).toEqual(got[0]!.w); // the first average is the param itself
    expect(Math.abs(got[14]!['w/ema']![0]! - got[14]!.w![0]!)).toBeGreaterThan(1e-3); // and later it lags behind
  });
  it('rejects a decay outside (0, 1)', () => {
    expect(() => steps(opt.sgd({ ema: 1 }), GRADS)).toThrow(/ema is 1; it must lie between 0 and 1/);
  });
});

/** Evaluates values built from constants only. */
function evalValues(values: Record<string, Value>): Record<string, number[]> {
  const b = new GraphBuilder('t');
  for (const [k, v] of Object.entries(values)) b.output(k, v);
  const out = interpret(b.finish(), {}).outputs;
  return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, Array.from(t.data)]));
}

describe('learning-rate schedules', () => {
  const at = (s: Schedule, steps: number[]): number[] =>
    steps.map(
      (n) =>
        evalValues({ lr: learningRate(s, emit, emit('constant', [], { value: [n], shape: [], dtype: 'i32' })) })
          .lr![0]!,
    );
  const close = (got: number[], want: number[]): void => got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 6));

  it('constant', () => close(at(constant(0.3), [0, 7]), [0.3, 0.3]));
  it('step: initial * gamma^floor(step/stepSize)', () =>
    close(at(stepDecay({ initial: 1, stepSize: 2, gamma: 0.5 }), [0, 1, 2, 3, 4]), [1, 1, 0.5, 0.5, 0.25]));
  it('exponential, smooth and staircase', () => {
    close(at(exponentialDecay({ initial: 1, decaySteps: 2, decayRate: 0.5 }), [0, 1, 2, 3]), [
      1,
      Math.SQRT1_2,
      0.5,
      0.3535534,
    ]);
    close(
      at(exponentialDecay({ initial: 1, decaySteps: 2, decayRate: 0.5, staircase: true }), [0, 1, 2, 3]),
      [1, 1, 0.5, 0.5],
    );
  });
  it('cosine with floor alpha, constant after decaySteps', () => {
    // 0.9 * 0.5 * (1 + cos(pi * s / 4)) + 0.1
    close(
      at(cosineDecay({ initial: 1, decaySteps: 4, alpha: 0.1 }), [0, 1, 2, 3, 4, 9]),
      [1, 0.8681981, 0.55, 0.2318019, 0.1, 0.1],
    );
  });
});

describe('regularization and clipping', () => {
  const c = (v: number[]): Value => emit('constant', [], { value: v, shape: [v.length], dtype: 'f32' });
  it('penalty l1 * sum|w| + l2 * sum w^2', () => {
    const pen = weightPenalty(emit, [c([1, -2]), c([3])], { l1: 0.1, l2: 0.01 })!;
    expect(evalValues({ pen }).pen![0]).toBeCloseTo(0.1 * 6 + 0.01 * 14, 6);
    expect(weightPenalty(emit, [c([1])], {})).toBeNull();
  });
  it('by value, by norm, by global norm', () => {
    const [v] = clipGradients(emit, [c([3, -4])], { clipValue: 2 });
    const [n] = clipGradients(emit, [c([3, -4])], { clipNorm: 1 });
    const [small] = clipGradients(emit, [c([0.3, -0.4])], { clipNorm: 1 });
    const [g1, g2] = clipGradients(emit, [c([3, -4]), c([12])], { globalClipNorm: 6.5 });
    const out = evalValues({ v: v!, n: n!, small: small!, g1: g1!, g2: g2! });
    expect(out.v).toEqual([2, -2]);
    out.n!.forEach((x, i) => expect(x).toBeCloseTo([0.6, -0.8][i]!, 6));
    out.small!.forEach((x, i) => expect(x).toBeCloseTo([0.3, -0.4][i]!, 6));
    out.g1!.forEach((x, i) => expect(x).toBeCloseTo([1.5, -2][i]!, 6));
    expect(out.g2![0]).toBeCloseTo(6, 6);
  });
  it('rejects a non-positive clip', () => {
    expect(() => clipGradients(emit, [c([1])], { clipNorm: 0 })).toThrow(/clipNorm is 0/);
  });
});
