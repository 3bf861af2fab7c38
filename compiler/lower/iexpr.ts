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

/** The multi-index over `shape` of a row-major flat index. */
export function delinearize(flat: IExpr, shape: Shape): IExpr[] {
  const out = new Array<IExpr>(shape.length);
  let inner = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = shape[d]!;
    out[d] = n === 1 ? ic(0) : d === 0 ? idiv(flat, ic(inner)) : imod(idiv(flat, ic(inner)), ic(n));
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
