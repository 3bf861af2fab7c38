// SimpleRNN, LSTM and GRU with Keras' weights and gate orders, unrolled over the static sequence
// length: the input projection x·W + b runs once for all steps, then each step slices its row.
//   LSTM (gates i, f, c, o):  c' = σ(f)·c + σ(i)·tanh(c~),  h' = σ(o)·tanh(c')
//   GRU, reset_after (gates z, r, h; PyTorch's formula):
//     z = σ(xz + hz),  r = σ(xr + hr),  h~ = tanh(xh + r·(h·Uh + bh_rec)),  h' = z·h + (1 − z)·h~
//   GRU, resetAfter: false (Keras' reset_after=False, the original GRU; one bias):
//     z = σ(xz + h·Uz),  r = σ(xr + h·Ur),  h~ = tanh(xh + (r·h)·Uh),  h' = z·h + (1 − z)·h~
// The state starts at zero, so the first step leaves out its products with the recurrent kernel: no
// kernel multiplies zeros by U, and none adds their zero product h·dz to U's gradient.
import { blocks, type InitializerLike } from '../initializers.ts';
import { k } from '../ops.ts';
import type { Regularizer } from '../regularizers.ts';
import type { Tensor } from '../tensor.ts';
import { resolveActivation, type ActivationFn, type ActivationName } from './activations.ts';
import { makeLayer, type Layer, type LayerOptions, type LayerScope } from './layer.ts';

export interface RecurrentOptions extends LayerOptions {
  /** Output every step [batch, time, units] instead of the last [batch, units]. */
  readonly returnSequences?: boolean;
  readonly activation?: ActivationName | ActivationFn;
  readonly recurrentActivation?: ActivationName | ActivationFn;
  readonly useBias?: boolean;
  readonly kernelInitializer?: InitializerLike;
  readonly recurrentInitializer?: InitializerLike;
  readonly biasInitializer?: InitializerLike;
  readonly kernelRegularizer?: Regularizer;
  readonly recurrentRegularizer?: Regularizer;
  /** LSTM: start the forget gate's bias at 1 (Keras' default). */
  readonly unitForgetBias?: boolean;
  /** GRU: apply the reset gate after the recurrent matmul (default true, as Keras and PyTorch do),
   *  or before it, to the state (false: Keras' reset_after=False, with a single bias). */
  readonly resetAfter?: boolean;
}

/** One cell: how many gate blocks it projects to, its bias shape, and one step. */
interface Cell {
  readonly kind: string;
  readonly gates: number;
  /** State tensors (h first) -> new state, given this step's input projection xw [batch, gates*units]. */
  step(xw: Tensor, state: readonly Tensor[], u: Tensor, s: StepScope): Tensor[];
  readonly states: number;
}

interface StepScope {
  readonly units: number;
  readonly act: ActivationFn;
  readonly recAct: ActivationFn;
  /** GRU: the recurrent bias [3*units], added to h·U (undefined without bias). */
  readonly recBias: Tensor | undefined;
  /** The state times a recurrent kernel, h·u: undefined on the first step, whose state is zero. */
  readonly times: (h: Tensor, u: Tensor) => Tensor | undefined;
}

/** a + b, or a when b is a product left out. */
const plus = (a: Tensor, b: Tensor | undefined): Tensor => (b ? a.add(b) : a);

/** The i-th block of `units` columns. */
const gate = (z: Tensor, i: number, units: number): Tensor => z.slice([0, i * units], [z.shape[0]!, (i + 1) * units]);

const SIMPLE: Cell = {
  kind: 'simple_rnn',
  gates: 1,
  states: 1,
  step: (xw, [h], u, s) => [s.act(plus(xw, s.times(h!, u)))],
};

const LSTM: Cell = {
  kind: 'lstm',
  gates: 4,
  states: 2,
  step: (xw, [h, c], u, s) => {
    const z = plus(xw, s.times(h!, u));
    const g = (i: number): Tensor => gate(z, i, s.units);
    const c2 = s
      .recAct(g(1))
      .mul(c!)
      .add(s.recAct(g(0)).mul(s.act(g(2))));
    return [s.recAct(g(3)).mul(s.act(c2)), c2];
  },
};

