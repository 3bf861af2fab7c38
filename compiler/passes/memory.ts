// Memory planning: every buffer gets a compile-time byte offset in one arena, 16-byte aligned.
// Params (weights, optimizer slots, counters, constant tables) come first and are never reused.
// Each entry point then lays out its inputs, outputs and temps from the same base (entries never
// run at once): inputs and outputs live for the whole call, a temp from the first kernel that
// touches it to the last, and temps whose lifetimes do not overlap share bytes.
import type { MemoryPlan, UnplannedProgram } from '../../ir/kernel.ts';
import { buffersRead, buffersWritten } from '../../ir/kernel-walk.ts';

export const ALIGN = 16;
export const ELEMENT_BYTES = 4;

const align = (n: number): number => Math.ceil(n / ALIGN) * ALIGN;

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

export function planMemory(p: UnplannedProgram): MemoryPlan {
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
    const items = [...life]
      .filter(([name]) => !(name in offsets) || p.buffers.find((b) => b.name === name)?.role !== 'param')
      .map(([name, [from, to]]) => ({ name, bytes: bytes.get(name)!, from, to }));
    const laid = place(items, base);
    Object.assign(offsets, laid.offsets);
    arena = Math.max(arena, laid.end);
  }
  for (const b of p.buffers) if (!(b.name in offsets)) offsets[b.name] = base; // declared but unused
  return { arenaBytes: align(arena), offsets };
}
