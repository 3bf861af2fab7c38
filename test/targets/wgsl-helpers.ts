// Shared by the WGSL target tests: a graph compiled, rendered to WGSL and run for real on a WebGPU
// device, checked against the interpreter. The device: headless Chromium's WebGPU on SwiftShader
// (test/browser/chromium.ts), or with KILN_WEBGPU=node the `webgpu` package (Dawn) in a Node worker
// thread on the machine's Vulkan driver (SwiftShader's with VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json). Dawn 0.6.2 in
// Node aborts the process under garbage-collection load (scripts/dawn-gc-crash.mjs), which a test
// file's many programs reach, so Chromium is the default. With CI=true a missing adapter fails the
// test file; elsewhere the suites skip and say why.
import { GraphBuilder } from '../../ir/builder.ts';
import { interpret } from '../../ir/interpret.ts';
import type { Graph } from '../../ir/graph.ts';
import type { Program } from '../../ir/kernel.ts';
import type { Tensor, TensorType } from '../../ir/types.ts';
import { compileProgram } from '../../compiler/pipeline.ts';
import { loadOnWebGpu, webgpuHost } from '../../compiler/webgpu.ts';
import { loadRemote, type RemoteWebGpuExecutor, type Transport } from '../../runtime/webgpu-node.ts';
import { packWgsl } from '../../compiler/artifact/webgpu.ts';
import { fileSpecs, sealManifest, toManifest } from '../../compiler/artifact/manifest.ts';
import { renderWgsl } from '../../targets/wgsl/index.ts';
import { checkFile, readManifest } from '../../runtime/validate.ts';
import { gpuKernels } from '../../runtime/wgsl-artifact.ts';
import { chromiumGpu } from '../../compiler/chromium.ts';
import type { RuntimeTensor } from '../../runtime/index.ts';
import { rng } from '../grad/check-vjp.ts';
import { expectClose, randomFeed, type WasmCheck } from './wasm-helpers.ts';

export interface Gpu {
  readonly ok: boolean;
  /** The adapter in words, or why there is none. */
  readonly about: string;
}

let gpu: Promise<Gpu> | undefined;
let transport: (Transport & { close?: () => Promise<void> }) | undefined;

/** Renders and loads `program` on the test device. */
export async function loadOnGpu(program: Program): Promise<RemoteWebGpuExecutor> {
  return loadOnWebGpu(program, transport ? { transport } : {});
}

/** Loads `program` on the test device through the artifact format, as `kiln compile --target webgpu`
 *  writes it and loadModel reads it: kernels.wgsl and the manifest's webgpu section (packWgsl), the
 *  manifest sealed, then read back (readManifest: schema, memory plan, the webgpu section against it),
 *  kernels.wgsl's hash checked and cut into the executor's kernels (gpuKernels). The weights file is
 *  named but empty: the tests write params through the executor. */
export async function loadArtifactOnGpu(program: Program): Promise<RemoteWebGpuExecutor> {
  const wgsl = packWgsl(program, renderWgsl(program));
  const bytes = { [wgsl.target.file]: wgsl.bytes, 'weights.safetensors': new Uint8Array(0) };
  const sealed = await sealManifest(
    toManifest(program, { files: await fileSpecs(bytes), wasm: null, webgpu: wgsl.target }),
  );
  const m = await readManifest(new TextEncoder().encode(sealed));
  const file = m.targets.webgpu!.file;
  await checkFile(m, file, bytes[file]!);
  return loadRemote(transport ?? (await webgpuHost()), gpuKernels(m, bytes[file]!), m);
}

/** Closes the browser (call in afterAll). */
export async function closeGpu(): Promise<void> {
  await transport?.close?.();
}

/** Whether WebGPU runs here (probed once per test file); throws under CI when it does not. */
export function testGpu(): Promise<Gpu> {
  return (gpu ??= (async () => {
    const b = new GraphBuilder('probe');
    b.output('y', b.op('neg', [b.input('x', 'f32', [4])]));
    try {
      if (process.env.KILN_WEBGPU !== 'node') transport = await chromiumGpu();
      const exe = await loadOnGpu(compileProgram([{ name: 'main', graph: b.finish() }]));
      await exe.destroy();
      return { ok: true, about: exe.about };
    } catch (e) {
      const why = `WGSL tests skipped: no WebGPU device (${(e as Error).message})`;
      if (process.env.CI === 'true')
        throw new Error(`${why}; CI must run them: install chromium and libvulkan1 (SwiftShader's Vulkan driver)`);
      console.warn(why);
      return { ok: false, about: why };
    }
  })());
}

/** Compiles `g`, runs its one entry 'main' on WebGPU and checks outputs and updated params against the interpreter. */
export async function checkWgsl(g: Graph, opts: WasmCheck = {}): Promise<Program> {
  const next = rng(opts.seed ?? 1);
  const feed = (t: TensorType): Tensor => randomFeed(t, next, opts.lo, opts.hi, opts.intHi);
  const inputs = Object.fromEntries(g.inputs.map((i) => [i.name, feed(i.type)]));
  const params = Object.fromEntries(g.params.map((p) => [p.name, feed(p.type)]));
  const want = interpret(g, inputs, params);
  const program = compileProgram([{ name: 'main', graph: g }]);
  const exe = await loadOnGpu(program);
  try {
    for (const p of g.params) await exe.writeParam(p.name, params[p.name] as RuntimeTensor);
    const got = await exe.run('main', inputs as Record<string, RuntimeTensor>);
    const tol = opts.tol ?? 1e-5;
    for (const o of g.outputs) expectClose(got[o.name]!, want.outputs[o.name]!, `output ${o.name}`, tol);
    for (const p of g.params)
      expectClose(await exe.readParam(p.name), want.assigns[p.name] ?? params[p.name]!, `param ${p.name}`, tol);
  } finally {
    await exe.destroy();
  }
  return program;
}
