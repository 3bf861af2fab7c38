// Memory planning: every buffer gets a compile-time byte offset in one arena, 16-byte aligned.
// Params (weights, optimizer slots, counters, constant tables) come first and are never reused.
// Each entry point then lays out its inputs, outputs and temps from the same base (entries never
// run at once): inputs and outputs live for the whole call, a temp from the first kernel that
// touches it to the last, and temps whose lifetimes do not overlap share bytes.
import type { IExpr, Kernel, MemoryPlan, Program, SExpr } from '../../ir/kernel.ts';

export const ALIGN = 16;
export const ELEMENT_BYTES = 4;

const align = (n: number): number => Math.ceil(n / ALIGN) * ALIGN;

function iexprBufs(e: IExpr, out: Set<string>): void {
  if (e.k === 'load') {
    out.add(e.buf);
    iexprBufs(e.at, out);
  } else if (e.k !== 'var' && e.k !== 'int') {
    iexprBufs(e.a, out);
    iexprBufs(e.b, out);
  }
}

/** Adds to `out` every buffer a scalar expression reads (loads, index loads, guards, random indices). */
export function sexprBufs(e: SExpr | undefined, out: Set<string>): void {
  if (!e) return;
  switch (e.k) {
    case 'load': out.add(e.buf); iexprBufs(e.at, out); e.guard?.forEach((g) => iexprBufs(g.e, out)); break;
    case 'index': iexprBufs(e.at, out); break;
    case 'op': e.args.forEach((a) => sexprBufs(a, out)); break;
    case 'random': sexprBufs(e.counter, out); iexprBufs(e.index, out); break;
  }
}

/** Buffers a kernel reads. */
export function buffersRead(k: Kernel): Set<string> {
  const out = new Set<string>();
  if (k.kind === 'loop') {
    k.reduce?.accs.forEach((a) => sexprBufs(a.value, out));
    k.lets?.forEach((l) => sexprBufs(l.value, out));
    k.stores.forEach((s) => { sexprBufs(s.value, out); iexprBufs(s.at, out); });
  } else if (k.kind === 'matmul') {
    out.add(k.a.buf).add(k.b.buf);
    sexprBufs(k.epilogue, out);
  } else {
    k.inputs.forEach((b) => out.add(b));
    sexprBufs(k.epilogue, out);
  }
  return out;
}

/** Buffers a kernel writes. */
export function buffersWritten(k: Kernel): Set<string> {
  return new Set(k.kind === 'loop' ? k.stores.map((s) => s.buf) : [k.out]);
}

interface Interval {
  readonly name: string;
  readonly bytes: number;
  readonly from: number;
  readonly to: number;
}

/** First-fit by decreasing size: the lowest offset not overlapping a placed buffer alive at the same time. */
function place(items: readonly Interval[], base: number): { offsets: Record<string, number>; end: number } {
  const placed: (Interval & { offset: number })[] = [];
  const offsets: Record<string, number> = {};
  let end = base;
  for (const it of [...items].sort((a, b) => b.bytes - a.bytes || a.from - b.from)) {
    const clashes = placed.filter((p) => p.from <= it.to && it.from <= p.to).sort((a, b) => a.offset - b.offset);
    let offset = base;
    for (const p of clashes) {
      if (offset + it.bytes <= p.offset) break;
      offset = Math.max(offset, align(p.offset + p.bytes));
    }
    placed.push({ ...it, offset });
    offsets[it.name] = offset;
    end = Math.max(end, offset + it.bytes);
  }
  return { offsets, end };
}

export function planMemory(p: Omit<Program, 'memory'>): MemoryPlan {
  const bytes = new Map(p.buffers.map((b) => [b.name, align(Math.max(1, b.size) * ELEMENT_BYTES)]));
  const offsets: Record<string, number> = {};
  let base = 0;
  for (const b of p.buffers) {
    if (b.role !== 'param') continue;
    offsets[b.name] = base;
    base += bytes.get(b.name)!;
  }
  let arena = base;
  for (const e of p.entries) {
    const last = e.kernels.length;
    const life = new Map<string, [number, number]>();
    for (const io of [...e.inputs, ...e.outputs]) life.set(io.buf, [-1, last]);
    e.kernels.forEach((k, i) => {
      for (const b of [...buffersRead(k), ...buffersWritten(k)]) {
        if (b in offsets && !life.has(b)) continue; // params
        const l = life.get(b);
        life.set(b, l ? [Math.min(l[0], i), Math.max(l[1], i)] : [i, i]);
      }
    });
    const items = [...life].filter(([name]) => !(name in offsets) || p.buffers.find((b) => b.name === name)?.role !== 'param')
      .map(([name, [from, to]]) => ({ name, bytes: bytes.get(name)!, from, to }));
    const laid = place(items, base);
    Object.assign(offsets, laid.offsets);
    arena = Math.max(arena, laid.end);
  }
  for (const b of p.buffers) if (!(b.name in offsets)) offsets[b.name] = base; // declared but unused
  return { arenaBytes: align(arena), offsets };
}
