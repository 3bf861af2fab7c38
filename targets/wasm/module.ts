// A Program -> one WebAssembly module: the arena is its exported linear memory (plus a scratch
// region for packed contraction panels after the memory plan's bytes), kernels are internal functions,
// each entry point is an exported function calling its kernels in order.
import { fail } from '../../ir/errors.ts';
import type { Kernel, Program } from '../../ir/kernel.ts';
import { loopWork } from '../../ir/kernel-walk.ts';
import type { BufInfo } from './func.ts';
import { renderLoop, splitVar } from './loop.ts';
import { mathFunctions } from './math.ts';
import { contractionScratchBytes, renderContraction } from './matmul.ts';
import { RELOC, relocate, threadedLayout, threadedParts, type ThreadedLayout } from './threads.ts';
import { i32c } from './wat.ts';

export interface RenderOptions {
  /** Use relaxed SIMD (f32x4.relaxed_madd) in micro-kernels and polynomials. */
  readonly relaxed?: boolean;
  /** Profiling build: import `kiln.tick(id)` and call it before each kernel (id = its index in
   *  `kernelNames(p).flat()`) and with -1 after an entry's last kernel. Never in shipped artifacts. */
  readonly profile?: boolean;
  /** Lines written as `;;` comments before each kernel's function (`kiln inspect`: its IR values and source lines). */
  readonly comments?: (k: Kernel) => string | undefined;
  /** The threaded variant (threads.ts): an imported shared memory, each kernel split across threads. */
  readonly threads?: boolean;
}

const commentOf = (k: Kernel, opts: RenderOptions): string =>
  opts.comments?.(k)?.replace(/^/gm, ';; ').concat('\n') ?? '';

const PAGE = 65536;

function buffersOf(p: Program): Map<string, BufInfo> {
  const m = new Map<string, BufInfo>();
  for (const b of p.buffers) {
    const offset = p.memory.offsets[b.name];
    if (offset === undefined) fail('K6001', `program @${p.name}: buffer '${b.name}' has no offset in the memory plan`);
    m.set(b.name, { offset, dtype: b.dtype, size: b.size });
  }
  return m;
}

/** Below this much work (multiply-adds of a contraction; FLOPs and stores of a loop, `loopWork`)
 *  a kernel is not worth splitting: a share would take about as long as the barriers and cache misses
 *  of splitting it. */
const SPLIT_MADDS = 1 << 16,
  SPLIT_WORK = 1 << 14;

/** A threaded build runs this kernel whole on the first thread (one that cannot be split, or too small). */
export function runsAlone(k: Kernel): boolean {
  const size = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);
  if (k.kind === 'contraction') return size(k.batch) * k.m * k.n * k.k < SPLIT_MADDS;
  return splitVar(k) === null || loopWork(k) < SPLIT_WORK;
}

/** A kernel's function; in a threaded build, its split form (or, run alone, the one-thread form on thread 0's
 *  scratch: threadedParts runs it on the first thread). */
function renderKernel(
  k: Kernel,
  name: string,
  bufs: Map<string, BufInfo>,
  scratch: number,
  relaxed: boolean,
  threads?: ThreadedLayout,
): string {
  const split = threads !== undefined && !runsAlone(k);
  switch (k.kind) {
    case 'loop':
      return renderLoop(k, name, bufs, relaxed, split);
    case 'contraction':
      return threads
        ? relocate(renderContraction(k, name, bufs, RELOC, relaxed, split), threads)
        : renderContraction(k, name, bufs, scratch, relaxed);
  }
}

/** wasm32 addresses 4 GiB: 65536 pages of 64 KiB. */
export const MAX_MEMORY_BYTES = 65536 * PAGE;

/** K6002 when the program's arena and kernel scratch would not fit wasm32's memory, naming the largest buffers. */
function checkMemory(p: Program, total: number): void {
  if (total <= MAX_MEMORY_BYTES) return;
  const gib = (b: number): string => `${(b / 2 ** 30).toFixed(2)} GiB`;
  const largest = p.buffers
    .map((b) => [b.name, b.size * (b.dtype === 'bool' ? 1 : 4)] as const)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([name, bytes]) => `${name} ${gib(bytes)}`);
  fail(
    'K6002',
    `wasm: program @${p.name} needs ${gib(total)} of memory (arena ${gib(p.memory.arenaBytes)}), more than wasm32's 4 GiB${largest.length ? `; the largest buffers: ${largest.join(', ')}` : ''}; reduce the batch size or the layer sizes`,
  );
}

