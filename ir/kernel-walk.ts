// The one walker over Kernel IR expressions. Every pass and target that looks into expressions goes
// through these helpers, so they agree on what an expression reads: an SExpr's scalar loads, the
// index loads inside its indices (gather), the indices its guards test, a random draw's counter and
// index. `visit` sees every node (SExpr and IExpr) before its children; `map*` rebuild bottom-up
// (children first, then the node through the mapper); the collectors are folds over `visit`.
import type { IExpr, Kernel, LoopKernel, Operand, SExpr } from './kernel.ts';
import { sizeOf, type DType } from './types.ts';

export type LoadExpr = Extract<SExpr, { k: 'load' }>;

export interface Visitor {
  readonly sexpr?: (e: SExpr) => void;
  readonly iexpr?: (e: IExpr) => void;
}

export function visitIExpr(e: IExpr, v: Visitor): void {
  v.iexpr?.(e);
  if (e.k === 'load') visitIExpr(e.at, v);
  else if (e.k !== 'var' && e.k !== 'int') {
    visitIExpr(e.a, v);
    visitIExpr(e.b, v);
  }
}

/** Every node of `e`: its scalar subexpressions and every index expression inside them. */
export function visitSExpr(e: SExpr, v: Visitor): void {
  v.sexpr?.(e);
  switch (e.k) {
    case 'load':
      visitIExpr(e.at, v);
      e.guard?.forEach((g) => visitIExpr(g.e, v));
      break;
    case 'index':
      visitIExpr(e.at, v);
      break;
    case 'op':
      e.args.forEach((a) => visitSExpr(a, v));
      break;
    case 'random':
      visitSExpr(e.counter, v);
      visitIExpr(e.index, v);
      break;
    case 'reduce':
      visitSExpr(e.value, v);
      break;
    case 'const':
    case 'acc':
    case 'let':
      break;
  }
}

/** `e` rebuilt bottom-up: each node's children mapped, then the node through `f`. */
export function mapIExpr(e: IExpr, f: (e: IExpr) => IExpr): IExpr {
  switch (e.k) {
    case 'var':
    case 'int':
      return f(e);
    case 'load':
      return f({ ...e, at: mapIExpr(e.at, f) });
    default:
      return f({ k: e.k, a: mapIExpr(e.a, f), b: mapIExpr(e.b, f) });
  }
}

export interface Mapper {
  /** Applied to every index expression (bottom-up, through mapIExpr). */
  readonly iexpr?: (e: IExpr) => IExpr;
  /** Applied to every scalar node after its children (and indices) are mapped. */
  readonly sexpr?: (e: SExpr) => SExpr;
}

export function mapSExpr(e: SExpr, m: Mapper): SExpr {
  const ix = (x: IExpr): IExpr => (m.iexpr ? mapIExpr(x, m.iexpr) : x);
  let r: SExpr;
  switch (e.k) {
    case 'load':
      r = { ...e, at: ix(e.at), ...(e.guard ? { guard: e.guard.map((g) => ({ ...g, e: ix(g.e) })) } : {}) };
      break;
    case 'index':
      r = { ...e, at: ix(e.at) };
      break;
    case 'op':
      r = { ...e, args: e.args.map((a) => mapSExpr(a, m)) };
      break;
    case 'random':
      r = { ...e, counter: mapSExpr(e.counter, m), index: ix(e.index) };
      break;
    case 'reduce':
      r = { ...e, value: mapSExpr(e.value, m) };
      break;
    case 'const':
    case 'acc':
    case 'let':
      r = e;
      break;
  }
  return m.sexpr ? m.sexpr(r) : r;
}

/** A read of a buffer element: a scalar load (with its guard) or an index load (gather's indices). */
export interface Read {
  readonly buf: string;
  readonly at: IExpr;
  /** True for an i32 element read as an index. */
  readonly index: boolean;
}

const readsVisitor = (out: Read[]): Visitor => ({
  sexpr: (x) => {
    if (x.k === 'load') out.push({ buf: x.buf, at: x.at, index: false });
  },
  iexpr: (x) => {
    if (x.k === 'load') out.push({ buf: x.buf, at: x.at, index: true });
  },
});

/** Every buffer read in `e` (scalar loads, index loads in indices and guards), in visit order. */
export function readsOf(e: SExpr, out: Read[] = []): Read[] {
  visitSExpr(e, readsVisitor(out));
  return out;
}

/** Every index load in an index expression. */
export function indexReadsOf(e: IExpr, out: Read[] = []): Read[] {
  visitIExpr(e, readsVisitor(out));
  return out;
}

/** The buffers `e` reads (see readsOf), added to `out`. */
export function bufsRead(e: SExpr | undefined, out = new Set<string>()): Set<string> {
  if (e) for (const r of readsOf(e)) out.add(r.buf);
  return out;
}

const varsVisitor = (out: Set<number>): Visitor => ({
  iexpr: (x) => {
    if (x.k === 'var') out.add(x.i);
  },
});

/** The loop variables `e` reads. */
export function varsOf(e: SExpr, out = new Set<number>()): Set<number> {
  visitSExpr(e, varsVisitor(out));
  return out;
}

