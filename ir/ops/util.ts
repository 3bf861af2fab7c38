// Small helpers shared by op definitions: shape checks with good messages, broadcasting,
// attribute getters, and graph-building helpers for VJP rules.
import { fail } from '../errors.ts';
import type { Attrs, Value } from '../graph.ts';
import { formatType, sameShape, type DType, type Shape, type TensorType } from '../types.ts';
import type { Emit } from './def.ts';

export const int = (a: Attrs, k: string): number => a[k] as number;
export const ints = (a: Attrs, k: string): readonly number[] => a[k] as readonly number[];
export const num = (a: Attrs, k: string): number => a[k] as number;
export const bool = (a: Attrs, k: string): boolean => a[k] as boolean;
export const str = (a: Attrs, k: string): string => a[k] as string;

export function shapeStr(s: Shape): string {
  return `[${s.join(',')}]`;
}

/** Both types as the user sees them, for messages: "f32[2,3] and f32[4]". */
export function typesStr(ts: readonly TensorType[]): string {
  return ts.map(formatType).join(' and ');
}

/** numpy broadcasting of two shapes; throws K1001 naming the op and both shapes. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      fail(
        'K1001',
        `${op}: shapes ${shapeStr(a)} and ${shapeStr(b)} cannot be broadcast together (dimension ${i - n} is ${da} vs ${db}); make the sizes equal or 1`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

export function requireDType(op: string, t: TensorType, allowed: readonly DType[], what = 'input'): void {
  if (!allowed.includes(t.dtype)) {
    fail('K1002', `${op}: ${what} has type ${formatType(t)}, expected dtype ${allowed.join(' or ')}`);
  }
}

export function requireSameDType(op: string, ts: readonly TensorType[]): void {
  const d = ts[0]!.dtype;
  if (ts.some((t) => t.dtype !== d)) {
    fail('K1002', `${op}: inputs ${typesStr(ts)} have different dtypes; insert a cast`);
  }
}

export function requireRank(op: string, t: TensorType, rank: number, what = 'input'): void {
  if (t.shape.length !== rank) {
    fail('K1001', `${op}: ${what} ${formatType(t)} has rank ${t.shape.length}, expected rank ${rank}`);
  }
}

// ---- graph-building helpers for VJP rules ----

/** A scalar constant of the given dtype. */
export function scalarConst(emit: Emit, value: number, dtype: DType = 'f32'): Value {
  return emit('constant', [], { value: [value], shape: [], dtype });
}

/** Sums a cotangent of broadcast shape `from` back down to `to` (the undo of numpy broadcasting). */
export function unbroadcast(emit: Emit, g: Value, to: Shape): Value {
  const from = g.type.shape;
  if (sameShape(from, to)) return g;
  const lead = from.length - to.length;
  const axes: number[] = [];
  for (let i = 0; i < from.length; i++) {
    if (i < lead || (to[i - lead] === 1 && from[i] !== 1)) axes.push(i);
  }
  let r: Value = axes.length ? emit('sum', [g], { axes, keepdims: true }) : g;
  if (!sameShape(r.type.shape, to)) r = emit('reshape', [r], { shape: [...to] });
  return r;
}
