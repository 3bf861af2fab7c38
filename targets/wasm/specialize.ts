// Loop specialization, an IR-to-IR step of the loop renderer: a kernel whose loads are guarded by tests
// of one outer loop variable alone (the concat of per-step slices that an unrolled recurrence's
// gradient builds: sum over t of (v1 == t ? step_t[...] : 0)) runs one copy of its inner loops per
// value of that variable, with the variable a constant: the guards fold, the dead terms vanish.
import type { DType } from '../../ir/types.ts';
import type { Bound, IExpr, LoopKernel, SExpr } from '../../ir/kernel.ts';
import { foldIExprNode, ic } from '../../ir/iexpr.ts';
import { indexVarsOf, loopExprs, mapLoop, mapSExpr, visitSExpr } from '../../ir/kernel-walk.ts';

/** Unroll a variable at most this long... */
const MAX_EXTENT = 64;
/** ...when at least this many guard bounds test it alone. */
const MIN_GUARDS = 4;

/** The space variable to specialize on, or null. */
export function guardVar(k: LoopKernel, vecVar: number | null): number | null {
  const counts = new Map<number, number>();
  const count = (e: SExpr): void => {
    if (e.k !== 'load') return;
    for (const b of e.guard ?? []) {
      const vs = indexVarsOf(b.e);
      const [only] = vs;
      if (vs.size === 1 && only! < k.space.length && only !== vecVar) counts.set(only!, (counts.get(only!) ?? 0) + 1);
    }
  };
  loopExprs(k).forEach((e) => visitSExpr(e, { sexpr: count }));
  let best: number | null = null;
  for (const [v, n] of counts) {
    if (n >= MIN_GUARDS && k.space[v]! <= MAX_EXTENT && (best === null || n > counts.get(best)!)) best = v;
  }
  return best;
}

/** Every index of an expression with each variable i replaced by sub(i), folded. */
export function mapExprIndex(e: SExpr, sub: (i: number) => IExpr): SExpr {
  return mapSExpr(e, { iexpr: (x) => (x.k === 'var' ? sub(x.i) : foldIExprNode(x)) });
}

const isZero = (e: SExpr): boolean => e.k === 'const' && e.v === 0;

/** A node whose indices are folded: guards decided by constants are dropped (true) or replace the
 *  load by its `otherwise` (false); x + 0 and x - 0 become x. */
function foldNode(e: SExpr, dtypeOfBuf: (buf: string) => DType): SExpr {
  if (e.k === 'load') {
    const guard: Bound[] = [];
    for (const b of e.guard ?? []) {
      if (b.e.k !== 'int') guard.push(b);
      else if (b.e.v < b.lo || b.e.v >= b.hi) return { k: 'const', v: e.otherwise ?? 0, dtype: dtypeOfBuf(e.buf) };
    }
    return guard.length ? { ...e, guard } : { k: 'load', buf: e.buf, at: e.at };
  }
  if (e.k === 'op') {
    const [a, b] = e.args;
    if (e.op === 'add' && isZero(b!)) return a!;
    if (e.op === 'add' && isZero(a!)) return b!;
    if (e.op === 'sub' && isZero(b!)) return a!;
  }
  return e;
}

const fixVar = (v: number, c: number) => (x: IExpr): IExpr => (x.k === 'var' ? (x.i === v ? ic(c) : x) : foldIExprNode(x));

/** An expression with variable v set to c, folded (see foldNode). */
export function foldExpr(e: SExpr, v: number, c: number, dtypeOfBuf: (buf: string) => DType): SExpr {
  return foldVars(e, new Map([[v, c]]), dtypeOfBuf);
}

/** An expression with the given variables set to constants, folded (see foldNode). */
export function foldVars(e: SExpr, values: ReadonlyMap<number, number>, dtypeOfBuf: (buf: string) => DType): SExpr {
  const iexpr = (x: IExpr): IExpr => (x.k === 'var' ? (values.has(x.i) ? ic(values.get(x.i)!) : x) : foldIExprNode(x));
  return mapSExpr(e, { iexpr, sexpr: (x) => foldNode(x, dtypeOfBuf) });
}

/** The kernel with space variable v fixed to c. */
export function specialize(k: LoopKernel, v: number, c: number, dtypeOfBuf: (buf: string) => DType): LoopKernel {
  return mapLoop(k, { iexpr: fixVar(v, c), sexpr: (x) => foldNode(x, dtypeOfBuf) });
}
