// View ops: move or repeat elements without arithmetic. Each is one entry: inference, reference
// eval (through ir/ops/strided.ts) and a VJP written with other view ops (and `sum` for broadcast).
import { fail } from '../errors.ts';
import type { Attrs, Value } from '../graph.ts';
import {
  allocData,
  formatType,
  normAxis,
  sizeOf,
  stridesOf,
  tensorType,
  type Shape,
  type Tensor,
  type TensorType,
} from '../types.ts';
import type { Emit, OpDef } from './def.ts';
import { broadcastStrides, forEachIndex, offsetOf, readStrided, readThrough } from './strided.ts';
import { ints, num, requireSameDType, shapeStr, typesStr, unbroadcast } from './util.ts';

// ---- attribute resolution (exported: the DSL and lowering read the same resolved values) ----

/** The shape `reshape` produces from `from`: resolves its one -1; K1001/K1003 when impossible. */
export function resolveReshape(from: Shape, shape: readonly number[]): number[] {
  const holes = shape.filter((d) => d === -1).length;
  const bad = shape.find((d) => d < -1);
  if (holes > 1 || bad !== undefined) {
    fail(
      'K1003',
      `reshape: shape ${shapeStr(shape)} is invalid (${holes > 1 ? 'more than one -1' : `dimension ${bad}`}); give sizes >= 0 and at most one -1`,
    );
  }
  const n = sizeOf(from);
  const known = sizeOf(shape.filter((d) => d !== -1));
  if (holes === 1) {
    if (known === 0) {
      fail(
        'K1003',
        `reshape: shape ${shapeStr(shape)} for ${shapeStr(from)} leaves -1 undetermined (the other sizes multiply to 0); give every size`,
      );
    }
    if (n % known !== 0) {
      fail(
        'K1001',
        `reshape: cannot reshape ${shapeStr(from)} (${n} elements) to ${shapeStr(shape)}: ${n} is not a multiple of ${known}`,
      );
    }
    return shape.map((d) => (d === -1 ? n / known : d));
  }
  if (known !== n) {
    fail(
      'K1001',
      `reshape: cannot reshape ${shapeStr(from)} (${n} elements) to ${shapeStr(shape)} (${known} elements); the element counts must match`,
    );
  }
  return [...shape];
}

/** `perm` with negative entries normalized; K1003 unless it is a permutation of the rank's axes. */
export function resolvePerm(shape: Shape, perm: readonly number[]): number[] {
  const p = perm.map((a) => normAxis(a, shape.length));
  const ok = p.length === shape.length && p.every((a) => a >= 0) && new Set(p).size === p.length;
  if (!ok) {
    fail(
      'K1003',
      `transpose: perm ${shapeStr(perm)} is not a permutation of the ${shape.length} axes of ${shapeStr(shape)}`,
    );
  }
  return p;
}

export function inversePerm(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => {
    inv[p] = i;
  });
  return inv;
}

/** One axis of a slice, resolved: the first element read, the step, and how many are read. */
export interface SliceAxis {
  readonly start: number;
  readonly step: number;
  readonly size: number;
}

/** Resolves slice attributes against `shape` like numpy (negative start/end count from the end,
 *  then clamp to [0, n]; end exclusive); K1003 for wrong lengths or non-positive steps. */
export function resolveSlice(shape: Shape, attrs: Attrs): SliceAxis[] {
  const [start, end, step] = [ints(attrs, 'start'), ints(attrs, 'end'), ints(attrs, 'step')];
  const r = shape.length;
  if (start.length !== r || end.length !== r || step.length !== r) {
    fail(
      'K1003',
      `slice: input ${shapeStr(shape)} has rank ${r} but start ${shapeStr(start)}, end ${shapeStr(end)}, step ${shapeStr(step)} have lengths ${start.length}, ${end.length}, ${step.length}; give one value per axis`,
    );
  }
  if (step.some((s) => s <= 0)) {
    fail('K1003', `slice: step ${shapeStr(step)} on ${shapeStr(shape)} must be positive on every axis`);
  }
  return shape.map((n, a) => {
    const clamp = (v: number): number => Math.min(n, Math.max(0, v < 0 ? v + n : v));
    const s = clamp(start[a]!);
    const e = clamp(end[a]!);
    const k = step[a]!;
    return { start: s, step: k, size: Math.max(0, Math.ceil((e - s) / k)) };
  });
}

function padAmounts(t: TensorType, attrs: Attrs): { lo: readonly number[]; hi: readonly number[] } {
  const [lo, hi] = [ints(attrs, 'lo'), ints(attrs, 'hi')];
  const r = t.shape.length;
  if (lo.length !== r || hi.length !== r) {
    fail(
      'K1003',
      `pad: input ${formatType(t)} has rank ${r} but lo ${shapeStr(lo)} and hi ${shapeStr(hi)} have lengths ${lo.length} and ${hi.length}; give one value per axis`,
    );
  }
  if ([...lo, ...hi].some((p) => p < 0)) {
    fail(
      'K1003',
      `pad: lo ${shapeStr(lo)} and hi ${shapeStr(hi)} on ${formatType(t)} must be >= 0 (use slice to crop)`,
    );
  }
  return { lo, hi };
}

