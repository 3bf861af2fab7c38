// The WebAssembly SIMD target: Kernel IR -> WAT -> binary (wabt), plain SIMD and relaxed SIMD.
import { fail } from '../../ir/errors.ts';
import type { Kernel, Program } from '../../ir/kernel.ts';
import type { ElementwiseOpName, OpName } from '../../ir/ops/index.ts';
import { DEFAULT_LIMITS, type Target } from '../../ir/target.ts';
import { kernelNames, kernelWat, programScratchBytes, programWat, runsAlone, type RenderOptions } from './module.ts';
import { MAX_THREAD_SCRATCH, MAX_THREADED_ARENA } from './threads.ts';
import { OP_CODE } from './ops.ts';
import wabtInit from 'wabt';

export type { RenderOptions };
export { kernelNames, kernelWat, programWat, runsAlone };

/** How each op that is not elementwise lowers (elementwise ops: OP_CODE of ops.ts); typed so that an op
 *  added to the registry without a lowering here is a compile error. */
const LOWERING = {
  sum: 'loop',
  mean: 'loop',
  max: 'loop',
  min: 'loop',
  argmax: 'loop',
  reshape: 'loop',
  transpose: 'loop',
  broadcast_to: 'loop',
  slice: 'loop',
  pad: 'loop',
  concat: 'loop',
  gather: 'loop',
  scatter_add: 'loop',
  one_hot: 'loop',
  constant: 'loop',
  iota: 'loop',
  random_uniform: 'loop',
  random_normal: 'loop',
  max_pool2d: 'loop',
  avg_pool2d: 'loop',
  max_pool2d_grad: 'loop',
  avg_pool2d_grad: 'loop',
  matmul: 'contraction',
  conv2d: 'contraction',
  conv2d_input_grad: 'contraction',
  conv2d_filter_grad: 'contraction',
} as const satisfies Record<Exclude<OpName, ElementwiseOpName>, Kernel['kind']>;

/** The ops with a wasm lowering. */
export function supportedOps(): Set<OpName> {
  return new Set([...Object.keys(OP_CODE), ...Object.keys(LOWERING)] as OpName[]);
}

let wabt: ReturnType<typeof wabtInit> | undefined;

/** WAT text -> binary; a wabt error means a renderer bug, reported with the offending line. */
export async function assemble(wat: string, relaxed: boolean, threads = false): Promise<Uint8Array> {
  const w = await (wabt ??= wabtInit());
  let mod;
  try {
    const features = { simd: true, relaxed_simd: relaxed, sat_float_to_int: true, bulk_memory: true, threads };
    mod = w.parseWat('program.wat', wat, features);
    // wabt's typings omit validate's features (it validates with its defaults, threads off, without them)
    (mod.validate as (f: object) => void)(features);
  } catch (e) {
    const msg = String((e as Error).message ?? e);
    const line = /program\.wat:(\d+)/.exec(msg);
    const text = line ? `\n  ${wat.split('\n')[Number(line[1]) - 1]?.slice(0, 400)}` : '';
    return fail('K6001', `wasm: generated module does not assemble (a kiln bug): ${msg.slice(0, 800)}${text}`);
  }
  try {
    return mod.toBinary({}).buffer.slice();
  } finally {
    mod.destroy();
  }
}

export interface WasmBuild {
  readonly wat: string;
  readonly binary: Uint8Array;
  readonly relaxed?: Uint8Array;
  /** The threaded variants (plain and relaxed SIMD), when asked for and the program's memory allows. */
  readonly threads?: { readonly simd: Uint8Array; readonly relaxed?: Uint8Array };
}

/** Whether a program gets a threaded build: its arena and scratch within the threaded layout's limits. */
export const threadable = (p: Program): boolean =>
  p.memory.arenaBytes <= MAX_THREADED_ARENA &&
  Math.max(programScratchBytes(p, 'own'), programScratchBytes(p, 'shared')) <= MAX_THREAD_SCRATCH;

/** Renders a Program: the WAT (plain SIMD), its binary and the relaxed-SIMD binary; with `threads`, the
 *  threaded variants too. */
export async function renderWasm(
  program: Program,
  opts: { relaxed?: boolean; threads?: boolean } = {},
): Promise<WasmBuild> {
  const wat = programWat(program, { relaxed: false });
  const binary = await assemble(wat, false);
  const withRelaxed = opts.relaxed !== false;
  const relaxed = withRelaxed ? await assemble(programWat(program, { relaxed: true }), true) : undefined;
  let threads: WasmBuild['threads'];
  if (opts.threads && threadable(program)) {
    const simd = await assemble(programWat(program, { relaxed: false, threads: true }), false, true);
    const rel = withRelaxed
      ? await assemble(programWat(program, { relaxed: true, threads: true }), true, true)
      : undefined;
    threads = rel ? { simd, relaxed: rel } : { simd };
  }
  return { wat, binary, ...(relaxed ? { relaxed } : {}), ...(threads ? { threads } : {}) };
}

/** The WebAssembly target: its limits (those fusion uses by default), the ops it lowers, its renderer. */
export const wasmTarget: Target<Awaited<ReturnType<typeof renderWasm>>> = {
  name: 'wasm',
  limits: DEFAULT_LIMITS,
  supports: supportedOps(),
  render: (p) => renderWasm(p),
};
