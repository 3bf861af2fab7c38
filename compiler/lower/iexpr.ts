// Index arithmetic for the Kernel IR, folded as it is built so printed kernels stay readable:
// x+0 -> x, x*1 -> x, x*0 -> 0, x/1 -> x, x mod 1 -> 0, constants fold.
import type { IExpr } from '../../ir/kernel.ts';
import type { Shape } from '../../ir/types.ts';

export const iv = (i: number): IExpr => ({ k: 'var', i });
export const ic = (v: number): IExpr => ({ k: 'int', v });

const isInt = (e: IExpr, v?: number): boolean => e.k === 'int' && (v === undefined || e.v === v);
const val = (e: IExpr): number => (e as { v: number }).v;

export function iadd(a: IExpr, b: IExpr): IExpr {
  if (isInt(a) && isInt(b)) return ic(val(a) + val(b));
  if (isInt(b, 0)) return a; // x+0 -> x
  if (isInt(a, 0)) return b; // 0+x -> x
  return { k: 'add', a, b };
}

export function isub(a: IExpr, b: IExpr): IExpr {
  if (isInt(a) && isInt(b)) return ic(val(a) - val(b));
  if (isInt(b, 0)) return a; // x-0 -> x
  return { k: 'sub', a, b };
}

export function imul(a: IExpr, b: IExpr): IExpr {
  if (isInt(a) && isInt(b)) return ic(val(a) * val(b));
  if (isInt(a, 0) || isInt(b, 0)) return ic(0); // x*0 -> 0
  if (isInt(b, 1)) return a; // x*1 -> x
  if (isInt(a, 1)) return b; // 1*x -> x
  return { k: 'mul', a, b };
}

export function idiv(a: IExpr, b: IExpr): IExpr {
  if (isInt(a) && isInt(b)) return ic(Math.floor(val(a) / val(b)));
  if (isInt(b, 1)) return a; // x/1 -> x
  if (isInt(a, 0)) return ic(0); // 0/x -> 0
  return { k: 'div', a, b };
}

export function imod(a: IExpr, b: IExpr): IExpr {
  if (isInt(a) && isInt(b)) return ic(((val(a) % val(b)) + val(b)) % val(b));
  if (isInt(b, 1) || isInt(a, 0)) return ic(0); // x mod 1 -> 0
  return { k: 'mod', a, b };
}

/** Row-major flat index of a multi-index over `shape` (extent-1 axes contribute nothing). */
export function linearize(idx: readonly IExpr[], shape: Shape): IExpr {
  let flat: IExpr = ic(0);
  for (let d = 0; d < shape.length; d++) {
    flat = iadd(imul(flat, ic(shape[d]!)), shape[d] === 1 ? ic(0) : idx[d]!);
  }
  return flat;
}

/** The largest value `e` takes when loop var i ranges over [0, extents[i]) (Infinity if unknown). */
export function maxOf(e: IExpr, extents: readonly number[]): number {
  switch (e.k) {
    case 'var': return (extents[e.i] ?? Infinity) - 1;
    case 'int': return e.v;
    case 'add': return maxOf(e.a, extents) + maxOf(e.b, extents);
    case 'mul': return maxOf(e.a, extents) * maxOf(e.b, extents);
    case 'div': return e.b.k === 'int' ? Math.floor(maxOf(e.a, extents) / e.b.v) : Infinity;
    case 'mod': return e.b.k === 'int' ? Math.min(e.b.v - 1, maxOf(e.a, extents)) : Infinity;
    case 'min': return Math.min(maxOf(e.a, extents), maxOf(e.b, extents));
    case 'max': return Math.max(maxOf(e.a, extents), maxOf(e.b, extents));
    default: return Infinity;
  }
}

/** x / c and x mod c knowing the range of the loop vars: (a*c + b) / c -> a and (a*c + b) mod c -> b
 *  when 0 <= b < c; x / c -> 0 and x mod c -> x when x < c. */
function divBy(x: IExpr, c: number, ext: readonly number[]): IExpr {
  if (maxOf(x, ext) < c) return ic(0);
  if (x.k === 'add' && x.a.k === 'mul' && x.a.b.k === 'int' && x.a.b.v % c === 0 && maxOf(x.b, ext) < c) return imul(x.a.a, ic(x.a.b.v / c));
  if (x.k === 'mul' && x.b.k === 'int' && x.b.v % c === 0) return imul(x.a, ic(x.b.v / c));
  return idiv(x, ic(c));
}

function modBy(x: IExpr, c: number, ext: readonly number[]): IExpr {
  if (maxOf(x, ext) < c) return x;
  if (x.k === 'add' && x.a.k === 'mul' && x.a.b.k === 'int' && x.a.b.v % c === 0 && maxOf(x.b, ext) < c) return x.b;
  if (x.k === 'mul' && x.b.k === 'int' && x.b.v % c === 0) return ic(0);
  return imod(x, ic(c));
}

/** The multi-index over `shape` of a row-major flat index (`extents`: the loop vars' ranges, for folding). */
export function delinearize(flat: IExpr, shape: Shape, extents: readonly number[] = []): IExpr[] {
  const out = new Array<IExpr>(shape.length);
  let inner = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = shape[d]!;
    const q = divBy(flat, inner, extents);
    out[d] = n === 1 ? ic(0) : d === 0 ? q : modBy(q, n, extents);
    inner *= n;
  }
  return out;
}

/** Loop variables first..first+rank-1 as a multi-index. */
export function vars(rank: number, first = 0): IExpr[] {
  return Array.from({ length: rank }, (_, i) => iv(first + i));
}

export function sameIExpr(a: IExpr, b: IExpr): boolean {
  if (a.k !== b.k) return false;
  switch (a.k) {
    case 'var': return a.i === (b as typeof a).i;
    case 'int': return a.v === (b as typeof a).v;
    case 'load': return a.buf === (b as typeof a).buf && sameIExpr(a.at, (b as typeof a).at);
    default: return sameIExpr(a.a, (b as typeof a).a) && sameIExpr(a.b, (b as typeof a).b);
  }
}
