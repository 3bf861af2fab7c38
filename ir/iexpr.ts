// Integer index arithmetic of the Kernel IR, folded as it is built so kernels stay small and
// printed kernels readable: x+0 -> x, x*1 -> x, x*0 -> 0, x/1 -> x, x mod 1 -> 0, constants fold.
// `foldIExpr` refolds a whole expression (after a substitution), `rangeOf` bounds its values over a
// kernel's loop ranges (interval arithmetic: the verifier's bounds checks, guard elision).
import type { IExpr } from './kernel.ts';
import { mapIExpr } from './kernel-walk.ts';
import type { Shape } from './types.ts';

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
  if (isInt(a) && isInt(b) && val(b) !== 0) return ic(Math.floor(val(a) / val(b)));
  if (isInt(b, 1)) return a; // x/1 -> x
  if (isInt(a, 0)) return ic(0); // 0/x -> 0
  return { k: 'div', a, b };
}

export function imod(a: IExpr, b: IExpr): IExpr {
  if (isInt(a) && isInt(b) && val(b) !== 0) return ic(((val(a) % val(b)) + val(b)) % val(b));
  if (isInt(b, 1) || isInt(a, 0)) return ic(0); // x mod 1 -> 0
  return { k: 'mod', a, b };
}

export function imin(a: IExpr, b: IExpr): IExpr {
  return isInt(a) && isInt(b) ? ic(Math.min(val(a), val(b))) : { k: 'min', a, b };
}

export function imax(a: IExpr, b: IExpr): IExpr {
  return isInt(a) && isInt(b) ? ic(Math.max(val(a), val(b))) : { k: 'max', a, b };
}

const BUILD = { add: iadd, sub: isub, mul: imul, div: idiv, mod: imod, min: imin, max: imax } as const;

/** One node rebuilt through the folding constructors (its children already folded). */
export function foldIExprNode(e: IExpr): IExpr {
  return e.k === 'var' || e.k === 'int' || e.k === 'load' ? e : BUILD[e.k](e.a, e.b);
}

/** `e` refolded bottom-up (after a substitution made parts of it constant). */
export function foldIExpr(e: IExpr): IExpr {
  return mapIExpr(e, foldIExprNode);
}

/** `e` with each loop variable i replaced by sub(i), folded. */
export function substitute(e: IExpr, sub: (i: number) => IExpr): IExpr {
  return mapIExpr(e, (x) => (x.k === 'var' ? sub(x.i) : foldIExprNode(x)));
}

/** Row-major flat index of a multi-index over `shape` (extent-1 axes contribute nothing). */
export function linearize(idx: readonly IExpr[], shape: Shape): IExpr {
  let flat: IExpr = ic(0);
  for (let d = 0; d < shape.length; d++) {
    flat = iadd(imul(flat, ic(shape[d]!)), shape[d] === 1 ? ic(0) : idx[d]!);
  }
  return flat;
}

/** Inclusive bounds [lo, hi] of the values `e` takes when each loop var i ranges over
 *  [0, extents[i]) (an unknown var or an index load: unbounded). `known` may narrow a subexpression's
 *  range (a guard that holds wherever `e` is used). */
export function rangeOf(
  e: IExpr,
  extents: readonly number[],
  known?: (e: IExpr) => readonly [number, number] | undefined,
): readonly [number, number] {
  const r = ownRange(e, extents, known);
  const k = known?.(e);
  return k ? [Math.max(r[0], k[0]), Math.min(r[1], k[1])] : r;
}

function ownRange(
  e: IExpr,
  extents: readonly number[],
  known?: (e: IExpr) => readonly [number, number] | undefined,
): readonly [number, number] {
  switch (e.k) {
    case 'var': {
      const n = extents[e.i];
      return n === undefined ? [-Infinity, Infinity] : [0, n - 1];
    }
    case 'int':
      return [e.v, e.v];
    case 'load':
      return [-Infinity, Infinity];
    default: {
      const [al, ah] = rangeOf(e.a, extents, known),
        [bl, bh] = rangeOf(e.b, extents, known);
      switch (e.k) {
        case 'add':
          return [al + bl, ah + bh];
        case 'sub':
          return [al - bh, ah - bl];
        case 'mul': {
          const ps = [al * bl, al * bh, ah * bl, ah * bh].map((p) => (Number.isNaN(p) ? 0 : p));
          return [Math.min(...ps), Math.max(...ps)];
        }
        case 'div':
          if (bl === bh && bl > 0) return [Math.floor(al / bl), Math.floor(ah / bl)];
          return [-Infinity, Infinity];
        case 'mod':
          if (bl === bh && bl > 0) return al >= 0 && ah < bl ? [al, ah] : [0, bl - 1];
          return [-Infinity, Infinity];
        case 'min':
          return [Math.min(al, bl), Math.min(ah, bh)];
        case 'max':
          return [Math.max(al, bl), Math.max(ah, bh)];
      }
    }
  }
}

