// Finite-difference check of one op's VJP rule, in the interpreter's float64 mode:
// for random x, cotangent g and direction d,  <g, (f(x + eps d) - f(x - eps d)) / 2eps>  ==  sum_i <vjp_i(g), d_i>.
import { expect } from 'vitest';
import type { Attrs } from '../../ir/graph.ts';
import { interpret } from '../../ir/interpret.ts';
import { mix32 } from '../../ir/random.ts';
import { sizeOf, type Tensor, type TensorType } from '../../ir/types.ts';
import { vjpGraphs } from './vjp-values.ts';

/** A small deterministic generator (tests must be reproducible). The seed is scrambled first:
 *  xorshift's first draws from a small raw seed are all near 0. */
export function rng(seed: number): () => number {
  let s = mix32(seed >>> 0) || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

export const randInt = (next: () => number, lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1));

/** A random shape of the given rank with dims in [1, max]. */
export function randomShape(next: () => number, rank: number, max = 4): number[] {
  return Array.from({ length: rank }, () => randInt(next, 1, max));
}

export function randomTensor(t: TensorType, next: () => number, lo = -1, hi = 1): Tensor {
  const n = sizeOf(t.shape);
  const data = t.dtype === 'f32' ? new Float64Array(n) : t.dtype === 'i32' ? new Int32Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i++)
    data[i] =
      t.dtype === 'f32'
        ? lo + (hi - lo) * next()
        : t.dtype === 'i32'
          ? Math.floor(lo + (hi - lo) * next())
          : next() < 0.5
            ? 1
            : 0;
  return { type: t, data };
}

export interface VjpCheckOptions {
  /** Values for the inputs (defaults: uniform in [-1, 1] for f32; required for i32/bool inputs). */
  readonly values?: readonly (Tensor | undefined)[];
  readonly seed?: number;
  readonly eps?: number;
  /** Relative tolerance on the directional derivative. */
  readonly rtol?: number;
}

/** Checks op(inputTypes, attrs)'s VJP against central differences; returns the two numbers compared. */
export function checkVjp(
  op: string,
  inputTypes: readonly TensorType[],
  attrs: Attrs = {},
  opts: VjpCheckOptions = {},
): { analytic: number; numeric: number } {
  const next = rng(opts.seed ?? 1);
  const eps = opts.eps ?? 1e-6;
  const rtol = opts.rtol ?? 1e-5;
  const { out, cots, fwd, bwd } = vjpGraphs(op, inputTypes, attrs);

  const xs = inputTypes.map((t, i) => opts.values?.[i] ?? randomTensor(t, next));
  const g = randomTensor(out.type, next);
  const dirs = inputTypes.map((t, i) => (t.dtype === 'f32' && cots[i] ? randomTensor(t, next) : undefined));
  const feeds = (sign: number): Record<string, Tensor> =>
    Object.fromEntries(
      xs.map((x, i) => {
        const d = dirs[i];
        if (!d) return [`x${i}`, x];
        const data = Float64Array.from(x.data, (v, j) => v + sign * eps * d.data[j]!);
        return [`x${i}`, { type: x.type, data }];
      }),
    );
  const dot = (a: Tensor, b: Tensor): number => {
    let s = 0;
    for (let j = 0; j < a.data.length; j++) s += a.data[j]! * b.data[j]!;
    return s;
  };
  const yp = interpret(fwd, feeds(1), {}, { float64: true }).outputs.y!;
  const ym = interpret(fwd, feeds(-1), {}, { float64: true }).outputs.y!;
  const numeric = (dot(yp, g) - dot(ym, g)) / (2 * eps);
  const res = interpret(
    bwd,
    { ...Object.fromEntries(xs.map((x, i) => [`x${i}`, x])), g },
    {},
    { float64: true },
  ).outputs;
  let analytic = 0;
  cots.forEach((c, i) => {
    if (!c) return;
    const d = dirs[i];
    const r = res[`d${i}`]!;
    expect(r.type.shape, `${op}: cotangent ${i} shape`).toEqual(inputTypes[i]!.shape);
    if (d) analytic += dot(r, d);
  });
  expect(
    Math.abs(analytic - numeric),
    `${op} ${JSON.stringify(attrs)}: analytic ${analytic} vs numeric ${numeric}`,
  ).toBeLessThanOrEqual(rtol * Math.max(1, Math.abs(numeric)));
  return { analytic, numeric };
}
