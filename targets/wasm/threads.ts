// The threaded variant of the wasm program: the same kernels on an imported shared memory, run by
// `nt` threads at once (thread `tid` is the instance's imported globals), each kernel's outermost
// parallel loop split by `splitLoop` (its share of the steps: `share`), a barrier after every kernel;
// a kernel too small to pay for splitting runs alone on the first thread (consecutive ones under one
// barrier). A contraction's whole-operand packs are made once, each thread packing a share, behind a
// barrier (matmul.ts). Each output element is computed by one thread with exactly the code the
// single-threaded program runs for it (the split moves whole loop iterations, never a reduction), so
// results are bitwise equal for every thread count.
//
// Memory: the arena, then a control block (entry generation, entry id, barrier count and sense), the
// scratch the threads share, and one scratch region per thread. Contraction kernels are rendered
// against a scratch base of RELOC (and shared scratch at SHARED), and `relocate` rebases every decimal
// constant in those bands onto the thread's region ($scr) and the shared one (values, such as a dropout's
// random seed, are spelled in hex by wat.ts `i32v`, so that none of them is taken for an address).
import { fail } from '../../ir/errors.ts';
import type { Func } from './func.ts';
import { forLoop, get, i32c, minI32, set } from './wat.ts';

const TID = '(global.get $tid)';
const NT = '(global.get $nt)';

/** `[lo, hi)`, this thread's share of [0, n) in a threaded build, as i32 expressions, with the code
 *  setting them: n split into nt contiguous runs, run t of them going to thread t (floor(n t / nt) to
 *  floor(n (t + 1) / nt), in i64 so that no product overflows); n a constant or an i32 expression. The one place where a kernel's
 *  iteration space is divided among threads. */
export function share(f: Func, n: number | string, tag: string): { code: string; lo: string; hi: string } {
  const count = typeof n === 'number' ? i32c(n) : n;
  if (!f.threads) return { code: '', lo: i32c(0), hi: count };
  const lo = f.local(`sh_lo${tag}`, 'i32'),
    hi = f.local(`sh_hi${tag}`, 'i32');
  const total = typeof n === 'number' ? `(i64.const ${n})` : `(i64.extend_i32_u ${n})`;
  const start = (t: string): string =>
    `(i32.wrap_i64 (i64.div_u (i64.mul ${total} (i64.extend_i32_u ${t})) (i64.extend_i32_u ${NT})))`;
  return {
    code: `${set(lo, start(TID))}\n${set(hi, start(`(i32.add ${TID} (i32.const 1))`))}`,
    lo: get(lo),
    hi: get(hi),
  };
}

/** The loop `for (v = from; v < to; v += step)` (bounds known at compile time); when `split` and in a
 *  threaded build, over this thread's share of its steps only. */
export function splitLoop(
  f: Func,
  split: boolean,
  v: string,
  from: number,
  to: number,
  step: number,
  body: string,
  label: string,
): string {
  if (!f.threads || !split) return forLoop(v, from, to, step, body, label);
  if (to <= from) return '';
  const steps = share(f, Math.ceil((to - from) / step), label);
  const at = (s: string): string => `(i32.add ${i32c(from)} (i32.mul ${s} ${i32c(step)}))`;
  const end = f.local(`sh_end${label}`, 'i32');
  return `${steps.code}
${set(v, at(steps.lo))}
${set(end, minI32(i32c(to), at(steps.hi)))}
(block $B${label} (loop $L${label}
(br_if $B${label} (i32.ge_s ${get(v)} ${get(end)}))
${body}
${set(v, `(i32.add ${get(v)} ${i32c(step)})`)}
(br $L${label})))`;
}

/** A barrier: every thread waits there until all have arrived (nothing in a single-threaded build). Only
 *  in code that every thread runs equally often. */
export const barrier = (f: Func): string => (f.threads ? '(call $barrier)' : '');

/** Code only the first thread runs (a kernel that cannot be split: a scatter, a reduction to one value). */
export function firstThread(f: Func, code: string): string {
  return f.threads && code ? `(if (i32.eqz ${TID}) (then\n${code}))` : code;
}

/** Contraction kernels of a threaded build see their own scratch at RELOC, the shared scratch at SHARED. */
export const RELOC = 0x40000000;
export const SHARED = 0x60000000;
/** Decimal constants within this distance of RELOC or SHARED are scratch addresses; any other decimal
 *  constant (an arena address, an index) is below RELOC - BAND. */
const BAND = 0x10000000;
/** A threaded build exists when the arena and one thread's scratch are below these. */
export const MAX_THREADED_ARENA = RELOC - BAND;
export const MAX_THREAD_SCRATCH = BAND;

