// Kernel IR expressions -> folded WAT, in scalar mode or f32x4 mode along one loop variable.
// Bool values are i32 0/1 in scalar mode and i32x4 lane masks (-1/0) in vector mode.
import { fail } from '../../ir/errors.ts';
import type { Bound, Combine, IExpr, SExpr } from '../../ir/kernel.ts';
import type { DType } from '../../ir/types.ts';
import type { Func, WasmType } from './func.ts';
import { linearForm, varKey } from '../../ir/iexpr.ts';
import { sexprDtype } from '../../ir/kernel-walk.ts';
import { foldVars } from '../../ir/specialize.ts';
import { OP_CODE, opCode } from './ops.ts';
import { forLoop, get, i32c, i32v, lanes, scalarType, sconst, set, vconst } from './wat.ts';

const IOPS = { add: 'i32.add', sub: 'i32.sub', mul: 'i32.mul', div: 'i32.div_s', mod: 'i32.rem_s' } as const;

/** An index expression as i32, with the vector variable advanced by `lane`. */
export function ix(f: Func, e: IExpr, lane = 0): string {
  switch (e.k) {
    case 'var':
      return lane && e.i === f.vec ? `(i32.add ${get(f.v(e.i))} ${i32c(lane)})` : get(f.v(e.i));
    case 'int':
      return i32c(e.v);
    case 'load':
      return `(${mem('i32.load', f, e.at, f.buf(e.buf).offset, lane)})`;
    case 'min':
    case 'max': {
      const a = ix(f, e.a, lane),
        b = ix(f, e.b, lane);
      return `(select ${a} ${b} (i32.${e.k === 'min' ? 'lt_s' : 'gt_s'} ${a} ${b}))`;
    }
    default:
      return `(${IOPS[e.k]} ${ix(f, e.a, lane)} ${ix(f, e.b, lane)})`;
  }
}

/** The byte address of element `at` of a buffer (vector variable at `lane`) as a base expression and a
 *  constant offset: every load of a window then shares one base (computed once) and differs only in
 *  its `offset=` immediate. */
export function address(
  f: Func,
  at: IExpr,
  bufOffset: number,
  lane = 0,
): { readonly addr: string; readonly offset: number } {
  const l = linearForm(at);
  if (lane && f.vec !== null) l.c += lane * (l.terms.get(varKey(f.vec))?.coef ?? 0);
  const parts = [...l.terms.entries()]
    .filter(([, t]) => t.coef !== 0)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([, t]) => {
      const x = t.e.k === 'var' ? get(f.v(t.e.i)) : ix(f, t.e, lane);
      return t.coef === 1 ? x : `(i32.mul ${x} ${i32c(t.coef)})`;
    });
  // wasm adds the immediate to the base as unsigned: only a base that cannot be negative takes it
  const offset = bufOffset + l.c * 4;
  const inImmediate = offset >= 0 && [...l.terms.values()].every((t) => t.coef >= 0 && nonNegative(t.e));
  if (!inImmediate) parts.push(i32c(l.c));
  const sum = parts.length ? parts.reduce((a, b) => `(i32.add ${a} ${b})`) : i32c(0);
  return { addr: `(i32.shl ${sum} ${i32c(2)})`, offset: inImmediate ? offset : bufOffset };
}

/** True when an index is never negative (loop vars and index loads are not). */
function nonNegative(e: IExpr): boolean {
  switch (e.k) {
    case 'var':
    case 'load':
      return true;
    case 'int':
      return e.v >= 0;
    case 'sub':
      return false;
    default:
      return nonNegative(e.a) && nonNegative(e.b);
  }
}

const mem = (op: string, f: Func, at: IExpr, bufOffset: number, lane = 0): string => {
  const a = address(f, at, bufOffset, lane);
  return `${op} offset=${a.offset} ${a.addr}`;
};

const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : Math.abs(a));

/** How e moves across the 4 lanes of vector variable v (which starts each block at a multiple of 4):
 *  e(lane l) = e(lane 0) + coef * l, and e(lane 0) is a multiple of `align`; null when not affine. */
