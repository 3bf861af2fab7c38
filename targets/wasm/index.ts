// The WebAssembly SIMD target: Kernel IR -> WAT -> binary (wabt), plain SIMD and relaxed SIMD.
import { fail } from '../../ir/errors.ts';
import type { Program } from '../../ir/kernel.ts';
import { kernelNames, programWat, type RenderOptions } from './module.ts';
import { OP_CODE } from './ops.ts';
import { TEMPLATE_OPS } from './template.ts';
import wabtInit from 'wabt';

export type { RenderOptions };
export { kernelNames, programWat };

/** Ops that are not elementwise but always lower to loop or matmul kernels. */
const STRUCTURAL = ['sum', 'max', 'min', 'mean', 'argmax', 'reshape', 'transpose', 'broadcast_to', 'slice', 'pad', 'concat',
  'gather', 'one_hot', 'constant', 'iota', 'random_uniform', 'random_normal', 'matmul',
  'max_pool2d', 'avg_pool2d', 'max_pool2d_grad', 'avg_pool2d_grad', 'scatter_add'];

/** The ops with a wasm lowering. */
export function supportedOps(): Set<string> {
  return new Set([...Object.keys(OP_CODE), ...STRUCTURAL, ...TEMPLATE_OPS]);
}

let wabt: ReturnType<typeof wabtInit> | undefined;

/** WAT text -> binary; a wabt error means a renderer bug, reported with the offending line. */
export async function assemble(wat: string, relaxed: boolean): Promise<Uint8Array> {
  const w = await (wabt ??= wabtInit());
  let mod;
  try {
    mod = w.parseWat('program.wat', wat, { simd: true, relaxed_simd: relaxed, sat_float_to_int: true, bulk_memory: true });
    mod.validate();
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

/** Renders a Program: the WAT (plain SIMD), its binary and the relaxed-SIMD binary. */
export async function renderWasm(program: Program, opts: { relaxed?: boolean } = {}): Promise<{ wat: string; binary: Uint8Array; relaxed?: Uint8Array }> {
  const wat = programWat(program, { relaxed: false });
  const binary = await assemble(wat, false);
  if (opts.relaxed === false) return { wat, binary };
  const relaxed = await assemble(programWat(program, { relaxed: true }), true);
  return { wat, binary, relaxed };
}