function concatAxis(ts: readonly TensorType[], axis: number): number {
  const r = ts[0]!.shape.length;
  const a = normAxis(axis, r);
  if (a < 0) fail('K1006', `concat: axis ${axis} is out of range for rank ${r} inputs ${typesStr(ts)}`);
  return a;
}

// ---- VJP helpers ----

/** The cotangent of a slice: `g` placed back at the sliced positions of a zero tensor of `shape`.
 *  Steps > 1 interleave zeros first: reshape g's axis of size m to [m, 1], pad it to [m, k],
 *  merge to m*k, trim to (m-1)*k+1 (ending on the last element read), then pad to n. */
function unslice(emit: Emit, g: Value, shape: Shape, axes: readonly SliceAxis[]): Value {
  const strided = axes.map((s) => s.step > 1 && s.size > 0);
  let v = g;
  if (strided.some((x) => x)) {
    const split = axes.flatMap((s, a) => (strided[a] ? [s.size, 1] : [s.size]));
    v = emit('reshape', [v], { shape: split });
    const hi = axes.flatMap((s, a) => (strided[a] ? [0, s.step - 1] : [0]));
    v = emit('pad', [v], { lo: hi.map(() => 0), hi, value: 0 });
    v = emit('reshape', [v], { shape: axes.map((s, a) => (strided[a] ? s.size * s.step : s.size)) });
    const span = axes.map((s, a) => (strided[a] ? (s.size - 1) * s.step + 1 : s.size));
    v = emit('slice', [v], { start: span.map(() => 0), end: span, step: span.map(() => 1) });
  }
  const lo = axes.map((s) => s.start);
  const hi = axes.map((s, a) => shape[a]! - s.start - v.type.shape[a]!);
  return emit('pad', [v], { lo, hi, value: 0 });
}

// ---- the ops ----

const copy = (x: Tensor, out: TensorType, float64: boolean): Tensor => {
  const data = allocData(out, float64);
  data.set(x.data);
  return { type: out, data };
};

