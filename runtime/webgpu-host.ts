// A WebGPU executor host that answers requests (load a program, run an entry, read or write a
// param) for programs loaded by id: the far end of runtime/webgpu-node.ts's RemoteWebGpuExecutor.
// It runs in a Node worker thread (webgpu-worker.ts) or in a browser page.
import { describeDevice, loadWebGpu, requestDevice, type WebGpuExecutor } from './webgpu.ts';

export type Request =
  | { op: 'load'; kernels: Parameters<typeof loadWebGpu>[0]; manifest: Parameters<typeof loadWebGpu>[1] }
  | {
      op: 'run';
      program: number;
      entry: string;
      inputs: Parameters<WebGpuExecutor['run']>[1];
      read?: readonly string[] | undefined;
    }
  | { op: 'readParam'; program: number; name: string }
  | { op: 'writeParam'; program: number; name: string; data: Parameters<WebGpuExecutor['writeParam']>[1] }
  | { op: 'stats'; program: number }
  | { op: 'probe' }
  | { op: 'destroy'; program: number };

/** A failure as it crosses to the caller. */
export interface HostError {
  readonly code?: string;
  readonly detail: string;
}

export function createHost(): (r: Request) => Promise<unknown> {
  let device: Promise<GPUDevice> | undefined;
  const programs = new Map<number, WebGpuExecutor>();
  let nextId = 0;
  return async (r) => {
    if (r.op === 'probe') {
      // the adapter in words, and whether it is a software fallback (runtime/backend.ts's 'auto' passes over one)
      const d = await (device ??= requestDevice());
      const info = (d as GPUDevice & { adapterInfo?: { isFallbackAdapter?: boolean } }).adapterInfo;
      return { about: describeDevice(d), fallback: info?.isFallbackAdapter === true };
    }
    if (r.op === 'load') {
      const d = await (device ??= requestDevice());
      const exe = await loadWebGpu(r.kernels, r.manifest, { device: d });
      programs.set(nextId, exe);
      return { program: nextId++, about: describeDevice(d) };
    }
    const exe = programs.get(r.program);
    if (!exe) throw new Error(`no loaded program ${r.program}`);
    switch (r.op) {
      case 'run':
        return exe.run(r.entry, r.inputs, r.read);
      case 'readParam':
        return exe.readParam(r.name);
      case 'writeParam':
        return exe.writeParam(r.name, r.data);
      case 'stats':
        return { ...exe.stats };
      case 'destroy':
        exe.destroy();
        programs.delete(r.program);
        return undefined;
    }
  };
}

/** `e` as a HostError (a RuntimeError keeps its code). */
export function hostError(e: unknown): HostError {
  const x = e as Error & { code?: string; detail?: string };
  return { code: x.code, detail: x.detail ?? x.message ?? String(e) };
}