const GRU: Cell = {
  kind: 'gru',
  gates: 3,
  states: 1,
  step: (xw, [h], u, s) => {
    const hU = s.times(h!, u);
    // on the first step h·U + bh_rec is the bias alone, a row broadcast over the batch
    const hu = hU ? plus(hU, s.recBias) : s.recBias?.reshape([1, s.recBias.shape[0]!]);
    const x = (i: number): Tensor => gate(xw, i, s.units),
      r = (i: number): Tensor | undefined => hu && gate(hu, i, s.units);
    const zt = s.recAct(plus(x(0), r(0)));
    const rt = s.recAct(plus(x(1), r(1)));
    const r2 = r(2);
    const hh = s.act(plus(x(2), r2 && rt.mul(r2)));
    return [zt.mul(h!).add(k.sub(1, zt).mul(hh))];
  },
};

const GRU_RESET_BEFORE: Cell = {
  kind: 'gru',
  gates: 3,
  states: 1,
  step: (xw, [h], u, s) => {
    const units = s.units;
    const hzr = s.times(h!, u.slice([0, 0], [units, 2 * units]));
    const x = (i: number): Tensor => gate(xw, i, units);
    const zt = s.recAct(plus(x(0), hzr && gate(hzr, 0, units)));
    const rt = s.recAct(plus(x(1), hzr && gate(hzr, 1, units)));
    const hh = s.act(plus(x(2), s.times(rt.mul(h!), u.slice([0, 2 * units], [units, 3 * units]))));
    return [zt.mul(h!).add(k.sub(1, zt).mul(hh))];
  },
};

function biasFor(cell: Cell, units: number, s: LayerScope, opts: RecurrentOptions): { input?: Tensor; rec?: Tensor } {
  if (!(opts.useBias ?? true)) return {};
  const n = cell.gates * units;
  if (cell === GRU) {
    const b = s.weight('bias', [2, n], opts.biasInitializer ?? 'zeros');
    return { input: b.slice([0], [1]).reshape([n]), rec: b.slice([1], [2]).reshape([n]) };
  }
  const forget = cell === LSTM && (opts.unitForgetBias ?? true) && !opts.biasInitializer;
  return { input: s.weight('bias', [n], forget ? blocks([0, 1, 0, 0]) : (opts.biasInitializer ?? 'zeros')) };
}

function recurrent(cell: Cell, units: number, opts: RecurrentOptions): Layer {
  const act = resolveActivation(opts.activation ?? 'tanh', cell.kind);
  const recAct = resolveActivation(opts.recurrentActivation ?? 'sigmoid', cell.kind);
  return makeLayer(cell.kind, opts, (x, s) => {
    s.requireRank(
      x,
      3,
      '[batch, time, features]',
      'feed a sequence (an embedding gives one from token ids; reshape a single step to [batch, 1, features])',
    );
    const [batch, time, features] = x.shape as [number, number, number];
    const n = cell.gates * units;
    const w = s.weight('kernel', [features, n], opts.kernelInitializer ?? 'glorotUniform', opts.kernelRegularizer);
    const u = s.weight(
      'recurrent_kernel',
      [units, n],
      opts.recurrentInitializer ?? 'orthogonal',
      opts.recurrentRegularizer,
    );
    const bias = biasFor(cell, units, s, opts);
    const proj = bias.input ? x.matmul(w).add(bias.input) : x.matmul(w);
    const scope = (t: number): StepScope => ({
      units,
      act,
      recAct,
      recBias: bias.rec,
      times: (h, m) => (t ? h.matmul(m) : undefined),
    });
    let state: Tensor[] = Array.from({ length: cell.states }, () => k.zeros([batch, units]));
    const hs: Tensor[] = [];
    for (let t = 0; t < time; t++) {
      state = cell.step(proj.slice([0, t], [batch, t + 1]).reshape([batch, n]), state, u, scope(t));
      hs.push(state[0]!);
    }
    return opts.returnSequences
      ? k.concat(
          hs.map((h) => h.reshape([batch, 1, units])),
          1,
        )
      : hs[hs.length - 1]!;
  });
}

export const simpleRNN = (units: number, opts: RecurrentOptions = {}): Layer => recurrent(SIMPLE, units, opts);
export const lstm = (units: number, opts: RecurrentOptions = {}): Layer => recurrent(LSTM, units, opts);
export const gru = (units: number, opts: RecurrentOptions = {}): Layer =>
  recurrent(opts.resetAfter === false ? GRU_RESET_BEFORE : GRU, units, opts);