/** The loop variables an index expression reads. */
export function indexVarsOf(e: IExpr, out = new Set<number>()): Set<number> {
  visitIExpr(e, varsVisitor(out));
  return out;
}

/** The names `e` reads ({ k: 'let' } and { k: 'acc' } nodes), in visit order. */
export function namesRead(e: SExpr, kind: 'let' | 'acc'): string[] {
  const out: string[] = [];
  visitSExpr(e, {
    sexpr: (x) => {
      if (x.k === kind) out.push(x.name);
    },
  });
  return out;
}

/** Nodes of `e` satisfying `pred`, counted. */
export function countNodes(e: SExpr | undefined, pred: (x: SExpr) => boolean): number {
  let n = 0;
  if (e)
    visitSExpr(e, {
      sexpr: (x) => {
        if (pred(x)) n++;
      },
    });
  return n;
}

/** The scalar expressions of a loop kernel, in evaluation order: accumulators, bindings, stores. */
export function loopExprs(k: LoopKernel): SExpr[] {
  return [
    ...(k.reduce?.accs.map((a) => a.value) ?? []),
    ...(k.lets?.map((l) => l.value) ?? []),
    ...k.stores.map((s) => s.value),
  ];
}

/** The loop kernel with every expression (and every store's index) mapped. */
export function mapLoop(k: LoopKernel, m: Mapper): LoopKernel {
  const ix = (x: IExpr): IExpr => (m.iexpr ? mapIExpr(x, m.iexpr) : x);
  return {
    ...k,
    ...(k.reduce
      ? { reduce: { ...k.reduce, accs: k.reduce.accs.map((a) => ({ ...a, value: mapSExpr(a.value, m) })) } }
      : {}),
    ...(k.lets ? { lets: k.lets.map((l) => ({ ...l, value: mapSExpr(l.value, m) })) } : {}),
    stores: k.stores.map((s) => ({
      ...s,
      at: ix(s.at),
      value: mapSExpr(s.value, m),
      ...(s.guard ? { guard: s.guard.map((g) => ({ ...g, e: ix(g.e) })) } : {}),
    })),
  };
}

/** A contraction operand's element as the guarded load it is. */
export function operandLoad(o: Operand): LoadExpr {
  return o.guard ? { k: 'load', buf: o.buf, at: o.at, guard: o.guard } : { k: 'load', buf: o.buf, at: o.at };
}

/** Buffers a kernel reads (through every expression and every store's index). */
export function buffersRead(k: Kernel): Set<string> {
  const out = new Set<string>();
  if (k.kind === 'loop') {
    loopExprs(k).forEach((e) => bufsRead(e, out));
    k.stores.forEach((s) =>
      [s.at, ...(s.guard ?? []).map((g) => g.e)].forEach((x) => indexReadsOf(x).forEach((r) => out.add(r.buf))),
    );
  } else {
    for (const o of [k.a, k.b]) bufsRead(operandLoad(o), out);
    bufsRead(k.epilogue, out);
  }
  return out;
}

/** Buffers a kernel writes. */
export function buffersWritten(k: Kernel): Set<string> {
  return new Set(k.kind === 'loop' ? k.stores.map((s) => s.buf) : [k.out]);
}

/** The dtype of a scalar expression's value: a load has its buffer's, an accumulator or binding
 *  the one `named` gives (each target keeps its own table of the names in scope). */
export function sexprDtype(
  e: SExpr,
  bufDtype: (buf: string) => DType,
  named: (name: string, k: 'acc' | 'let') => DType,
): DType {
  switch (e.k) {
    case 'load':
      return bufDtype(e.buf);
    case 'const':
    case 'op':
    case 'reduce':
      return e.dtype;
    case 'index':
      return 'i32';
    case 'random':
      return 'f32';
    case 'acc':
    case 'let':
      return named(e.name, e.k);
  }
}

/** Arithmetic ops and random draws in an expression (an inner reduction's, once per point it reduces). */
export function sexprOps(e: SExpr | undefined): number {
  let n = countNodes(e, (x) => x.k === 'op' || x.k === 'random');
  if (e)
    visitSExpr(e, {
      sexpr: (x) => {
        if (x.k === 'reduce') n += sizeOf(x.extents) * (1 + sexprOps(x.value)) - sexprOps(x.value);
      },
    });
  return n;
}

/** A loop kernel's FLOPs (cost model, compiler/passes/cost.ts). */
export function loopFlops(k: LoopKernel): number {
  const inner = k.reduce ? sizeOf(k.reduce.extents) : 1;
  return (
    sizeOf(k.space) *
    (inner * (k.reduce?.accs.reduce((s, a) => s + 1 + sexprOps(a.value), 0) ?? 0) +
      [...(k.lets ?? []), ...k.stores].reduce((s, st) => s + sexprOps(st.value), 0))
  );
}

/** A loop kernel's work: its FLOPs and one per element stored (a copy works too). */
export const loopWork = (k: LoopKernel): number => loopFlops(k) + sizeOf(k.space) * k.stores.length;
