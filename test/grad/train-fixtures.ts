// What the PyTorch training fixtures are made of, shared by scripts/export-initial-weights.ts (which
// writes kiln's initial params, batch and loss graph for scripts/make-train-fixtures.py) and
// test/grad/seed-models.test.ts (which replays them on the interpreter):
// - the optimizers compared, each as a kiln spec and the torch.optim call it must equal;
// - the deterministic batch of each seed model;
// - the graph serialization the Python side evaluates with torch ops (autograd gives its gradients);
// - how a tensor is summarized in a fixture: every value up to FULL_LIMIT elements, else SAMPLES
//   fixed entries, PROJECTIONS dot products with fixed vectors in [-1, 1) and the L2 norm.
import { expect } from 'vitest';
import type { Graph, Value } from '../../ir/graph.ts';
import { randomUniform } from '../../ir/random.ts';
import { allocData, sizeOf, type Tensor, type TensorType } from '../../ir/types.ts';
import * as opt from '../../compiler/dsl/optimizers.ts';

export interface FixtureOptimizer {
  readonly kiln: opt.OptimizerSpec;
  /** torch.optim class and keyword arguments giving the same update. */
  readonly torch: { readonly cls: string; readonly kwargs: Readonly<Record<string, number | boolean>> };
}

export const FIXTURE_OPTIMIZERS: Readonly<Record<string, FixtureOptimizer>> = {
  sgd: { kiln: opt.sgd({ learningRate: 0.1 }), torch: { cls: 'SGD', kwargs: { lr: 0.1 } } },
  momentum: { kiln: opt.momentum({ learningRate: 0.1 }), torch: { cls: 'SGD', kwargs: { lr: 0.1, momentum: 0.9 } } },
  nesterov: {
    kiln: opt.nesterov({ learningRate: 0.1 }),
    torch: { cls: 'SGD', kwargs: { lr: 0.1, momentum: 0.9, nesterov: true } },
  },
  rmsprop: {
    kiln: opt.rmsprop({ learningRate: 0.01, rho: 0.9, epsilon: 1e-7, epsilonStyle: 'torch' }),
    torch: { cls: 'RMSprop', kwargs: { lr: 0.01, alpha: 0.9, eps: 1e-7 } },
  },
  adam: {
    kiln: opt.adam({ learningRate: 0.01, epsilon: 1e-7, epsilonStyle: 'torch' }),
    torch: { cls: 'Adam', kwargs: { lr: 0.01, eps: 1e-7 } },
  },
  adagrad: {
    kiln: opt.adagrad({ learningRate: 0.1, initialAccumulator: 0.1, epsilon: 1e-7, epsilonStyle: 'torch' }),
    torch: { cls: 'Adagrad', kwargs: { lr: 0.1, initial_accumulator_value: 0.1, eps: 1e-7 } },
  },
  adadelta: {
    kiln: opt.adadelta({ learningRate: 1, rho: 0.95, epsilon: 1e-7 }),
    torch: { cls: 'Adadelta', kwargs: { lr: 1, rho: 0.95, eps: 1e-7 } },
  },
};

export const FIXTURE_STEPS = 3;

/** How the batch fills an input: uniform f32 in [lo, hi), or i32 ids in [0, classes). */
export type Fill =
  | { readonly kind: 'uniform'; readonly lo: number; readonly hi: number }
  | { readonly kind: 'ids'; readonly classes: number }
  | { readonly kind: 'onehot'; readonly classes: number }
  | { readonly kind: 'binary' };

/** The batch for a graph's inputs: input `k` draws from ir/random.ts with seed 4242 + k. */
export function fixtureBatch(g: Graph, fills: Readonly<Record<string, Fill>>): Record<string, Tensor> {
  return Object.fromEntries(
    g.inputs.map((inp, k) => {
      const fill = fills[inp.name] ?? { kind: 'uniform', lo: -1, hi: 1 };
      const data = allocData(inp.type);
      const u = (i: number): number => randomUniform(4242 + k, 0, i);
      const n = sizeOf(inp.type.shape);
      const last = inp.type.shape[inp.type.shape.length - 1] ?? 1;
      for (let i = 0; i < n; i++) {
        switch (fill.kind) {
          case 'uniform':
            data[i] = fill.lo + (fill.hi - fill.lo) * u(i);
            break;
          case 'ids':
            data[i] = Math.floor(fill.classes * u(i));
            break;
          case 'binary':
            data[i] = u(i) < 0.5 ? 0 : 1;
            break;
          case 'onehot':
            data[i] = Math.floor(fill.classes * u(Math.floor(i / last))) === i % last ? 1 : 0;
            break;
        }
      }
      return [inp.name, { type: inp.type, data }];
    }),
  );
}

