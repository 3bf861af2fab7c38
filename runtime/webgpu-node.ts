// WebGPU at a distance: a RemoteWebGpuExecutor forwards its calls to a WebGPU host
// (webgpu-host.ts) through a transport: in Node, one worker thread per process (webgpu-worker.ts
// says why); a test may use a browser page. Inputs and outputs cross as typed arrays.
import { Worker } from 'node:worker_threads';
import { KilnError } from './errors.ts';
import type { HostError, Request } from './webgpu-host.ts';
import type { WebGpuKernels } from './webgpu.ts';
import type { Manifest } from './manifest.ts';
import type { TensorInput } from './validate.ts';
import type { RuntimeTensor } from './wasm.ts';

type Waiter = { ok: (v: unknown) => void; err: (e: Error) => void };

/** Carries requests to a WebGPU host and brings back its answers. */
export interface Transport {
  call<T>(req: Request): Promise<T>;
}

/** A HostError as the caller's typed error. */
export function fromHost(e: HostError): KilnError {
  return new KilnError((e.code as ConstructorParameters<typeof KilnError>[0] | undefined) ?? 'K7009', e.detail);
}

/** The worker thread and its calls in flight. */
class GpuThread implements Transport {
  private next = 0;
  private readonly waiting = new Map<number, Waiter>();
  private readonly worker: Worker;

  constructor(file: string | URL) {
    this.worker = new Worker(file);
    this.worker.on('message', (m: { id: number; value?: unknown; error?: HostError }) => {
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (this.waiting.size === 0) this.worker.unref(); // idle: let the process exit
      if (m.error) w?.err(fromHost(m.error));
      else w?.ok(m.value);
    });
    const fail = (why: string): void => {
      for (const w of this.waiting.values()) w.err(new KilnError('K7009', why));
      this.waiting.clear();
      if (thread === this) thread = undefined;
    };
    this.worker.on('error', (e) => fail(`the WebGPU worker failed: ${e.message}`));
    this.worker.on('exit', (code) => fail(`the WebGPU worker exited (code ${code})`));
    this.worker.unref(); // after the listeners: a 'message' listener refs the worker again
  }

  call<T>(req: Request): Promise<T> {
    const id = this.next++;
    return new Promise<T>((ok, err) => {
      this.waiting.set(id, { ok: ok as (v: unknown) => void, err });
      this.worker.ref(); // keep the process alive while a call is in flight
      this.worker.postMessage({ id, req });
    });
  }
}

let thread: GpuThread | undefined;

export class RemoteWebGpuExecutor {
  constructor(
    private readonly thread: Transport,
    private readonly program: number,
    readonly about: string,
  ) {}

  run(
    entry: string,
    inputs: Readonly<Record<string, TensorInput>> = {},
    read?: readonly string[],
  ): Promise<Record<string, RuntimeTensor>> {
    return this.thread.call({ op: 'run', program: this.program, entry, inputs, read });
  }

  readParam(name: string): Promise<RuntimeTensor> {
    return this.thread.call({ op: 'readParam', program: this.program, name });
  }

  writeParam(name: string, data: TensorInput): Promise<void> {
    return this.thread.call({ op: 'writeParam', program: this.program, name, data });
  }

  /** Submits and dispatches so far. */
  stats(): Promise<{ submits: number; dispatches: number }> {
    return this.thread.call({ op: 'stats', program: this.program });
  }

  /** Frees the program's GPU buffers. */
  destroy(): Promise<void> {
    return this.thread.call({ op: 'destroy', program: this.program });
  }
}

/** The process's WebGPU worker (started on first use from `workerFile`: the built
 *  webgpu-worker.js, or a bundle of webgpu-worker.ts). */
export function webgpuThread(workerFile: string | URL = new URL('./webgpu-worker.js', import.meta.url)): Transport {
  return (thread ??= new GpuThread(workerFile));
}

/** Loads a program on the WebGPU host at the end of `t`. */
export async function loadRemote(
  t: Transport,
  kernels: WebGpuKernels,
  manifest: Manifest,
): Promise<RemoteWebGpuExecutor> {
  const { program, about } = await t.call<{ program: number; about: string }>({ op: 'load', kernels, manifest });
  return new RemoteWebGpuExecutor(t, program, about);
}
