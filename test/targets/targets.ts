// How the differential tests load and check a program on each target (the list is ./list.ts).
import { expect } from 'vitest';
import type { Graph } from '../../ir/graph.ts';
import { interpret } from '../../ir/interpret.ts';
import type { Program } from '../../ir/kernel.ts';
import type { Target } from '../../ir/target.ts';
import type { Tensor, TensorType } from '../../ir/types.ts';
import { compileProgram } from '../../compiler/pipeline.ts';
import { toManifest } from '../../compiler/artifact/manifest.ts';
import { wasmTarget } from '../../targets/wasm/index.ts';
import { wgslTarget } from '../../targets/wgsl/index.ts';
import { loadArtifactOnGpu, loadOnGpu } from './wgsl-helpers.ts';
import { loadWasm, type RuntimeTensor } from '../../runtime/index.ts';
import { rng } from '../grad/check-vjp.ts';
import { expectClose, randomFeed, type WasmCheck } from './wasm-helpers.ts';

/** A loaded program: entries run (synchronously or not), params written and read. */
export interface Executable {
  run(
    entry: string,
    inputs: Record<string, RuntimeTensor>,
  ): Record<string, RuntimeTensor> | Promise<Record<string, RuntimeTensor>>;
  writeParam(name: string, value: RuntimeTensor): void | Promise<void>;
  readParam(name: string): RuntimeTensor | Promise<RuntimeTensor>;
  /** Frees device resources (WebGPU). */
  destroy?(): Promise<void>;
}

export interface TargetUnderTest {
  readonly target: Target;
  /** Renders and loads a program compiled with the target's limits. */
  load(program: Program): Promise<Executable>;
}

/** WebAssembly: the plain SIMD binary, or the relaxed-SIMD one. */
export function wasmUnderTest(relaxed = false): TargetUnderTest {
  return {
    target: wasmTarget,
    load: async (p) => {
      const bins = await wasmTarget.render(p);
      return loadWasm(relaxed ? { simd: bins.binary, relaxed: bins.relaxed } : bins.binary, toManifest(p));
    },
  };
}

/** WGSL run on a WebGPU device (test/targets/wgsl-helpers.ts: headless Chromium on SwiftShader, or
 *  Dawn in a Node worker with KILN_WEBGPU=node). */
export const wgslUnderTest: TargetUnderTest = { target: wgslTarget, load: loadOnGpu };

/** WGSL as above, read back from the artifact's webgpu target (kernels.wgsl and the manifest's webgpu
 *  section, checked as loadModel checks them) before it runs: the seed models' round trip. */
export const wgslArtifactUnderTest: TargetUnderTest = { target: wgslTarget, load: loadArtifactOnGpu };

/** Compiles `g` for the target, runs its one entry 'main' and checks outputs and updated params
 *  against the graph interpreter. */
export async function checkTarget(t: TargetUnderTest, g: Graph, opts: WasmCheck = {}): Promise<Program> {
  const next = rng(opts.seed ?? 1);
  const feed = (ty: TensorType): Tensor => randomFeed(ty, next, opts.lo, opts.hi, opts.intHi);
  const inputs = Object.fromEntries(g.inputs.map((i) => [i.name, feed(i.type)]));
  const params = Object.fromEntries(g.params.map((p) => [p.name, feed(p.type)]));
  const want = interpret(g, inputs, params);
  const program = compileProgram([{ name: 'main', graph: g }], { limits: t.target.limits });
  const exe = await t.load(program);
  try {
    for (const p of g.params) await exe.writeParam(p.name, params[p.name] as RuntimeTensor);
    const got = await exe.run('main', inputs as Record<string, RuntimeTensor>);
    const tol = opts.tol ?? 1e-5;
    for (const o of g.outputs)
      expectClose(got[o.name]!, want.outputs[o.name]!, `${t.target.name} output ${o.name}`, tol);
    for (const p of g.params)
      expectClose(
        await exe.readParam(p.name),
        want.assigns[p.name] ?? params[p.name]!,
        `${t.target.name} param ${p.name}`,
        tol,
      );
  } finally {
    await exe.destroy?.();
  }
  expect(program.entries.length).toBe(1);
  return program;
}
