// Which executor runs a loaded artifact. wasm: the relaxed-SIMD module where the engine has it, else
// plain SIMD. WebGPU: on the app's GPUDevice (`device`), on navigator.gpu (browsers, Deno), or in
// Node on the `webgpu` package (Dawn) in a worker thread (runtime/webgpu-worker.ts says why).
// 'auto' takes WebGPU when the artifact has a webgpu target and a hardware adapter exists; a
// software fallback adapter (SwiftShader) runs the same CPU slower than wasm SIMD, so auto passes
// over it (an explicit 'webgpu' takes it). Every file of every target is checked first, whichever
// backend runs.
import { bad, KilnError } from './errors.ts';
import type { Manifest } from './manifest.ts';
import { checkFile, type TensorInput } from './validate.ts';
import { coreCount, threadsUnavailable } from './threads.ts';
import { loadWasm, MAX_THREADS, type RuntimeTensor } from './wasm.ts';
import { describeDevice, loadWebGpu, type WebGpuKernels } from './webgpu.ts';
import { gpuKernels } from './wgsl-artifact.ts';

export type Backend = 'wasm' | 'webgpu';

export interface LoadOptions {
  /** 'auto' (default): WebGPU when the artifact has a webgpu target and a hardware adapter exists, else wasm. */
  readonly backend?: 'auto' | Backend;
  /** A GPUDevice to run on (webgpu). */
  readonly device?: unknown;
  /** false: the plain SIMD module even where relaxed SIMD runs. */
  readonly relaxedSimd?: boolean;
  /** Threads the wasm backend runs each entry on (default: the core count). Where shared memory or
   *  workers are unavailable (a page without cross-origin isolation), or the artifact has no threaded
   *  build, it runs on one and `backendInfo` says why. */
  readonly threads?: number;
}

/** What a backend runs: entries, and param reads and writes by name. */
export interface Executor {
  run(
    entry: string,
    inputs: Readonly<Record<string, TensorInput>>,
  ): Record<string, RuntimeTensor> | Promise<Record<string, RuntimeTensor>>;
  readParam(name: string): RuntimeTensor | Promise<RuntimeTensor>;
  writeParam(name: string, value: TensorInput): void | Promise<void>;
  /** Releases what the executor holds (the wasm backend's worker threads). */
  close?(): void;
}

export interface Opened {
  readonly exec: Executor;
  readonly backend: Backend;
  /** e.g. 'wasm (relaxed SIMD, 2 threads): no WebGPU adapter', 'webgpu (nvidia ampere)' */
  readonly info: string;
  /** Threads each entry runs on (wasm; 1 on WebGPU). */
  readonly threads: number;
}

type Read = (name: string) => Promise<Uint8Array>;
type Adapter = { info?: { isFallbackAdapter?: boolean; vendor?: string; architecture?: string } } | null;

const isNode = (): boolean => typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/** The WebGPU executor, or why there is none. `forced`: an explicit 'webgpu' also takes a fallback adapter. */
async function openGpu(
  m: Manifest,
  kernels: WebGpuKernels | undefined,
  opts: LoadOptions,
  forced: boolean,
): Promise<Opened | string> {
  if (!kernels) return 'the artifact has no webgpu target';
  const soft = (about: string): string => `the WebGPU adapter is a software fallback (${about})`;
  if (opts.device !== undefined) {
    const device = opts.device as GPUDevice;
    const exec = await loadWebGpu(kernels, m, { device });
    return { exec, backend: 'webgpu', info: `webgpu (${describeDevice(device)}, the app's device)`, threads: 1 };
  }
  const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<Adapter> } } }).navigator?.gpu;
  if (gpu) {
    const adapter = await gpu.requestAdapter().catch(() => null);
    if (!adapter) return 'no WebGPU adapter';
    const about = [adapter.info?.vendor, adapter.info?.architecture].filter((x) => x).join(' ') || 'unknown adapter';
    if (adapter.info?.isFallbackAdapter && !forced) return soft(about);
    return { exec: await loadWebGpu(kernels, m), backend: 'webgpu', info: `webgpu (${about})`, threads: 1 };
  }
  if (!isNode()) return 'no navigator.gpu';
  // Node: the `webgpu` package in a worker thread; from source (.ts) or from the build (.js)
  const self = `./webgpu-node.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`;
  const { loadRemote, webgpuThread } = (await import(/* @vite-ignore */ self)) as typeof import('./webgpu-node.ts');
  const host = webgpuThread();
  let probe: { about: string; fallback: boolean };
  try {
    probe = await host.call({ op: 'probe' });
  } catch (e) {
    if (e instanceof KilnError && e.code === 'K7009') return e.detail;
    throw e;
  }
  if (probe.fallback && !forced) return soft(probe.about);
  return {
    exec: await loadRemote(host, kernels, m),
    backend: 'webgpu',
    info: `webgpu (${probe.about}, Dawn)`,
    threads: 1,
  };
}

/** Opens the backend `opts.backend` asks for (default 'auto'), saying which and why. */
export async function openExecutor(m: Manifest, read: Read, opts: LoadOptions): Promise<Opened> {
  const want = opts.backend ?? 'auto';
  if (want !== 'auto' && want !== 'wasm' && want !== 'webgpu')
    bad('K7008', `loadModel: expected backend 'auto', 'wasm' or 'webgpu', found '${String(want)}'`);
  // Every file of every target is checked, whichever runs: a damaged artifact is refused on every engine,
  // and before any GPU object exists.
  const checked = async (name: string): Promise<Uint8Array> => {
    const bytes = await read(name);
    await checkFile(m, name, bytes);
    return bytes;
  };
  const webgpu = m.targets.webgpu;
  const kernels = webgpu ? gpuKernels(m, await checked(webgpu.file)) : undefined;
  const wasm = m.targets.wasm;
  const optional = async (name: string | undefined) => (name === undefined ? undefined : await checked(name));
  const simd = wasm && (await checked(wasm.files.simd));
  const relaxed = await optional(wasm?.files.relaxed);
  const threadedSimd = await optional(wasm?.files.threads);
  const threaded = threadedSimd && { simd: threadedSimd, relaxed: await optional(wasm?.files.threadsRelaxed) };
  let why = '';
  if (want !== 'wasm') {
    const gpu = await openGpu(m, kernels, opts, want === 'webgpu');
    if (typeof gpu !== 'string') return gpu;
    if (want === 'webgpu') bad('K7008', `loadModel: expected to run on WebGPU, but ${gpu}`);
    why = gpu;
  }
  if (!simd)
    bad(
      'K7008',
      `loadModel: expected a wasm target to fall back to${why ? ` (${why})` : ''}, found none in the artifact`,
    );
  const asked = opts.threads ?? Math.min(await coreCount(), MAX_THREADS);
  if (!Number.isInteger(asked) || asked < 1)
    bad('K7013', `loadModel: expected threads to be a positive integer, found ${String(opts.threads)}`);
  const noThreads = asked === 1 ? null : !threaded ? 'the artifact has no threaded build' : threadsUnavailable();
  const threads = noThreads ? 1 : asked;
  const exec = await loadWasm({ simd, relaxed, threads: threaded }, m, { ...opts, threads });
  const simdText = exec.variant === 'relaxed' ? 'relaxed SIMD' : 'SIMD';
  const threadText = noThreads
    ? `1 thread of ${asked} asked: ${noThreads}`
    : `${threads} thread${threads > 1 ? 's' : ''}`;
  const info = `wasm (${simdText}, ${threadText})${why ? `: ${why}` : ''}`;
  return { exec, backend: 'wasm', info, threads };
}
