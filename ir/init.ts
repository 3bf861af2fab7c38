// Param initializers: deterministic from their attributes (seeds go through the counter-based RNG).
import { fail } from './errors.ts';
import type { Graph, Init, Param } from './graph.ts';
import { randomNormal, randomUniform } from './random.ts';
import { allocData, formatType, sizeOf, type Tensor, type TensorType } from './types.ts';

type Fill = (t: TensorType, a: Init['attrs']) => ArrayLike<number>;

const n = (a: Init['attrs'], k: string, d: number): number => (typeof a[k] === 'number' ? (a[k] as number) : d);

/** Normal draws truncated to two standard deviations by redrawing with the next counter. */
function truncatedNormal(seed: number, i: number): number {
  for (let attempt = 0; ; attempt++) {
    const z = randomNormal(seed, attempt, i);
    if (Math.abs(z) <= 2) return z;
  }
}

/** An orthogonal matrix (rows x cols of the flattened 2-D view) from Gram-Schmidt on normal draws. */
function orthogonal(t: TensorType, a: Init['attrs']): Float64Array {
  const cols = t.shape[t.shape.length - 1] ?? 1;
  const rows = sizeOf(t.shape) / cols;
  const [r, c] = rows < cols ? [rows, cols] : [cols, rows]; // orthonormalize the r vectors of length c
  const seed = n(a, 'seed', 0);
  const v = new Float64Array(r * c);
  for (let i = 0; i < r * c; i++) v[i] = randomNormal(seed, 0, i);
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < i; j++) {
      let d = 0;
      for (let k = 0; k < c; k++) d += v[i * c + k]! * v[j * c + k]!;
      for (let k = 0; k < c; k++) v[i * c + k]! -= d * v[j * c + k]!;
    }
    let norm = 0;
    for (let k = 0; k < c; k++) norm += v[i * c + k]! ** 2;
    norm = Math.sqrt(norm) || 1;
    for (let k = 0; k < c; k++) v[i * c + k]! /= norm;
  }
  const gain = n(a, 'gain', 1);
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) out[i * cols + j] = gain * (rows < cols ? v[i * c + j]! : v[j * c + i]!);
  }
  return out;
}

export const INITIALIZERS: Readonly<Record<string, Fill>> = {
  zeros: (t) => new Float64Array(sizeOf(t.shape)),
  ones: (t) => new Float64Array(sizeOf(t.shape)).fill(1),
  constant: (t, a) => new Float64Array(sizeOf(t.shape)).fill(n(a, 'value', 0)),
  random_uniform: (t, a) => {
    const lo = n(a, 'min', -0.05),
      hi = n(a, 'max', 0.05),
      seed = n(a, 'seed', 0);
    return Float64Array.from({ length: sizeOf(t.shape) }, (_, i) => lo + (hi - lo) * randomUniform(seed, 0, i));
  },
  random_normal: (t, a) => {
    const mean = n(a, 'mean', 0),
      sd = n(a, 'stddev', 0.05),
      seed = n(a, 'seed', 0);
    return Float64Array.from({ length: sizeOf(t.shape) }, (_, i) => mean + sd * randomNormal(seed, 0, i));
  },
  truncated_normal: (t, a) => {
    const mean = n(a, 'mean', 0),
      sd = n(a, 'stddev', 0.05),
      seed = n(a, 'seed', 0);
    return Float64Array.from({ length: sizeOf(t.shape) }, (_, i) => mean + sd * truncatedNormal(seed, i));
  },
  orthogonal,
  /** The flattened tensor cut into equal contiguous blocks, block i filled with values[i] (LSTM's unit forget bias). */
  blocks: (t, a) => {
    const v = (a.values ?? [0]) as readonly number[],
      size = sizeOf(t.shape);
    return Float64Array.from({ length: size }, (_, i) => v[Math.floor((i * v.length) / size)]!);
  },
};

export function initialValue(p: Param): Tensor {
  const fill = INITIALIZERS[p.init.name];
  if (!fill)
    fail(
      'K1003',
      `param %${p.name}: unknown initializer '${p.init.name}'; known: ${Object.keys(INITIALIZERS).join(', ')}`,
    );
  const data = allocData(p.type);
  data.set(fill(p.type, p.init.attrs));
  if (p.type.dtype !== 'f32' && !data.every(Number.isInteger)) {
    fail('K1003', `param %${p.name}: initializer '${p.init.name}' gives fractional values for ${formatType(p.type)}`);
  }
  return { type: p.type, data };
}

export function initParams(g: Pick<Graph, 'params'>): Record<string, Tensor> {
  return Object.fromEntries(g.params.map((p) => [p.name, initialValue(p)]));
}
