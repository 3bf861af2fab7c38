// N-d index iteration shared by reference evals: walk every multi-index of a shape in row-major
// order, and read a source tensor through an index map (a strided view, or any function).
import { allocData, sizeOf, stridesOf, type Shape, type Tensor, type TensorType } from '../types.ts';

/** Calls `f(flat, idx)` for every multi-index of `shape` in row-major order. `idx` is one array
 *  updated in place: copy it if you keep it. */
export function forEachIndex(shape: Shape, f: (flat: number, idx: readonly number[]) => void): void {
  const n = sizeOf(shape);
  const idx = new Array<number>(shape.length).fill(0);
  for (let flat = 0; flat < n; flat++) {
    f(flat, idx);
    for (let a = shape.length - 1; a >= 0; a--) {
      if (++idx[a]! < shape[a]!) break;
      idx[a] = 0;
    }
  }
}

/** `offset + sum_a idx[a] * strides[a]`. */
export function offsetOf(idx: readonly number[], strides: readonly number[], offset = 0): number {
  let o = offset;
  for (let a = 0; a < idx.length; a++) o += idx[a]! * strides[a]!;
  return o;
}

/** Strides that read a row-major `from` as if broadcast to `to` (numpy rules, `from` right-aligned):
 *  0 along the dims `from` lacks or has as 1. The caller has checked that the shapes broadcast. */
export function broadcastStrides(from: Shape, to: Shape): number[] {
  const src = stridesOf(from);
  const lead = to.length - from.length;
  return to.map((d, i) => (i < lead || from[i - lead] !== d || d === 1 ? 0 : src[i - lead]!));
}

/** A tensor of type `out` whose element at each multi-index is `src.data[at(idx)]`, or `fill`
 *  where `at` returns -1. f32 results are float64 when `float64` is set (finite-difference checks). */
export function readThrough(
  src: Tensor,
  out: TensorType,
  float64: boolean,
  at: (idx: readonly number[]) => number,
  fill = 0,
): Tensor {
  const data = allocData(out, float64);
  forEachIndex(out.shape, (flat, idx) => {
    const j = at(idx);
    data[flat] = j < 0 ? fill : src.data[j]!;
  });
  return { type: out, data };
}

/** The affine view `out[idx] = src[offset + idx . strides]` (transpose, broadcast, slice). */
export function readStrided(
  src: Tensor,
  out: TensorType,
  float64: boolean,
  strides: readonly number[],
  offset = 0,
): Tensor {
  return readThrough(src, out, float64, (idx) => offsetOf(idx, strides, offset));
}