// ---- graph serialization for the Python side ----

export type Ref = string | number; // 'i:<input>' | 'p:<param>' | node index

export interface SerializedGraph {
  readonly inputs: { name: string; dtype: string; shape: number[] }[];
  readonly params: { name: string; dtype: string; shape: number[] }[];
  readonly nodes: { op: string; inputs: Ref[]; attrs: Record<string, unknown>; dtype: string; shape: number[] }[];
  readonly outputs: Record<string, Ref>;
  readonly assigns: Record<string, Ref>;
}

export function serializeGraph(g: Graph): SerializedGraph {
  const index = new Map<Value, number>(g.nodes.map((n, i) => [n, i]));
  const ref = (v: Value): Ref =>
    v.kind === 'input' ? `i:${v.name}` : v.kind === 'param' ? `p:${v.name}` : index.get(v)!;
  const decl = (v: { name: string; type: TensorType }) => ({
    name: v.name,
    dtype: v.type.dtype,
    shape: [...v.type.shape],
  });
  return {
    inputs: g.inputs.map(decl),
    params: g.params.map(decl),
    nodes: g.nodes.map((n) => ({
      op: n.op,
      inputs: n.inputs.map(ref),
      attrs: { ...n.attrs },
      dtype: n.type.dtype,
      shape: [...n.type.shape],
    })),
    outputs: Object.fromEntries(g.outputs.map((o) => [o.name, ref(o.value)])),
    assigns: Object.fromEntries(g.assigns.map((a) => [a.param.name, ref(a.value)])),
  };
}

// ---- tensor summaries ----

export const FULL_LIMIT = 512;
export const SAMPLES = 64;
export const PROJECTIONS = 3;
/** Sampled entry k of an n-element tensor: floor(u(777, 0, k) * n). */
export const sampleIndex = (k: number, n: number): number => Math.floor(randomUniform(777, 0, k) * n);
/** Element i of projection vector j: 2 * u(1000 + j, 0, i) - 1. */
export const projection = (j: number, i: number): number => 2 * randomUniform(1000 + j, 0, i) - 1;

export type Summary =
  | { readonly shape: number[]; readonly values: number[] }
  | {
      readonly shape: number[];
      readonly idx: number[];
      readonly values: number[];
      readonly proj: number[];
      readonly norm: number;
    };

/** Relative tolerance of the fixtures. */
export const RTOL = 1e-4;
/** Absolute floor: gradients that are zero in exact arithmetic (a bias feeding BatchNorm) come out as
 *  float64 rounding noise (~1e-16) on both sides, and stay below 1e-10 through the optimizers. */
export const ATOL = 1e-9;

/** How close a tensor must be to its fixture summary: each stored value within `rtol` relative to
 *  max(|value|, floor * the tensor's RMS), each projection within `rtol` relative to
 *  max(|projection|, 1e-2 * norm), the norm within `normRtol` relative, every bound at least ATOL. */
export interface Tolerance {
  readonly rtol: number;
  readonly floor: number;
  readonly normRtol: number;
}

/** kiln in float64 (the interpreter) against PyTorch in float64. */
export const FLOAT64: Tolerance = { rtol: RTOL, floor: 1e-3, normRtol: RTOL };
/** kiln in float32 (compiled WebAssembly) against PyTorch in float64: float32 sums of a few thousand
 *  terms leave about 1e-6 of the tensor's scale in any entry, whatever its own size, so the floor is
 *  the RMS itself: |kiln - torch| <= 1e-4 * max(|torch|, RMS). */