export function affine(e: IExpr, v: number): { coef: number; align: number } | null {
  switch (e.k) {
    case 'var':
      return e.i === v ? { coef: 1, align: 4 } : { coef: 0, align: 1 };
    case 'int':
      return { coef: 0, align: e.v === 0 ? 1 << 30 : Math.abs(e.v) };
    case 'load':
      return affine(e.at, v)?.coef === 0 ? { coef: 0, align: 1 } : null;
    default: {
      const a = affine(e.a, v),
        b = affine(e.b, v);
      if (!a || !b) return null;
      if (a.coef === 0 && b.coef === 0) return { coef: 0, align: 1 };
      const bc = e.b.k === 'int' ? e.b.v : null;
      const ac = e.a.k === 'int' ? e.a.v : null;
      switch (e.k) {
        case 'add':
          return { coef: a.coef + b.coef, align: gcd(a.align, b.align) };
        case 'sub':
          return { coef: a.coef - b.coef, align: gcd(a.align, b.align) };
        case 'mul':
          if (bc !== null) return { coef: a.coef * bc, align: a.align * Math.abs(bc) || 1 };
          if (ac !== null) return { coef: b.coef * ac, align: b.align * Math.abs(ac) || 1 };
          return null;
        case 'div':
        case 'mod': {
          if (bc === null || bc <= 0 || b.coef !== 0 || a.coef < 0) return null;
          const span = 4 * a.coef; // lanes stay inside one block of bc when bc is a multiple of span
          if (e.k === 'div') {
            if (a.coef % bc === 0) return { coef: a.coef / bc, align: 1 };
            return bc % span === 0 && a.align % span === 0 ? { coef: 0, align: 1 } : null;
          }
          if (a.coef % bc === 0) return { coef: 0, align: 1 };
          return bc % span === 0 && a.align % span === 0 ? { coef: a.coef, align: span } : null;
        }
        default:
          return null;
      }
    }
  }
}

/** The dtype an expression produces. */
export function dtypeOf(f: Func, e: SExpr): DType {
  return sexprDtype(
    e,
    (buf) => f.buf(buf).dtype,
    (name, k) =>
      f.accs.get(name)?.dtype ??
      fail(
        'K6001',
        `${f.name}: expression reads ${k === 'acc' ? 'accumulator' : 'binding'} '${name}', which is not defined at this point`,
      ),
  );
}

/** `lo <= e < hi` for every bound, as an i32 condition (one unsigned compare per bound). */
export function guardCond(f: Func, g: readonly Bound[], lane: number): string {
  const tests = g.map((b) => `(i32.lt_u (i32.sub ${ix(f, b.e, lane)} ${i32c(b.lo)}) ${i32c(b.hi - b.lo)})`);
  return tests.reduce((acc, t) => `(i32.and ${acc} ${t})`);
}

function scalarLoad(f: Func, buf: string, at: IExpr, lane: number): string {
  const b = f.buf(buf);
  return `(${mem(`${scalarType(b.dtype)}.load`, f, at, b.offset, lane)})`;
}

function guardedScalarLoad(f: Func, e: Extract<SExpr, { k: 'load' }>, lane: number): string {
  const d = f.buf(e.buf).dtype;
  const load = scalarLoad(f, e.buf, e.at, lane);
  if (!e.guard?.length) return load;
  return `(if (result ${scalarType(d)}) ${guardCond(f, e.guard, lane)} (then ${load}) (else ${sconst(d, e.otherwise ?? 0)}))`;
}

/** Builds a vector from 4 scalar lane values. */
export function fromLanes(d: DType, lane: (l: number) => string): string {
  const s = lanes(d);
  let v = `(${s}.splat ${lane(0)})`;
  for (let l = 1; l < 4; l++) v = `(${s}.replace_lane ${l} ${v} ${lane(l)})`;
  return v;
}

/** A bool 0/1 scalar lane set as masks. */
const toMask = (v: string): string => `(i32x4.neg ${v})`;

function vectorLoad(f: Func, e: Extract<SExpr, { k: 'load' }>): string {
  const b = f.buf(e.buf);
  const v = f.vec!;
  const guardFree = (e.guard ?? []).every((g) => affine(g.e, v)?.coef === 0);
  const af = affine(e.at, v);
  if (!guardFree || !af || (af.coef !== 0 && af.coef !== 1)) {
    const lanesV = fromLanes(b.dtype, (l) => guardedScalarLoad(f, e, l));
    return b.dtype === 'bool' ? toMask(lanesV) : lanesV;
  }
  let load = `(${mem(af.coef === 0 ? 'v128.load32_splat' : 'v128.load', f, e.at, b.offset)})`;
  if (b.dtype === 'bool') load = toMask(load);
  if (!e.guard?.length) return load;
  return `(if (result v128) ${guardCond(f, e.guard, 0)} (then ${load}) (else ${vconst(b.dtype, e.otherwise ?? 0)}))`;
}

