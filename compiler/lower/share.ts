// Sharing inside a loop kernel: a subexpression its stores repeat (an LSTM cell gradient's
// sigmoid of a gate, or tanh of the cell state, in several of the five gradients it feeds) becomes
// a binding computed once per point (LoopKernel.lets), read by name ({ k: 'let', name }).
// Equality is structural. Ops and random draws are shared; loads, constants, indices and
// accumulators are cheap and stay where they are. The largest shared subtrees are bound first and
// a part inside one is bound too when it is still used twice (once from the binding, once elsewhere).
// Bindings run before the stores, so a subtree reading a buffer the kernel stores is shared only
// when every store it occurs in runs before (or is) the first store to that buffer.
import type { Binding, LoopKernel, SExpr } from '../../ir/kernel.ts';
import { bufsRead } from '../../ir/kernel-walk.ts';

interface Entry {
  /** The first expression object spelling this subtree. */
  readonly expr: SExpr;
  readonly args: readonly number[];
  readonly size: number;
  /** Buffers its value depends on (through loads, index loads and guards). */
  readonly reads: ReadonlySet<string>;
  /** An op or a random draw: worth a binding. */
  readonly worth: boolean;
}

/** Interns subtrees by structure: equal subtrees get one id; ids are numbered children first. */
class Table {
  readonly entries: Entry[] = [];
  private readonly ids = new Map<string, number>();
  private readonly seen = new Map<SExpr, number>();

  intern(e: SExpr): number {
    const known = this.seen.get(e);
    if (known !== undefined) return known;
    // a random draw's counter is rendered apart from the point's mode: it stays inside the draw
    const args = e.k === 'op' ? e.args.map((a) => this.intern(a)) : [];
    const key =
      e.k === 'op' ? `${e.op}:${e.dtype}:${JSON.stringify(e.attrs ?? {})}(${args.join(',')})` : JSON.stringify(e);
    let id = this.ids.get(key);
    if (id === undefined) {
      const reads = new Set<string>();
      if (e.k === 'op') args.forEach((a) => this.entries[a]!.reads.forEach((b) => reads.add(b)));
      else bufsRead(e, reads);
      const size = 1 + args.reduce((s, a) => s + this.entries[a]!.size, 0);
      id = this.entries.push({ expr: e, args, size, reads, worth: e.k === 'op' || e.k === 'random' }) - 1;
      this.ids.set(key, id);
    }
    this.seen.set(e, id);
    return id;
  }
}

/** The kernel with the subexpressions its stores repeat bound once per point (unchanged when none). */
export function share(k: LoopKernel): LoopKernel {
  if (k.lets?.length || k.stores.some((s) => s.guard?.length)) return k; // a guarded store's value runs only where its guard holds
  const t = new Table();
  const roots = k.stores.map((s) => t.intern(s.value));
  const n = t.entries.length;
  // how often each subtree is evaluated per point, given the bindings chosen above it, and the last store it occurs in
  const uses = new Array<number>(n).fill(0);
  const lastStore = new Array<number>(n).fill(-1);
  roots.forEach((id, i) => {
    uses[id]!++;
    lastStore[id] = i;
  });
  const firstWrite = new Map<string, number>();
  k.stores.forEach((s, i) => {
    if (!firstWrite.has(s.buf)) firstWrite.set(s.buf, i);
  });
  const bound = new Array<boolean>(n).fill(false);
  // parents before children: a parent is larger than each of its parts
  const bySize = [...t.entries.keys()].sort((a, b) => t.entries[b]!.size - t.entries[a]!.size || b - a);
  for (const id of bySize) {
    const e = t.entries[id]!;
    const safe = [...e.reads].every((b) => (firstWrite.get(b) ?? Infinity) >= lastStore[id]!);
    bound[id] = e.worth && uses[id]! >= 2 && safe;
    for (const a of e.args) {
      uses[a]! += bound[id] ? 1 : uses[id]!;
      lastStore[a] = Math.max(lastStore[a]!, lastStore[id]!);
    }
  }
  const chosen = bySize.filter((id) => bound[id]).reverse();
  if (chosen.length === 0) return k;
  const names = new Map(chosen.map((id, i) => [id, `s${i}`]));
  const done = new Map<number, SExpr>();
  const rebuild = (id: number): SExpr => {
    const e = t.entries[id]!;
    return e.expr.k === 'op' ? { ...e.expr, args: e.args.map((a) => rewrite(a)) } : e.expr;
  };
  const rewrite = (id: number): SExpr => {
    let r = done.get(id);
    if (r === undefined) {
      const name = names.get(id);
      r = name !== undefined ? { k: 'let', name } : rebuild(id);
      done.set(id, r);
    }
    return r;
  };
  const lets: Binding[] = chosen.map((id) => {
    const e = t.entries[id]!.expr;
    return { name: names.get(id)!, value: rebuild(id), dtype: e.k === 'op' ? e.dtype : 'f32' };
  });
  return { ...k, lets, stores: k.stores.map((s, i) => ({ ...s, value: rewrite(roots[i]!) })) };
}