/** Each entry's kernel function names, in call order. */
export function kernelNames(p: Program): string[][] {
  return p.entries.map((e, ei) => e.kernels.map((k, ki) => `e${ei}_k${ki}_${k.name.replace(/[^A-Za-z0-9_]/g, '_')}`));
}

/** One kernel's function as programWat writes it (its comment lines first). */
export function kernelWat(p: Program, kernel: string, opts: RenderOptions = {}): string {
  const ei = p.entries.findIndex((e) => e.kernels.some((k) => k.name === kernel));
  if (ei < 0) fail('K6001', `program @${p.name} has no kernel '${kernel}'`);
  const ki = p.entries[ei]!.kernels.findIndex((k) => k.name === kernel);
  const k = p.entries[ei]!.kernels[ki]!;
  const scratch = Math.ceil(p.memory.arenaBytes / 64) * 64;
  return commentOf(k, opts) + renderKernel(k, kernelNames(p)[ei]![ki]!, buffersOf(p), scratch, opts.relaxed ?? false);
}

/** The scratch bytes of the program's largest kernel: all of it (one thread), or in a threaded build the
 *  region its threads share or each thread's own. */
export function programScratchBytes(p: Program, part: 'all' | 'shared' | 'own' = 'all'): number {
  const bufs = buffersOf(p);
  const bytes = (k: Kernel): number => {
    if (k.kind !== 'contraction') return 0;
    // a kernel run alone keeps all its scratch on thread 0's own
    if (part !== 'all' && runsAlone(k)) return part === 'own' ? contractionScratchBytes(k, bufs) : 0;
    return contractionScratchBytes(k, bufs, part);
  };
  return Math.max(0, ...p.entries.flatMap((e) => e.kernels).map(bytes));
}

/** The module's text. */
export function programWat(p: Program, opts: RenderOptions = {}): string {
  if (opts.threads) return threadedWat(p, opts);
  const relaxed = opts.relaxed ?? false;
  const bufs = buffersOf(p);
  const scratch = Math.ceil(p.memory.arenaBytes / 64) * 64;
  const total = scratch + programScratchBytes(p);
  checkMemory(p, total);
  const funcs: string[] = [];
  const entries: string[] = [];
  const allNames = kernelNames(p);
  let id = 0;
  const tick = (n: number): string => (opts.profile ? `(call $tick ${i32c(n)})\n` : '');
  p.entries.forEach((e, ei) => {
    const names = allNames[ei]!;
    e.kernels.forEach((k, ki) => funcs.push(commentOf(k, opts) + renderKernel(k, names[ki]!, bufs, scratch, relaxed)));
    const calls = names.map((n) => `${tick(id++)}(call $${n})`).join('\n');
    entries.push(`(func (export "${e.name}")\n${calls}\n${tick(-1)})`);
  });
  return `(module
${opts.profile ? '(import "kiln" "tick" (func $tick (param i32)))' : ''}
(memory (export "memory") ${Math.max(1, Math.ceil(total / PAGE))})
${mathFunctions(relaxed)}
${funcs.join('\n')}
${entries.join('\n')})`;
}

/** The threaded module's text: the same kernels, split (threads.ts), on an imported shared memory. */
function threadedWat(p: Program, opts: RenderOptions): string {
  const relaxed = opts.relaxed ?? false;
  const bufs = buffersOf(p);
  const layout = threadedLayout(p.memory.arenaBytes, programScratchBytes(p, 'own'), programScratchBytes(p, 'shared'));
  const names = kernelNames(p);
  const funcs = p.entries.flatMap((e, ei) =>
    e.kernels.map((k, ki) => commentOf(k, opts) + renderKernel(k, names[ei]![ki]!, bufs, 0, relaxed, layout)),
  );
  const parts = threadedParts(
    layout,
    threadedMinPages(p.memory.arenaBytes),
    p.entries.map((e, ei) => ({
      name: e.name,
      kernels: e.kernels.map((k, ki) => ({ name: names[ei]![ki]!, alone: runsAlone(k) })),
    })),
    opts.profile,
  );
  return `(module
${parts.imports}
${mathFunctions(relaxed)}
${funcs.join('\n')}
${parts.funcs})`;
}

/** The threaded module's memory import asks for the arena's pages (the runtime creates that memory, then
 *  grows it by the control block and each thread's scratch). */
export const threadedMinPages = (arenaBytes: number): number => Math.max(1, Math.ceil(arenaBytes / PAGE));
