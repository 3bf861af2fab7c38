// kiln's side of the benchmarks: compile a graph to wasm once, run its entry through the runtime.
import type { Graph } from '../ir/graph.ts';
import { compileProgram } from '../compiler/pipeline.ts';
import { renderWasm } from '../targets/wasm/index.ts';
import { loadWasm, type RuntimeTensor, type WasmExecutor } from '../runtime/index.ts';

export async function kilnExecutor(entries: { name: string; graph: Graph }[], relaxed: boolean): Promise<WasmExecutor> {
  const program = compileProgram(entries);
  const bins = await renderWasm(program);
  return loadWasm(relaxed ? { simd: bins.binary, relaxed: bins.relaxed } : bins.binary, program);
}

export function randomF32(n: number, seed = 1): Float32Array {
  const a = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 4294967296 - 0.5;
  }
  return a;
}

export type Feeds = Record<string, RuntimeTensor>;
