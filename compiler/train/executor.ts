// A compiled program loaded on a target and called synchronously, whatever the target: the wasm
// executor runs in this thread; the WebGPU one blocks on this process's WebGPU worker thread
// (runtime/webgpu-node.ts), so sessions and the training loop stay synchronous on both.
import type { Program } from '../../ir/kernel.ts';
import { loadWasm, type RuntimeTensor } from '../../runtime/index.ts';
import type { TensorInput } from '../../runtime/validate.ts';
import { renderWasm } from '../../targets/wasm/index.ts';
import { toManifest } from '../artifact/manifest.ts';

export interface ProgramExecutor {
  run(entry: string, inputs: Readonly<Record<string, TensorInput>>): Record<string, RuntimeTensor>;
  readParam(name: string): RuntimeTensor;
  writeParam(name: string, data: TensorInput): void;
}

export const COMPILED_TARGETS = ['wasm', 'webgpu'] as const;
export type CompiledTarget = (typeof COMPILED_TARGETS)[number];

/** `program` loaded on `target` (wasm: on `threads` threads, the threaded build on a worker pool when more than one). */
export async function loadProgram(program: Program, target: CompiledTarget, threads = 1): Promise<ProgramExecutor> {
  if (target === 'webgpu') {
    const { loadOnWebGpuBlocking } = await import('../webgpu.ts');
    return loadOnWebGpuBlocking(program);
  }
  const bins = await renderWasm(program, { relaxed: true, threads: threads > 1 });
  return loadWasm({ simd: bins.binary, relaxed: bins.relaxed, threads: bins.threads }, toManifest(program), {
    threads: bins.threads ? threads : 1,
  });
}