/** A kernel function rendered against scratch at RELOC and SHARED, its scratch addresses (decimal
 *  constants in the bands; values are hex, `i32v`) rebased onto $scr and the layout's shared region. */
export function relocate(func: string, layout: ThreadedLayout): string {
  if ([...func.matchAll(/offset=(\d+)/g)].some((m) => Number(m[1]) >= BAND))
    fail('K6001', 'wasm: a scratch address in a memory offset cannot be relocated (a kiln bug)');
  return func.replace(/\(i32\.const (-?\d+)\)/g, (c, n: string) => {
    const v = Number(n);
    if (Math.abs(v - RELOC) < BAND) return `(i32.add (global.get $scr) ${i32c(v - RELOC)})`;
    return Math.abs(v - SHARED) < BAND ? i32c(layout.shared + v - SHARED) : c;
  });
}

/** Layout of the control block (byte offsets from its start): 64 bytes apart so the words the barrier
 *  spins on do not share a cache line with the entry's start signal. */
const GEN = 0,
  ENTRY = 4,
  COUNT = 64,
  SENSE = 68;
export const CONTROL_BYTES = 128;
/** Spins on a barrier or a start signal before a thread blocks in memory.atomic.wait32 (about 50 to
 *  100 us): a kernel run alone, or a step's imbalance, is mostly shorter, and a blocked thread takes
 *  tens of microseconds to wake. */
const SPIN = 1 << 16;
/** A blocked thread wakes at least this often (ns): an engine ending a worker (Node at exit) interrupts
 *  wasm code between waits, never inside an unbounded one. */
const WAIT_NS = '(i64.const 20000000)';

export interface ThreadedLayout {
  /** Byte address of the control block (the arena's end, rounded to 64). */
  readonly control: number;
  /** The scratch the threads share. */
  readonly shared: number;
  /** Thread 0's scratch; thread t's is at scratch + t threadBytes. */
  readonly scratch: number;
  readonly threadBytes: number;
}

/** The module's imports, globals and thread functions: the barrier, the worker loop (exported
 *  `kiln_worker`: runs each entry the main thread starts until entry -1), each entry's export (sets its
 *  id, bumps the generation, wakes the workers, runs its kernels as thread 0), `kiln_stop` and
 *  `kiln_wake`. `kernels[e]` are entry
 *  e's kernel functions in order: each split across threads, or `alone` (run whole by the first thread:
 *  consecutive ones run one after another there, with one barrier after them all). A profiling build
 *  (`profile`) has the first thread call the imported `kiln.tick(id)` before each kernel (id: its index
 *  among all entries' kernels), so a kernel's time runs to the end of the barrier after it. */
