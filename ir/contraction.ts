// Contraction operands (ContractionKernel.a and .b): constructors for the operands lowering builds (a
// strided view; a convolution's window of patches, implicit im2col; a filter read as the input
// gradient's B) and the forms a target recognizes in any operand to choose how to pack it (an affine
// index, a strided view, a run of contiguous channels). What an operand holds is its index expression
// and guards alone; these forms only describe it.
import { iadd, ic, imul, isub, iv, rangeOf } from './iexpr.ts';
import type { Bound, IExpr, Operand } from './kernel.ts';
import { indexVarsOf } from './kernel-walk.ts';

/** The terms added left to right, then the constant. */
function sum(terms: readonly IExpr[], offset = 0): IExpr {
  const e = terms.reduce(iadd, ic(0));
  return offset < 0 ? isub(e, ic(-offset)) : iadd(e, ic(offset));
}

/** offset + sum of coefs[i] * var i. */
export function affineExpr(offset: number, coefs: readonly number[]): IExpr {
  return sum(
    coefs.map((c, i) => imul(iv(i), ic(c))),
    offset,
  );
}

/** A strided view of a buffer as [batch..., rows, cols]: one stride per axis (0 broadcasts), one
 *  sub-coordinate per side. */
export function viewOperand(
  buf: string,
  offset: number,
  strides: readonly number[],
  rows: number,
  cols: number,
): Operand {
  return { buf, rows: [rows], cols: [cols], at: affineExpr(offset, strides) };
}

/** A window visiting an NHWC image, as conv2d reads its input. */
export interface Window {
  /** The image [N, H, W, C]. */
  readonly image: readonly number[];
  /** The pixel grid [OH, OW] the window visits and the window's extent [KH, KW]. */
  readonly out: readonly number[];
  readonly kernel: readonly number[];
  readonly strides: readonly number[];
  readonly dilations: readonly number[];
  /** Top and left padding: pixel (y, x) reads tap (i, j) at (y sh - pt + i dh, x sw - pl + j dw). */
  readonly pads: readonly number[];
  /** The image's pixels sit at multiples of this in those coordinates, zeros between (a transposed
   *  convolution: the input gradient of a strided conv2d); default [1, 1]. */
  readonly upsample?: readonly number[];
}

/** The patches of a window (implicit im2col): pixels [N, OH, OW] by taps [KH, KW, C], element
 *  image[n, y sh - pt + i dh, x sw - pl + j dw, c], 0 in the padding (and between upsampled pixels).
 *  `pixels` says which side the pixels are: 'rows' (conv2d's A) or 'cols' (the filter gradient's A,
 *  the patches transposed). Guards that hold everywhere are left out. */
export function windowOperand(buf: string, w: Window, pixels: 'rows' | 'cols'): Operand {
  const [N, H, W, C] = w.image as [number, number, number, number];
  const [OH, OW] = w.out as [number, number];
  const [KH, KW] = w.kernel as [number, number];
  const [uh, uw] = (w.upsample ?? [1, 1]) as [number, number];
  const [n, y, x, i, j, c] = pixels === 'rows' ? [0, 1, 2, 3, 4, 5] : [3, 4, 5, 0, 1, 2];
  const [p, t] = [
    [N, OH, OW],
    [KH, KW, C],
  ];
  const [rows, cols] = pixels === 'rows' ? [p, t] : [t, p];
  const extents = [...rows, ...cols];
  const guard: Bound[] = [];
  // the image coordinate along one axis: e = out s + tap d - pad, read at e / u when u divides it
  const axis = (o: number, tap: number, size: number, s: number, d: number, pad: number, u: number): IExpr => {
    const e = sum([imul(iv(o), ic(s)), imul(iv(tap), ic(d))], -pad);
    const [lo, hi] = rangeOf(e, extents);
    if (lo < 0 || hi > (size - 1) * u) guard.push({ e, lo: 0, hi: (size - 1) * u + 1 });
    if (u === 1) return e;
    guard.push({ e: { k: 'mod', a: e, b: ic(u) }, lo: 0, hi: 1 });
    return { k: 'div', a: e, b: ic(u) };
  };
  const ih = axis(y, i, H, w.strides[0]!, w.dilations[0]!, w.pads[0]!, uh);
  const iw = axis(x, j, W, w.strides[1]!, w.dilations[1]!, w.pads[1]!, uw);
  const at = sum([imul(iv(n), ic(H * W * C)), imul(ih, ic(W * C)), imul(iw, ic(C)), iv(c)]);
  return guard.length ? { buf, rows, cols, at, guard } : { buf, rows, cols, at };
}

/** A filter w [KH, KW, C, F] as the input gradient's B: rows (i, j, f) over [KH, KW, F] by cols c over
 *  [C], element w[KH-1-i, KW-1-j, c, f] (the window turned by 180 degrees, C and F swapped). */
