// Loop specialization, an IR-to-IR step of the loop renderer: a kernel whose loads are guarded by tests
// of one outer loop variable alone (the concat of per-step slices that an unrolled recurrence's
// gradient builds: sum over t of (v1 == t ? step_t[...] : 0)) runs one copy of its inner loops per
// value of that variable, with the variable a constant: the guards fold, the dead terms vanish.
import type { DType } from '../../ir/types.ts';
import type { Bound, IExpr, LoopKernel, SExpr } from '../../ir/kernel.ts';

/** Unroll a variable at most this long... */
const MAX_EXTENT = 64;
/** ...when at least this many guard bounds test it alone. */
const MIN_GUARDS = 4;

function varsOf(e: IExpr, out: Set<number>): Set<number> {
  if (e.k === 'var') out.add(e.i);
  else if (e.k === 'load') varsOf(e.at, out);
  else if (e.k !== 'int') { varsOf(e.a, out); varsOf(e.b, out); }
  return out;
}

function exprsOf(k: LoopKernel): SExpr[] {
  return [...(k.reduce?.accs.map((a) => a.value) ?? []), ...(k.lets?.map((l) => l.value) ?? []), ...k.stores.map((s) => s.value)];
}

/** The space variable to specialize on, or null. */
export function guardVar(k: LoopKernel, vecVar: number | null): number | null {
  const counts = new Map<number, number>();
  const visit = (e: SExpr): void => {
    if (e.k === 'op') e.args.forEach(visit);
    else if (e.k === 'random') visit(e.counter);
    else if (e.k === 'load') {
      for (const b of e.guard ?? []) {
        const vs = varsOf(b.e, new Set());
        const [only] = vs;
        if (vs.size === 1 && only! < k.space.length && only !== vecVar) counts.set(only!, (counts.get(only!) ?? 0) + 1);
      }
    }
  };
  exprsOf(k).forEach(visit);
  let best: number | null = null;
  for (const [v, n] of counts) {
    if (n >= MIN_GUARDS && k.space[v]! <= MAX_EXTENT && (best === null || n > counts.get(best)!)) best = v;
  }
  return best;
}

const floorDiv = (a: number, b: number): number => Math.floor(a / b);
const floorMod = (a: number, b: number): number => a - Math.floor(a / b) * b;
const IFOLD = { add: (a: number, b: number) => a + b, sub: (a: number, b: number) => a - b, mul: (a: number, b: number) => a * b, div: floorDiv, mod: floorMod, min: Math.min, max: Math.max } as const;

/** e with each variable i replaced by sub(i), constant subexpressions folded. */
export function mapIndex(e: IExpr, sub: (i: number) => IExpr): IExpr {
  switch (e.k) {
    case 'var': return sub(e.i);
    case 'int': return e;
    case 'load': return { ...e, at: mapIndex(e.at, sub) };
    default: {
      const a = mapIndex(e.a, sub), b = mapIndex(e.b, sub);
      if (a.k === 'int' && b.k === 'int' && !((e.k === 'div' || e.k === 'mod') && b.v === 0)) return { k: 'int', v: IFOLD[e.k](a.v, b.v) };
      return { k: e.k, a, b };
    }
  }
}

/** Every index of an expression through mapIndex. */
export function mapExprIndex(e: SExpr, sub: (i: number) => IExpr): SExpr {
  switch (e.k) {
    case 'load': return { ...e, at: mapIndex(e.at, sub), ...(e.guard ? { guard: e.guard.map((b) => ({ ...b, e: mapIndex(b.e, sub) })) } : {}) };
    case 'index': return { ...e, at: mapIndex(e.at, sub) };
    case 'random': return { ...e, counter: mapExprIndex(e.counter, sub), index: mapIndex(e.index, sub) };
    case 'op': return { ...e, args: e.args.map((a) => mapExprIndex(a, sub)) };
    default: return e;
  }
}

/** e with variable v set to c, constant subexpressions folded. */
export function foldIndex(e: IExpr, v: number, c: number): IExpr {
  return mapIndex(e, (i) => (i === v ? { k: 'int', v: c } : { k: 'var', i }));
}

const isZero = (e: SExpr): boolean => e.k === 'const' && e.v === 0;

/** An expression with variable v set to c: guards decided by constants are dropped (true) or replace the
 *  load by its `otherwise` (false); x + 0 and x - 0 become x. */
export function foldExpr(e: SExpr, v: number, c: number, dtypeOfBuf: (buf: string) => DType): SExpr {
  switch (e.k) {
    case 'load': {
      const at = foldIndex(e.at, v, c);
      const guard: Bound[] = [];
      for (const b of e.guard ?? []) {
        const g = foldIndex(b.e, v, c);
        if (g.k !== 'int') guard.push({ ...b, e: g });
        else if (g.v < b.lo || g.v >= b.hi) return { k: 'const', v: e.otherwise ?? 0, dtype: dtypeOfBuf(e.buf) };
      }
      return guard.length ? { ...e, at, guard } : { k: 'load', buf: e.buf, at };
    }
    case 'index': return { ...e, at: foldIndex(e.at, v, c) };
    case 'random': return { ...e, counter: foldExpr(e.counter, v, c, dtypeOfBuf), index: foldIndex(e.index, v, c) };
    case 'op': {
      const args = e.args.map((a) => foldExpr(a, v, c, dtypeOfBuf));
      if (e.op === 'add' && isZero(args[1]!)) return args[0]!;
      if (e.op === 'add' && isZero(args[0]!)) return args[1]!;
      if (e.op === 'sub' && isZero(args[1]!)) return args[0]!;
      return { ...e, args };
    }
    default: return e;
  }
}

/** The kernel with space variable v fixed to c. */
export function specialize(k: LoopKernel, v: number, c: number, dtypeOfBuf: (buf: string) => DType): LoopKernel {
  const fe = (e: SExpr): SExpr => foldExpr(e, v, c, dtypeOfBuf);
  return {
    ...k,
    ...(k.reduce ? { reduce: { ...k.reduce, accs: k.reduce.accs.map((a) => ({ ...a, value: fe(a.value) })) } } : {}),
    ...(k.lets ? { lets: k.lets.map((l) => ({ ...l, value: fe(l.value) })) } : {}),
    stores: k.stores.map((s) => ({ buf: s.buf, at: foldIndex(s.at, v, c), value: fe(s.value) })),
  };
}
