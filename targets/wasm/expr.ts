// Kernel IR expressions -> folded WAT, in scalar mode or f32x4 mode along one loop variable.
// Bool values are i32 0/1 in scalar mode and i32x4 lane masks (-1/0) in vector mode.
import { fail } from '../../ir/errors.ts';
import type { Bound, IExpr, SExpr } from '../../ir/kernel.ts';
import type { DType } from '../../ir/types.ts';
import type { Func } from './func.ts';
import { OP_CODE } from './ops.ts';
import { get, i32c, lanes, scalarType, sconst, set, vconst } from './wat.ts';

const IOPS = { add: 'i32.add', sub: 'i32.sub', mul: 'i32.mul', div: 'i32.div_s', mod: 'i32.rem_s' } as const;

/** An index expression as i32, with the vector variable advanced by `lane`. */
export function ix(f: Func, e: IExpr, lane = 0): string {
  switch (e.k) {
    case 'var': return lane && e.i === f.vec ? `(i32.add ${get(f.v(e.i))} ${i32c(lane)})` : get(f.v(e.i));
    case 'int': return i32c(e.v);
    case 'load': return `(i32.load offset=${f.buf(e.buf).offset} (i32.shl ${ix(f, e.at, lane)} ${i32c(2)}))`;
    case 'min': case 'max': {
      const a = ix(f, e.a, lane), b = ix(f, e.b, lane);
      return `(select ${a} ${b} (i32.${e.k === 'min' ? 'lt_s' : 'gt_s'} ${a} ${b}))`;
    }
    default: return `(${IOPS[e.k]} ${ix(f, e.a, lane)} ${ix(f, e.b, lane)})`;
  }
}

const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : Math.abs(a));

/** How e moves across the 4 lanes of vector variable v (which starts each block at a multiple of 4):
 *  e(lane l) = e(lane 0) + coef * l, and e(lane 0) is a multiple of `align`; null when not affine. */
export function affine(e: IExpr, v: number): { coef: number; align: number } | null {
  switch (e.k) {
    case 'var': return e.i === v ? { coef: 1, align: 4 } : { coef: 0, align: 1 };
    case 'int': return { coef: 0, align: e.v === 0 ? 1 << 30 : Math.abs(e.v) };
    case 'load': return affine(e.at, v)?.coef === 0 ? { coef: 0, align: 1 } : null;
    default: {
      const a = affine(e.a, v), b = affine(e.b, v);
      if (!a || !b) return null;
      if (a.coef === 0 && b.coef === 0) return { coef: 0, align: 1 };
      const bc = e.b.k === 'int' ? e.b.v : null;
      const ac = e.a.k === 'int' ? e.a.v : null;
      switch (e.k) {
        case 'add': return { coef: a.coef + b.coef, align: gcd(a.align, b.align) };
        case 'sub': return { coef: a.coef - b.coef, align: gcd(a.align, b.align) };
        case 'mul':
          if (bc !== null) return { coef: a.coef * bc, align: a.align * Math.abs(bc) || 1 };
          if (ac !== null) return { coef: b.coef * ac, align: b.align * Math.abs(ac) || 1 };
          return null;
        case 'div': case 'mod': {
          if (bc === null || bc <= 0 || b.coef !== 0 || a.coef < 0) return null;
          const span = 4 * a.coef; // lanes stay inside one block of bc when bc is a multiple of span
          if (e.k === 'div') {
            if (a.coef % bc === 0) return { coef: a.coef / bc, align: 1 };
            return bc % span === 0 && a.align % span === 0 ? { coef: 0, align: 1 } : null;
          }
          if (a.coef % bc === 0) return { coef: 0, align: 1 };
          return bc % span === 0 && a.align % span === 0 ? { coef: a.coef, align: span } : null;
        }
        default: return null;
      }
    }
  }
}

