// The script of the training-step test page: runs one compiled entry call on WebAssembly
// (runtime/wasm.ts) or on WebGPU (runtime/webgpu.ts) in the browser and returns its outputs and
// params afterwards, for test/browser/train-step.test.ts to compare with Node's.
import type { Manifest } from '../../runtime/manifest.ts';
import type { TensorData } from '../../runtime/validate.ts';
import { loadWasm, type RuntimeTensor } from '../../runtime/wasm.ts';
import { describeDevice, loadWebGpu, type WebGpuKernels } from '../../runtime/webgpu.ts';

interface Call {
  readonly manifest: Manifest;
  readonly entry: string;
  readonly params: Record<string, TensorData>;
  readonly inputs: Record<string, TensorData>;
}

type Result = { outputs: Record<string, RuntimeTensor>; params: Record<string, RuntimeTensor>; about: string };

async function onWasm(binary: Uint8Array, c: Call): Promise<Result> {
  const exe = await loadWasm(binary, c.manifest);
  for (const [n, d] of Object.entries(c.params)) exe.writeParam(n, d);
  const outputs = exe.run(c.entry, c.inputs);
  return {
    outputs,
    params: Object.fromEntries(c.manifest.params.map((p) => [p.name, exe.readParam(p.name)])),
    about: `wasm ${exe.variant}`,
  };
}

async function onWebGpu(kernels: WebGpuKernels, c: Call): Promise<Result> {
  const exe = await loadWebGpu(kernels, c.manifest);
  for (const [n, d] of Object.entries(c.params)) exe.writeParam(n, d);
  const outputs = await exe.run(c.entry, c.inputs);
  const params: Record<string, RuntimeTensor> = {};
  for (const p of c.manifest.params) params[p.name] = await exe.readParam(p.name);
  exe.destroy();
  return { outputs, params, about: describeDevice(exe.device) };
}

Object.assign(globalThis, { kilnStep: { onWasm, onWebGpu, gpu: () => 'gpu' in navigator } });