/** The largest value `e` takes when loop var i ranges over [0, extents[i]) (Infinity if unknown). */
export function maxOf(e: IExpr, extents: readonly number[]): number {
  return rangeOf(e, extents)[1];
}

/** x / c and x mod c knowing the range of the loop vars: (a*c + b) / c -> a and (a*c + b) mod c -> b
 *  when 0 <= b < c; x / c -> 0 and x mod c -> x when 0 <= x < c. */
function divBy(x: IExpr, c: number, ext: readonly number[]): IExpr {
  const [lo, hi] = rangeOf(x, ext);
  if (lo >= 0 && hi < c) return ic(0);
  if (x.k === 'add' && x.a.k === 'mul' && x.a.b.k === 'int' && x.a.b.v % c === 0 && inside(x.b, c, ext))
    return imul(x.a.a, ic(x.a.b.v / c));
  if (x.k === 'mul' && x.b.k === 'int' && x.b.v % c === 0) return imul(x.a, ic(x.b.v / c));
  return idiv(x, ic(c));
}

function modBy(x: IExpr, c: number, ext: readonly number[]): IExpr {
  if (inside(x, c, ext)) return x;
  if (x.k === 'add' && x.a.k === 'mul' && x.a.b.k === 'int' && x.a.b.v % c === 0 && inside(x.b, c, ext)) return x.b;
  if (x.k === 'mul' && x.b.k === 'int' && x.b.v % c === 0) return ic(0);
  return imod(x, ic(c));
}

/** 0 <= x < c for every point. */
function inside(x: IExpr, c: number, ext: readonly number[]): boolean {
  const [lo, hi] = rangeOf(x, ext);
  return lo >= 0 && hi < c;
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
    case 'var':
      return a.i === (b as typeof a).i;
    case 'int':
      return a.v === (b as typeof a).v;
    case 'load':
      return a.buf === (b as typeof a).buf && sameIExpr(a.at, (b as typeof a).at);
    default:
      return sameIExpr(a.a, (b as typeof a).a) && sameIExpr(a.b, (b as typeof a).b);
  }
}

/** An index as sum of coef * term + c (terms: loop vars, keyed v0000, v0001, ... in order, or
 *  subexpressions that are not affine, keyed by structure): a target puts c in an address immediate. */
/** The key of loop var i among a linear form's terms (they sort in var order). */
export const varKey = (i: number): string => `v${String(i).padStart(4, '0')}`;

export interface Linear {
  readonly terms: Map<string, { readonly e: IExpr; coef: number }>;
  c: number;
}

export function linearForm(e: IExpr): Linear {
  switch (e.k) {
    case 'int':
      return { terms: new Map(), c: e.v };
    case 'var':
      return { terms: new Map([[varKey(e.i), { e, coef: 1 }]]), c: 0 };
    case 'add':
    case 'sub': {
      const a = linearForm(e.a),
        b = linearForm(e.b),
        sign = e.k === 'add' ? 1 : -1;
      for (const [key, t] of b.terms) {
        const had = a.terms.get(key);
        if (had) had.coef += sign * t.coef;
        else a.terms.set(key, { e: t.e, coef: sign * t.coef });
      }
      a.c += sign * b.c;
      return a;
    }
    case 'mul': {
      const a = linearForm(e.a),
        b = linearForm(e.b);
      const [k, x] = a.terms.size === 0 ? [a.c, b] : b.terms.size === 0 ? [b.c, a] : [null, null];
      if (k !== null) {
        for (const t of x!.terms.values()) t.coef *= k;
        x!.c *= k;
        return x!;
      }
      break;
    }
  }
  return { terms: new Map([[`~${JSON.stringify(e)}`, { e, coef: 1 }]]), c: 0 };
}

/** Whether `at` reads runs of 4 consecutive elements, each starting at its constant term plus a
 *  multiple of 4, as loop var `v` runs through 4 consecutive values from a multiple of 4: every term
 *  is a loop var, v's coefficient is 1 and every other's a multiple of 4 (a target's vec4 loads). */
export function vec4Run(at: IExpr, v: number): boolean {
  const terms = [...linearForm(at).terms.values()].filter((t) => t.coef !== 0);
  return (
    terms.some((t) => t.e.k === 'var' && t.e.i === v && t.coef === 1) &&
    terms.every((t) => t.e.k === 'var' && (t.e.i === v ? t.coef === 1 : t.coef % 4 === 0))
  );
}
