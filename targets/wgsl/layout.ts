// The memory plan's arena on WebGPU: a few large GPUBuffers ("chunks"), each at most the
// device's maxStorageBufferBindingSize, so a kernel binds one chunk (rarely two) whatever the
// number of its operands. Buffers go in whole, in arena order; a buffer whose bytes the plan
// shares with another (lifetimes that do not overlap) may land in a different chunk than it,
// which only gives up that reuse.
import { fail } from '../../ir/errors.ts';
import type { Program } from '../../ir/kernel.ts';

/** Where a buffer lives: its chunk and byte offset in it. */
export interface Place {
  readonly chunk: number;
  readonly offset: number;
}

export interface ArenaLayout {
  /** Byte size of each chunk (a multiple of 16). */
  readonly chunks: readonly number[];
  readonly places: Readonly<Record<string, Place>>;
}

/** WebGPU's default maxStorageBufferBindingSize (every device has at least this much). */
export const DEFAULT_MAX_BINDING = 128 * 1024 * 1024;

const align16 = (n: number): number => Math.ceil(n / 16) * 16;

export function layoutArena(p: Program, maxBinding = DEFAULT_MAX_BINDING): ArenaLayout {
  const bufs = p.buffers
    .map((b) => ({
      name: b.name,
      offset: p.memory.offsets[b.name] ?? fail('K6001', `wgsl: buffer '${b.name}' has no offset in the memory plan`),
      bytes: align16(Math.max(1, b.size) * 4),
    }))
    .sort((a, b) => a.offset - b.offset);
  const chunks: { start: number; end: number }[] = [];
  const places: Record<string, Place> = {};
  for (const b of bufs) {
    if (b.bytes > maxBinding)
      fail(
        'K6001',
        `wgsl: buffer '${b.name}' (${b.bytes} bytes) is larger than a storage binding may be (${maxBinding} bytes); use a smaller batch`,
      );
    let c = chunks[chunks.length - 1];
    if (!c || b.offset + b.bytes - c.start > maxBinding) chunks.push((c = { start: b.offset, end: b.offset }));
    c.end = Math.max(c.end, b.offset + b.bytes);
    places[b.name] = { chunk: chunks.length - 1, offset: b.offset - c.start };
  }
  return { chunks: chunks.length ? chunks.map((c) => align16(Math.max(16, c.end - c.start))) : [16], places };
}