export function threadedParts(
  layout: ThreadedLayout,
  minPages: number,
  entries: readonly { name: string; kernels: readonly { name: string; alone: boolean }[] }[],
  profile = false,
): { imports: string; funcs: string } {
  const c = layout.control;
  const at = (off: number): string => i32c(c + off);
  const scr = `(global.set $scr (i32.add ${i32c(layout.scratch)} (i32.mul ${TID} ${i32c(layout.threadBytes)})))`;
  const imports = `(import "env" "memory" (memory ${minPages} 65536 shared))
(import "kiln" "tid" (global $tid i32))
(import "kiln" "nt" (global $nt i32))
(import "kiln" "block" (global $block i32))${profile ? '\n(import "kiln" "tick" (func $tick (param i32)))' : ''}
(global $scr (mut i32) (i32.const 0))
(global $sense (mut i32) (i32.const 0))
(global (export "kiln_scratch") i32 ${i32c(layout.scratch)})
(global (export "kiln_thread_bytes") i32 ${i32c(layout.threadBytes)})`;
  // sense-reversing barrier: the last to arrive resets the count and flips the shared sense; the others
  // spin, then wait on it where the thread may block ($block: not a browser's main thread)
  const barrier = `(func $barrier (local $s i32) (local $n i32)
(global.set $sense (i32.eqz (global.get $sense)))
(local.set $s (global.get $sense))
(if (i32.eq (i32.atomic.rmw.add ${at(COUNT)} (i32.const 1)) (i32.sub ${NT} (i32.const 1)))
(then (i32.atomic.store ${at(COUNT)} (i32.const 0)) (i32.atomic.store ${at(SENSE)} (local.get $s))
(drop (memory.atomic.notify ${at(SENSE)} (i32.const -1))) (return)))
(local.set $n ${i32c(SPIN)})
(loop $Lspin
(if (i32.eq (i32.atomic.load ${at(SENSE)}) (local.get $s)) (then (return)))
(local.set $n (i32.sub (local.get $n) (i32.const 1)))
(br_if $Lspin (local.get $n)))
(loop $Lwait
(if (i32.eq (i32.atomic.load ${at(SENSE)}) (local.get $s)) (then (return)))
(if (global.get $block) (then (drop (memory.atomic.wait32 ${at(SENSE)} (i32.eqz (local.get $s)) ${WAIT_NS}))))
(br $Lwait)))`;
  let id = 0;
  const tick = (n: number, alone: boolean): string =>
    !profile ? '' : alone ? `(call $tick ${i32c(n)})\n` : `(if (i32.eqz ${TID}) (then (call $tick ${i32c(n)})))\n`;
  const runs = entries.map((e, i) => {
    const groups: { alone: boolean; calls: string[] }[] = [];
    for (const k of e.kernels) {
      const last = groups[groups.length - 1];
      const call = `${tick(id++, k.alone)}(call $${k.name})`;
      if (k.alone && last?.alone) last.calls.push(call);
      else groups.push({ alone: k.alone, calls: [call] });
    }
    const calls = groups.map((g) => {
      const code = g.calls.join('\n');
      return `${g.alone ? `(if (i32.eqz ${TID}) (then\n${code}))` : code}\n(call $barrier)`;
    });
    return `(func $run${i}\n${calls.join('\n')}\n${tick(-1, false)})`;
  });
  const exports = entries.map(
    (e, i) => `(func (export "${e.name}")
${scr}
(i32.atomic.store ${at(ENTRY)} ${i32c(i)})
(drop (i32.atomic.rmw.add ${at(GEN)} (i32.const 1)))
(drop (memory.atomic.notify ${at(GEN)} (i32.const -1)))
(call $run${i}))`,
  );
  // a worker runs each generation's entry; entry -1 ends it. Woken without a new generation (kiln_wake),
  // it spins again: an entry is about to start
  const dispatch = entries.reduce(
    (code, _e, i) => `${code}\n(if (i32.eq (local.get $e) ${i32c(i)}) (then (call $run${i})))`,
    '',
  );
  const worker = `(func (export "kiln_worker") (local $gen i32) (local $g i32) (local $e i32) (local $n i32)
${scr}
(loop $Lnext
(local.set $n ${i32c(SPIN)})
(loop $Lstart
(local.set $g (i32.atomic.load ${at(GEN)}))
(if (i32.eq (local.get $g) (local.get $gen)) (then
(local.set $n (i32.sub (local.get $n) (i32.const 1)))
(if (i32.le_s (local.get $n) (i32.const 0))
(then (if (i32.eqz (memory.atomic.wait32 ${at(GEN)} (local.get $gen) ${WAIT_NS})) (then (local.set $n ${i32c(SPIN)})))))
(br $Lstart))))
(local.set $gen (local.get $g))
(local.set $e (i32.atomic.load ${at(ENTRY)}))
(if (i32.lt_s (local.get $e) (i32.const 0)) (then (return)))
${dispatch}
(br $Lnext)))`;
  // ends the workers: entry -1, a new generation
  const stop = `(func (export "kiln_stop")
(i32.atomic.store ${at(ENTRY)} (i32.const -1))
(drop (i32.atomic.rmw.add ${at(GEN)} (i32.const 1)))
(drop (memory.atomic.notify ${at(GEN)} (i32.const -1))))`;
  // wakes blocked workers ahead of an entry (the runtime calls it before copying the inputs in): a core
  // that idled for a while takes up to hundreds of microseconds to come back
  const wake = `(func (export "kiln_wake") (drop (memory.atomic.notify ${at(GEN)} (i32.const -1))))`;
  return { imports, funcs: [barrier, ...runs, ...exports, worker, stop, wake].join('\n') };
}

const up64 = (n: number): number => Math.ceil(n / 64) * 64;

/** The threaded layout after an arena of `arenaBytes`, for kernels needing `scratchBytes` each of their
 *  own and `sharedBytes` shared; K6001 (never expected: renderWasm only asks within the limits) past them. */
export function threadedLayout(arenaBytes: number, scratchBytes: number, sharedBytes: number): ThreadedLayout {
  if (arenaBytes > MAX_THREADED_ARENA || Math.max(scratchBytes, sharedBytes) > MAX_THREAD_SCRATCH)
    fail('K6001', `wasm: no threaded build for an arena of ${arenaBytes} bytes and ${scratchBytes} of scratch`);
  const control = up64(arenaBytes),
    shared = control + CONTROL_BYTES;
  return { control, shared, scratch: shared + up64(sharedBytes), threadBytes: up64(scratchBytes) + 64 };
}