/** The dtype an expression produces. */
export function dtypeOf(f: Func, e: SExpr): DType {
  switch (e.k) {
    case 'load': return f.buf(e.buf).dtype;
    case 'const': case 'op': return e.dtype;
    case 'index': return 'i32';
    case 'random': return 'f32';
    case 'acc': case 'let': {
      const a = f.accs.get(e.name);
      if (!a) fail('K6001', `${f.name}: expression reads ${e.k === 'acc' ? 'accumulator' : 'binding'} '${e.name}', which is not defined at this point`);
      return a.dtype;
    }
  }
}

/** `lo <= e < hi` for every bound, as an i32 condition (one unsigned compare per bound). */
function guardCond(f: Func, g: readonly Bound[], lane: number): string {
  const tests = g.map((b) => `(i32.lt_u (i32.sub ${ix(f, b.e, lane)} ${i32c(b.lo)}) ${i32c(b.hi - b.lo)})`);
  return tests.reduce((acc, t) => `(i32.and ${acc} ${t})`);
}

function scalarLoad(f: Func, buf: string, at: IExpr, lane: number): string {
  const b = f.buf(buf);
  return `(${scalarType(b.dtype)}.load offset=${b.offset} (i32.shl ${ix(f, at, lane)} ${i32c(2)}))`;
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
  const addr = `(i32.shl ${ix(f, e.at)} ${i32c(2)})`;
  let load = `(${af.coef === 0 ? 'v128.load32_splat' : 'v128.load'} offset=${b.offset} ${addr})`;
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
    case 'load': return vector ? vectorLoad(f, e) : guardedScalarLoad(f, e, 0);
    case 'const': return vector ? vconst(e.dtype, e.v) : sconst(e.dtype, e.v);
    case 'index': return vector ? ivec(f, e.at) : ix(f, e.at);
    case 'acc': case 'let': {
      dtypeOf(f, e);
      const a = f.accs.get(e.name)!;
      if (vector === a.vector) return get(a.local);
      if (vector) return `(${lanes(a.dtype)}.splat ${get(a.local)})`;
      return fail('K6001', `${f.name}: scalar code reads the vector value '${e.name}'`);
    }
    case 'random': {
      const idx = vector ? ivec(f, e.index) : `(i32x4.splat ${ix(f, e.index)})`;
      const call = `(call $random_${e.dist} ${i32c(e.seed)} ${withMode(f, null, () => sx(f, e.counter))} ${idx})`;
      return vector ? call : `(f32x4.extract_lane 0 ${call})`;
    }
    case 'op': {
      const code = OP_CODE[e.op];
      if (!code) fail('K6001', `${e.op}: no WebAssembly lowering for op '${e.op}' (kernel ${f.name}); supported: ${Object.keys(OP_CODE).join(', ')}`);
      const types = e.args.map((a) => dtypeOf(f, a));
      const args = e.args.map((a) => sx(f, a));
      return code(f, args, types, e.dtype, e.attrs ?? {});
    }
  }
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

/** Stores a value (rendered in the current mode) at buf[at]; bool masks are stored as 0/1. */
export function store(f: Func, buf: string, at: IExpr, value: string): string {
  const b = f.buf(buf);
  const st = `${scalarType(b.dtype)}.store offset=${b.offset}`;
  const addr = (l: number): string => `(i32.shl ${ix(f, at, l)} ${i32c(2)})`;
  if (f.vec === null) return `(${st} ${addr(0)} ${value})`;
  const v = b.dtype === 'bool' ? `(v128.and ${value} ${vconst('i32', 1)})` : value;
  if (affine(at, f.vec)?.coef === 1) return `(v128.store offset=${b.offset} ${addr(0)} ${v})`;
  const t = f.tmp('v128');
  const parts = [set(t, v)];
  for (let l = 0; l < 4; l++) parts.push(`(${st} ${addr(l)} (${lanes(b.dtype)}.extract_lane ${l} ${get(t)}))`);
  return parts.join('\n');
}
