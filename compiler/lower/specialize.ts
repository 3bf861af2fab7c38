// A Kernel IR pass: a loop kernel whose loads are guarded by tests of one outer space variable alone
// (the concat of per-step slices that an unrolled recurrence's gradient builds: sum over t of
// (v1 == t ? step_t[...] : 0)) is marked to run one copy of its inner loops per value of that variable
// (LoopKernel.specialize), so targets fold its guards (ir/specialize.ts). The innermost variable,
// which targets vectorize, is never chosen.
import type { Kernel, LoopKernel, SExpr, UnplannedProgram } from '../../ir/kernel.ts';
import { indexVarsOf, loopExprs, visitSExpr } from '../../ir/kernel-walk.ts';

/** Specialize on a variable at most this long... */
const MAX_EXTENT = 64;
/** ...when at least this many guard bounds test it alone. */
const MIN_GUARDS = 4;

/** The space variable to specialize on, or undefined. */
export function guardVar(k: LoopKernel): number | undefined {
  const counts = new Map<number, number>();
  const count = (e: SExpr): void => {
    if (e.k !== 'load') return;
    for (const b of e.guard ?? []) {
      const vs = indexVarsOf(b.e);
      const [only] = vs;
      if (vs.size === 1 && only! < k.space.length - 1) counts.set(only!, (counts.get(only!) ?? 0) + 1);
    }
  };
  loopExprs(k).forEach((e) => visitSExpr(e, { sexpr: count }));
  let best: number | undefined;
  for (const [v, n] of counts) {
    if (n >= MIN_GUARDS && k.space[v]! <= MAX_EXTENT && (best === undefined || n > counts.get(best)!)) best = v;
  }
  return best;
}

function mark(k: Kernel): Kernel {
  if (k.kind !== 'loop') return k;
  const v = guardVar(k);
  return v === undefined ? k : { ...k, specialize: v };
}

/** Every loop kernel of the program with its specialization variable marked. */
export function specializeLoops(p: UnplannedProgram): UnplannedProgram {
  return { ...p, entries: p.entries.map((e) => ({ ...e, kernels: e.kernels.map(mark) })) };
}