export const VIEW = {
  reshape: {
    kind: 'view',
    arity: 1,
    attrs: { shape: { kind: 'ints' } },
    doc: 'the same elements in row-major order, in a new shape (one -1 is inferred)',
    infer: ([x], a) => tensorType(x!.dtype, resolveReshape(x!.shape, ints(a, 'shape'))),
    eval: ([x], _a, out, ctx) => copy(x!, out, ctx.float64),
    vjp: ({ emit, inputs: [x], g }) => [emit('reshape', [g], { shape: [...x!.type.shape] })],
  },

  transpose: {
    kind: 'view',
    arity: 1,
    attrs: { perm: { kind: 'ints' } },
    doc: 'permutes the axes: result axis i is input axis perm[i]',
    infer: ([x], a) =>
      tensorType(
        x!.dtype,
        resolvePerm(x!.shape, ints(a, 'perm')).map((p) => x!.shape[p]!),
      ),
    eval: ([x], a, out, ctx) => {
      const src = stridesOf(x!.type.shape);
      const strides = resolvePerm(x!.type.shape, ints(a, 'perm')).map((p) => src[p]!);
      return readStrided(x!, out, ctx.float64, strides);
    },
    vjp: ({ emit, inputs: [x], g, attrs }) => [
      emit('transpose', [g], { perm: inversePerm(resolvePerm(x!.type.shape, ints(attrs, 'perm'))) }),
    ],
  },

  broadcast_to: {
    kind: 'view',
    arity: 1,
    attrs: { shape: { kind: 'ints' } },
    doc: 'repeats x along new leading axes and its size-1 axes (numpy broadcasting) to shape',
    infer: ([x], a) => {
      const to = ints(a, 'shape');
      const from = x!.shape;
      const lead = to.length - from.length;
      if (to.some((d) => d < 0))
        fail('K1003', `broadcast_to: target shape ${shapeStr(to)} for ${formatType(x!)} has a negative size`);
      const bad = lead < 0 ? 0 : from.findIndex((d, i) => d !== 1 && d !== to[lead + i]);
      if (lead < 0 || bad >= 0) {
        const why =
          lead < 0 ? 'the target has lower rank' : `dimension ${bad} is ${from[bad]}, target has ${to[lead + bad]}`;
        fail(
          'K1001',
          `broadcast_to: cannot broadcast ${formatType(x!)} to shape ${shapeStr(to)} (${why}); each dimension must equal the target's or be 1`,
        );
      }
      return tensorType(x!.dtype, to);
    },
    eval: ([x], _a, out, ctx) => readStrided(x!, out, ctx.float64, broadcastStrides(x!.type.shape, out.shape)),
    vjp: ({ emit, inputs: [x], g }) => [unbroadcast(emit, g, x!.type.shape)],
  },

  slice: {
    kind: 'view',
    arity: 1,
    attrs: { start: { kind: 'ints' }, end: { kind: 'ints' }, step: { kind: 'ints' } },
    doc: 'x[start:end:step] on every axis (numpy rules: negative start/end count from the end, clamped; end exclusive; step > 0)',
    infer: ([x], a) =>
      tensorType(
        x!.dtype,
        resolveSlice(x!.shape, a).map((s) => s.size),
      ),
    eval: ([x], a, out, ctx) => {
      const axes = resolveSlice(x!.type.shape, a);
      const src = stridesOf(x!.type.shape);
      const offset = axes.reduce((o, s, i) => o + s.start * src[i]!, 0);
      return readStrided(
        x!,
        out,
        ctx.float64,
        axes.map((s, i) => s.step * src[i]!),
        offset,
      );
    },
    vjp: ({ emit, inputs: [x], g, attrs }) => [unslice(emit, g, x!.type.shape, resolveSlice(x!.type.shape, attrs))],
  },

  pad: {
    kind: 'view',
    arity: 1,
    attrs: { lo: { kind: 'ints' }, hi: { kind: 'ints' }, value: { kind: 'float', default: 0 } },
    doc: 'adds lo[i] elements before and hi[i] after axis i, filled with value',
    infer: ([x], a) => {
      const { lo, hi } = padAmounts(x!, a);
      return tensorType(
        x!.dtype,
        x!.shape.map((d, i) => lo[i]! + d + hi[i]!),
      );
    },
    eval: ([x], a, out, ctx) => {
      const { lo } = padAmounts(x!.type, a);
      const shape = x!.type.shape;
      const src = stridesOf(shape);
      return readThrough(
        x!,
        out,
        ctx.float64,
        (idx) => {
          let o = 0;
          for (let i = 0; i < idx.length; i++) {
            const j = idx[i]! - lo[i]!;
            if (j < 0 || j >= shape[i]!) return -1;
            o += j * src[i]!;
          }
          return o;
        },
        num(a, 'value'),
      );
    },
    vjp: ({ emit, inputs: [x], g, attrs }) => {
      const lo = ints(attrs, 'lo');
      const shape = x!.type.shape;
      return [emit('slice', [g], { start: [...lo], end: shape.map((d, i) => lo[i]! + d), step: shape.map(() => 1) })];
    },
  },

  concat: {
    kind: 'view',
    arity: 'variadic',
    attrs: { axis: { kind: 'int' } },
    doc: 'joins the inputs along axis; all other dimensions must be equal',
    infer: (ts, a) => {
      requireSameDType('concat', ts);
      const axis = concatAxis(ts, num(a, 'axis'));
      const first = ts[0]!.shape;
      const bad = ts.find(
        (t) => t.shape.length !== first.length || t.shape.some((d, i) => i !== axis && d !== first[i]),
      );
      if (bad) {
        fail(
          'K1001',
          `concat: inputs ${typesStr(ts)} differ outside axis ${axis}; all dimensions but the concat axis must be equal`,
        );
      }
      return tensorType(
        ts[0]!.dtype,
        first.map((d, i) => (i === axis ? ts.reduce((s, t) => s + t.shape[axis]!, 0) : d)),
      );
    },
    eval: (xs, a, out, ctx) => {
      const axis = concatAxis(
        xs.map((x) => x.type),
        num(a, 'axis'),
      );
      const data = allocData(out, ctx.float64);
      const within = new Array<number>(out.shape.length);
      const strides = stridesOf(out.shape);
      let base = 0;
      for (const x of xs) {
        forEachIndex(x.type.shape, (flat, idx) => {
          for (let i = 0; i < idx.length; i++) within[i] = idx[i]!;
          within[axis] = idx[axis]! + base;
          data[offsetOf(within, strides)] = x.data[flat]!;
        });
        base += x.type.shape[axis]!;
      }
      return { type: out, data };
    },
    vjp: ({ emit, inputs, g, attrs }) => {
      const axis = concatAxis(
        inputs.map((x) => x.type),
        num(attrs, 'axis'),
      );
      const shape = g.type.shape;
      let base = 0;
      return inputs.map((x) => {
        const n = x.type.shape[axis]!;
        const start = shape.map((_, i) => (i === axis ? base : 0));
        const end = shape.map((d, i) => (i === axis ? base + n : d));
        base += n;
        return emit('slice', [g], { start, end, step: shape.map(() => 1) });
      });
    },
  },
} satisfies Record<string, OpDef>;
