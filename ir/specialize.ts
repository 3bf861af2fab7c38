// Kernel IR with loop variables fixed to constants, folded: guards decided by the constants drop out
// or replace their load, dead terms vanish. Targets use it to run a specialized copy of a kernel's
// inner loops per value of its `specialize` variable (compiler/lower/specialize.ts picks it) and to
// unroll small reductions.
import type { DType } from './types.ts';
import type { Bound, IExpr, LoopKernel, SExpr } from './kernel.ts';
import { foldIExprNode, ic } from './iexpr.ts';
import { mapLoop, mapSExpr } from './kernel-walk.ts';

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

const fixVar =
  (v: number, c: number) =>
  (x: IExpr): IExpr =>
    x.k === 'var' ? (x.i === v ? ic(c) : x) : foldIExprNode(x);

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