export function flippedFilterOperand(buf: string, shape: readonly number[]): Operand {
  const [KH, KW, C, F] = shape as [number, number, number, number];
  return { buf, rows: [KH, KW, F], cols: [C], at: affineExpr((KH * KW - 1) * C * F, [-KW * C * F, -C * F, 1, F]) };
}

/** An affine index: offset + sum of coefs[i] * var i (missing coefs are 0). */
export interface Affine {
  readonly offset: number;
  readonly coefs: readonly number[];
}

const coef = (a: Affine, i: number): number => a.coefs[i] ?? 0;

function combine(a: Affine, b: Affine, sb: number): Affine {
  const n = Math.max(a.coefs.length, b.coefs.length);
  return { offset: a.offset + sb * b.offset, coefs: Array.from({ length: n }, (_, i) => coef(a, i) + sb * coef(b, i)) };
}

/** e as an affine index, or null when it is not one (a div, mod, min, max, index load, or a product of vars). */
export function affineOf(e: IExpr): Affine | null {
  switch (e.k) {
    case 'int':
      return { offset: e.v, coefs: [] };
    case 'var':
      return { offset: 0, coefs: Array.from({ length: e.i + 1 }, (_, i) => (i === e.i ? 1 : 0)) };
    case 'add':
    case 'sub': {
      const a = affineOf(e.a),
        b = affineOf(e.b);
      return a && b ? combine(a, b, e.k === 'add' ? 1 : -1) : null;
    }
    case 'mul': {
      const a = affineOf(e.a),
        b = affineOf(e.b);
      if (!a || !b) return null;
      const [x, c] = a.coefs.every((v) => v === 0)
        ? [b, a.offset]
        : b.coefs.every((v) => v === 0)
          ? [a, b.offset]
          : [null, 0];
      return x && { offset: x.offset * c, coefs: x.coefs.map((v) => v * c) };
    }
    default:
      return null;
  }
}

/** The stride of a side's flat index when its sub-coordinates (vars first..) run on as one, else null. */
function sideStride(a: Affine, first: number, extents: readonly number[]): number | null {
  let stride: number | null = null,
    inner = 1;
  for (let d = extents.length - 1; d >= 0; d--) {
    if (extents[d] === 1) continue;
    const c = coef(a, first + d);
    if (stride === null) stride = c;
    else if (c !== stride * inner) return null;
    inner *= extents[d]!;
  }
  return stride ?? 0;
}

/** The operand as a strided view (viewOperand's form): its offset and one stride per batch axis, for
 *  the row and for the column; null when a guard or its index makes it something else. */
export function viewOf(op: Operand, batch: number): { offset: number; strides: number[] } | null {
  const a = op.guard?.length ? null : affineOf(op.at);
  if (!a) return null;
  const row = sideStride(a, batch, op.rows),
    col = sideStride(a, batch + op.rows.length, op.cols);
  if (row === null || col === null) return null;
  return { offset: a.offset, strides: [...Array.from({ length: batch }, (_, d) => coef(a, d)), row, col] };
}

/** True when e reads loop var v. */
export const readsVar = (e: IExpr, v: number): boolean => indexVarsOf(e).has(v);

/** The coefficient of var v when e is rest + coef * v with v nowhere in rest (0 when absent), else null. */
function linearCoef(e: IExpr, v: number): number | null {
  if (!readsVar(e, v)) return 0;
  switch (e.k) {
    case 'var':
      return 1;
    case 'add':
    case 'sub': {
      const a = linearCoef(e.a, v),
        b = linearCoef(e.b, v);
      return a === null || b === null ? null : e.k === 'add' ? a + b : a - b;
    }
    case 'mul': {
      const [x, c] = e.b.k === 'int' ? [e.a, e.b.v] : e.a.k === 'int' ? [e.b, e.a.v] : [null, 0];
      const k = x === null ? null : linearCoef(x, v);
      return k === null ? null : k * c;
    }
    default:
      return null;
  }
}

/** The var of a side's last sub-coordinate when it walks contiguous elements (the channels of a
 *  patch): index = rest + c with c in no other term and no guard; null otherwise. */
export function channelVar(op: Operand, batch: number, side: 'rows' | 'cols'): number | null {
  const v = batch + op.rows.length + (side === 'cols' ? op.cols.length : 0) - 1;
  if (linearCoef(op.at, v) !== 1 || op.guard?.some((g) => readsVar(g.e, v))) return null;
  return v;
}

/** The number of elements of a side: the product of its sub-coordinates' extents. */
export const extentOf = (sub: readonly number[]): number => sub.reduce((a, b) => a * b, 1);