/** An index as an i32x4 of its 4 lanes. */
export function ivec(f: Func, e: IExpr): string {
  const af = affine(e, f.vec!);
  if (!af) return fromLanes('i32', (l) => ix(f, e, l));
  const base = `(i32x4.splat ${ix(f, e)})`;
  return af.coef === 0 ? base : `(i32x4.add ${base} (v128.const i32x4 0 ${af.coef} ${2 * af.coef} ${3 * af.coef}))`;
}

/** An SExpr in the function's current mode. */
export function sx(f: Func, e: SExpr): string {
  const vector = f.vec !== null;
  switch (e.k) {
    case 'load':
      return vector ? vectorLoad(f, e) : guardedScalarLoad(f, e, 0);
    case 'const':
      return vector ? vconst(e.dtype, e.v) : sconst(e.dtype, e.v);
    case 'index':
      return vector ? ivec(f, e.at) : ix(f, e.at);
    case 'acc':
    case 'let': {
      dtypeOf(f, e);
      const a = f.accs.get(e.name)!;
      if (vector === a.vector) return get(a.local);
      if (vector) return `(${lanes(a.dtype)}.splat ${get(a.local)})`;
      return fail('K6001', `${f.name}: scalar code reads the vector value '${e.name}'`);
    }
    case 'random': {
      const idx = vector ? ivec(f, e.index) : `(i32x4.splat ${ix(f, e.index)})`;
      const call = `(call $random_${e.dist} ${i32v(e.seed)} ${withMode(f, null, () => sx(f, e.counter))} ${idx})`;
      return vector ? call : `(f32x4.extract_lane 0 ${call})`;
    }
    case 'op': {
      const code = opCode(e.op);
      if (!code)
        fail(
          'K6001',
          `${e.op}: no WebAssembly lowering for op '${e.op}' (kernel ${f.name}); supported: ${Object.keys(OP_CODE).join(', ')}`,
        );
      const types = e.args.map((a) => dtypeOf(f, a));
      const args = e.args.map((a) => sx(f, a));
      return code(f, args, types, e.dtype, e.attrs ?? {});
    }
    case 'reduce':
      return reduceExpr(f, e);
  }
}

/** A reduction fully unrolled when it has at most this many points. */
export const UNROLL = 16;

/** The points of `extents` (row-major), each as its vars first.. -> values. */
export function pointsOf(extents: readonly number[], first: number): Map<number, number>[] {
  let pts: number[][] = [[]];
  for (const n of extents) pts = pts.flatMap((p) => Array.from({ length: n }, (_, i) => [...p, i]));
  return pts.map((p) => new Map(p.map((x, i) => [first + i, x])));
}

/** The identity of a combine: 0 for sums, the far end of the dtype's range for max / min / argmax. */
export function identity(combine: Combine, d: DType): number {
  if (combine === 'sum') return 0;
  if (combine === 'first_max') return identity('max', d);
  const big = d === 'f32' ? Infinity : 2147483647;
  return combine === 'min' ? big : -big - (d === 'f32' ? 0 : 1);
}

/** best, replaced by x only where x > best (f32x4.pmax in vector mode). */
export function firstMax(f: Func, d: DType, best: string, x: string): string {
  if (d !== 'f32') return OP_CODE.maximum(f, [best, x], [d, d], d, {});
  if (f.vec !== null) return `(f32x4.pmax ${best} ${x})`;
  const t = f.tmp('f32'),
    b = f.tmp('f32');
  return `(block (result f32) ${set(b, best)} ${set(t, x)} (select ${get(t)} ${get(b)} (f32.gt ${get(t)} ${get(b)})))`;
}

export const COMBINE_OP = { sum: 'add', max: 'maximum', min: 'minimum' } as const;

/** One step of a reduction in the function's current mode (vector: 4 lanes): `into` combines `value`;
 *  for argmax `best` holds the maximum so far (of dtype vt) and `into` its position `pos` (an i32),
 *  the first maximum kept. */
export function combineStep(
  f: Func,
  combine: Combine,
  dtype: DType,
  vt: DType,
  into: string,
  best: string,
  value: string,
  pos: string,
): string {
  const vector = f.vec !== null;
  if (combine === 'first_max') return set(into, firstMax(f, dtype, get(into), value));
  if (combine !== 'argmax')
    return set(into, OP_CODE[COMBINE_OP[combine]](f, [get(into), value], [dtype, dtype], dtype, {}));
  const t = f.tmp(vector ? 'v128' : scalarType(vt));
  const gt = `${vt === 'f32' ? 'gt' : 'gt_s'}`;
  if (!vector)
    return `${set(t, value)} (if (${scalarType(vt)}.${gt} ${get(t)} ${get(best)}) (then ${set(best, get(t))} ${set(into, pos)}))`;
  const m = f.tmp('v128');
  return `${set(t, value)} ${set(m, `(${lanes(vt)}.${gt} ${get(t)} ${get(best)})`)} ${set(best, `(v128.bitselect ${get(t)} ${get(best)} ${get(m)})`)} ${set(into, `(v128.bitselect (i32x4.splat ${pos}) ${get(into)} ${get(m)})`)}`;
}