export const FLOAT32: Tolerance = { rtol: RTOL, floor: 1, normRtol: RTOL };
/** FLOAT32 for RMSprop and Adam (epsilon 1e-7) after three steps. Their update lr * g / (sqrt(v) + eps)
 *  has slope lr / eps = 1e5 at g = 0 on the first step, so the float32 rounding of a gradient near zero
 *  (about 1e-9 absolute) moves a param by about 1e-4, and later steps carry it on: on examples/gan.ts,
 *  PyTorch's own float32 misses its float64 by up to 2.2e-2 on single entries (0.4 % of them beyond
 *  1e-3) while each tensor's L2 error stays below 3e-4 and its norm within 3e-6 (with epsilon 1e-3
 *  the same runs stay within 2e-5). So entries and projections within 3e-2, the norm within 1e-4. */
export const FLOAT32_ILL_CONDITIONED: Tolerance = { rtol: 3e-2, floor: 1, normRtol: RTOL };

/** Checks `got` against a fixture summary within `tol` (FLOAT64 unless told). */
export function expectMatches(what: string, got: ArrayLike<number>, want: Summary, tol: Tolerance = FLOAT64): void {
  const n = got.length;
  expect(n, `${what}: size`).toBe(want.shape.reduce((a, b) => a * b, 1));
  const norm = 'norm' in want ? want.norm : Math.hypot(...want.values);
  const floor = (tol.floor * norm) / Math.sqrt(Math.max(n, 1));
  const idx = 'idx' in want ? want.idx : want.values.map((_, i) => i);
  idx.forEach((i, k) => {
    const w = want.values[k]!;
    const g = got[i]!;
    expect(Math.abs(g - w), `${what}[${i}]: kiln ${g} vs torch ${w}`).toBeLessThanOrEqual(
      Math.max(tol.rtol * Math.max(Math.abs(w), floor), ATOL),
    );
  });
  if (!('norm' in want)) return;
  let sq = 0;
  for (let i = 0; i < n; i++) sq += got[i]! ** 2;
  expect(
    Math.abs(Math.sqrt(sq) - want.norm),
    `${what}: norm ${Math.sqrt(sq)} vs torch ${want.norm}`,
  ).toBeLessThanOrEqual(Math.max(tol.normRtol * want.norm, ATOL));
  want.proj.forEach((w, j) => {
    let p = 0;
    for (let i = 0; i < n; i++) p += projection(j, i) * got[i]!;
    expect(Math.abs(p - w), `${what}: projection ${j} ${p} vs torch ${w}`).toBeLessThanOrEqual(
      Math.max(tol.rtol * Math.max(Math.abs(w), 1e-2 * want.norm), ATOL),
    );
  });
}

export const REGENERATE =
  'npx tsx scripts/export-initial-weights.ts && /usr/bin/python3 scripts/make-train-fixtures.py /tmp/kiln-train-export test/fixtures';

/** Checks that kiln's initial params are the ones the fixture was made from. */
export function expectSameInit(
  model: string,
  params: Readonly<Record<string, Tensor>>,
  init: TrainFixture['init'],
): void {
  const why = `${model}: kiln's initial params differ from the fixture's (param names or initializers changed); regenerate: ${REGENERATE}`;
  expect(Object.keys(params).sort(), why).toEqual(Object.keys(init).sort());
  for (const [name, [sum, sumsq]] of Object.entries(init)) {
    let s = 0,
      q = 0;
    for (const v of params[name]!.data) {
      s += v;
      q += v * v;
    }
    expect(
      Math.abs(s - sum) <= 1e-9 * Math.max(1, sumsq) && Math.abs(q - sumsq) <= 1e-9 * Math.max(1, sumsq),
      `${why}: ${name}`,
    ).toBe(true);
  }
}

/** A fixture file: test/fixtures/train-<model>.json. */
export interface TrainFixture {
  readonly model: string;
  readonly batch: number;
  readonly loss: number;
  /** Sum and sum of squares of each initial param: the fixture was made from these weights. */
  readonly init: Record<string, [number, number]>;
  /** Gradient of the loss w.r.t. every trainable param at the initial weights. */
  readonly grads: Record<string, Summary>;
  /** Every trainable param after FIXTURE_STEPS steps on the same batch, per optimizer. */
  readonly steps: Record<string, Record<string, Summary>>;
}
