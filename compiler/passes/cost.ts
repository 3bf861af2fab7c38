// A cost model: per kernel FLOPs, bytes read and written (each buffer touched counts once, whole:
// compulsory traffic), arithmetic intensity; per program: kernel count, arena size, bytes moved,
// and the bytes the unfused graph would move (every primitive op reading its inputs and writing
// its output).
import type { Graph } from '../../ir/graph.ts';
import type { Kernel, Program } from '../../ir/kernel.ts';
import { sizeOf } from '../../ir/types.ts';
import { buffersRead, buffersWritten, loopFlops, sexprOps } from '../../ir/kernel-walk.ts';
import { ELEMENT_BYTES } from './memory.ts';

export interface KernelCost {
  readonly name: string;
  readonly flops: number;
  readonly bytesRead: number;
  readonly bytesWritten: number;
  /** FLOPs per byte moved. */
  readonly intensity: number;
}

export interface ProgramStats {
  readonly ops: number;
  readonly kernels: number;
  readonly arenaBytes: number;
  readonly bytesMoved: number;
  readonly bytesMovedUnfused: number;
}

export function kernelCost(k: Kernel, sizeOfBuf: (b: string) => number): KernelCost {
  const bytesRead = [...buffersRead(k)].reduce((s, b) => s + sizeOfBuf(b) * ELEMENT_BYTES, 0);
  const bytesWritten = [...buffersWritten(k)].reduce((s, b) => s + sizeOfBuf(b) * ELEMENT_BYTES, 0);
  let flops: number;
  if (k.kind === 'loop') flops = loopFlops(k);
  else {
    const points = sizeOf(k.batch) * k.m * k.n;
    flops = points * (2 * k.k + sexprOps(k.epilogue));
  }
  const moved = bytesRead + bytesWritten;
  return { name: k.name, flops, bytesRead, bytesWritten, intensity: moved ? flops / moved : 0 };
}

export function programCosts(p: Program): KernelCost[] {
  const sizes = new Map(p.buffers.map((b) => [b.name, b.size]));
  return p.entries.flatMap((e) => e.kernels.map((k) => kernelCost(k, (b) => sizes.get(b) ?? 0)));
}

/** Bytes the graph moves when every primitive op is its own kernel (views and constants included). */
export function unfusedBytes(g: Graph): number {
  return g.nodes.reduce(
    (s, n) => s + (sizeOf(n.type.shape) + n.inputs.reduce((t, x) => t + sizeOf(x.type.shape), 0)) * ELEMENT_BYTES,
    0,
  );
}

/** `kiln inspect --stats`: the program's size against its (optimized) graphs. */
export function programStats(p: Program, graphs: readonly Graph[]): ProgramStats {
  const costs = programCosts(p);
  return {
    ops: graphs.reduce((s, g) => s + g.nodes.filter((n) => n.op !== 'constant').length, 0),
    kernels: costs.length,
    arenaBytes: p.memory.arenaBytes,
    bytesMoved: costs.reduce((s, c) => s + c.bytesRead + c.bytesWritten, 0),
    bytesMovedUnfused: graphs.reduce((s, g) => s + unfusedBytes(g), 0),
  };
}