/** A reduction inside an expression, as a block yielding its result: unrolled over its points when
 *  they are few (their indices then fold), else loops over its vars. */
function reduceExpr(f: Func, e: Extract<SExpr, { k: 'reduce' }>): string {
  const vector = f.vec !== null;
  const vt = dtypeOf(f, e.value);
  const type = (d: DType): WasmType => (vector ? 'v128' : scalarType(d));
  const argmax = e.combine === 'argmax';
  const acc = f.tmp(type(e.dtype));
  const best = argmax ? f.tmp(type(vt)) : acc;
  const initType = argmax ? vt : e.dtype;
  const ident = identity(argmax ? 'max' : e.combine, initType);
  const parts = [set(best, vector ? vconst(initType, ident) : sconst(initType, ident))];
  if (argmax) parts.push(set(acc, vector ? vconst('i32', 0) : i32c(0)));
  const points = e.extents.reduce((a, b) => a * b, 1);
  if (points <= UNROLL) {
    pointsOf(e.extents, e.first).forEach((vals, p) => {
      parts.push(
        combineStep(
          f,
          e.combine,
          e.dtype,
          vt,
          acc,
          best,
          sx(
            f,
            foldVars(e.value, vals, (b) => f.buf(b).dtype),
          ),
          i32c(p),
        ),
      );
    });
  } else {
    const v = (i: number): string => f.v(e.first + i);
    const pos = e.extents
      .slice(1)
      .reduce((p, n, i) => `(i32.add (i32.mul ${p} ${i32c(n)}) ${get(v(i + 1))})`, get(v(0)));
    let body = combineStep(f, e.combine, e.dtype, vt, acc, best, sx(f, e.value), pos);
    const id = f.label('x');
    for (let i = e.extents.length - 1; i >= 0; i--) body = forLoop(v(i), 0, e.extents[i]!, 1, body, `${id}_${i}`);
    parts.push(body);
  }
  return `(block (result ${type(e.dtype)})
${parts.join('\n')}
${get(acc)})`;
}

/** Runs `fn` with the function temporarily in another mode. */
export function withMode<T>(f: Func, vec: number | null, fn: () => T): T {
  const saved = f.vec;
  f.vec = vec;
  try {
    return fn();
  } finally {
    f.vec = saved;
  }
}

/** Stores a value (rendered in the current mode) at buf[at] where the guard holds; bool masks are
 *  stored as 0/1. A 'sum' store adds the value into the element (lane by lane unless the 4 lanes are
 *  4 distinct elements). */
export function store(
  f: Func,
  buf: string,
  at: IExpr,
  value: string,
  combine?: 'sum',
  guard: readonly Bound[] = [],
): string {
  const b = f.buf(buf);
  const put = (type: 'v128' | 'f32' | 'i32', add: string, l: number, v: string): string => {
    const a = address(f, at, b.offset, l);
    let code = `(${type}.store offset=${a.offset} ${a.addr} ${v})`;
    if (combine === 'sum') {
      const local = f.tmp('i32');
      code = `${set(local, a.addr)} (${type}.store offset=${a.offset} ${get(local)} (${add} (${type}.load offset=${a.offset} ${get(local)}) ${v}))`;
    }
    return guard.length ? `(if ${guardCond(f, guard, l)} (then ${code}))` : code;
  };
  const st = scalarType(b.dtype),
    sadd = `${st}.add`;
  if (f.vec === null) return put(st, sadd, 0, value);
  const v = b.dtype === 'bool' ? `(v128.and ${value} ${vconst('i32', 1)})` : value;
  const uniform = guard.every((g) => affine(g.e, f.vec!)?.coef === 0);
  if (affine(at, f.vec)?.coef === 1 && uniform) return put('v128', `${lanes(b.dtype)}.add`, 0, v);
  const t = f.tmp('v128');
  const parts = [set(t, v)];
  for (let l = 0; l < 4; l++) parts.push(put(st, sadd, l, `(${lanes(b.dtype)}.extract_lane ${l} ${get(t)})`));
  return parts.join('\n');
}
