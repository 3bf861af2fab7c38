// WebGPU at a distance: a RemoteWebGpuExecutor forwards its calls to a WebGPU host
// (webgpu-host.ts) through a transport: in Node, one worker thread per process (webgpu-worker.ts
// says why); a test may use a browser page. Inputs and outputs cross as typed arrays. The worker
// also answers blocking calls (BlockingWebGpuExecutor): the caller posts on a second port and
// sleeps in Atomics.wait until the worker, whose own event loop drives the GPU's promises, has
// posted the answer, so a synchronous caller (a training loop) runs on WebGPU unchanged.
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
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
  /** The same, blocking the calling thread until the answer is there (a worker thread's transport only). */
  callSync?<T>(req: Request): T;
}

/** What the worker thread gets for blocking calls: its end of the port and the flag it raises. */
export interface SyncChannel {
  readonly port: MessagePort;
  /** [0]: 0 while a blocking call is in flight, 1 once its answer is posted. */
  readonly flag: Int32Array;
}

/** How long a blocking call waits for the worker before it gives up (a pipeline compile on a CPU
 *  driver takes seconds; a step of a large model on one, tens of seconds). */
const SYNC_TIMEOUT_MS = 10 * 60 * 1000;

/** A HostError as the caller's typed error. */
export function fromHost(e: HostError): KilnError {
  return new KilnError((e.code as ConstructorParameters<typeof KilnError>[0] | undefined) ?? 'K7009', e.detail);
}

/** The worker thread and its calls in flight. */
class GpuThread implements Transport {
  private next = 0;
  private readonly waiting = new Map<number, Waiter>();
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));

  constructor(file: string | URL, data: object = {}) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.port.unref();
    const sync: SyncChannel = { port: port2, flag: this.flag };
    this.worker = new Worker(file, { workerData: { ...data, sync }, transferList: [port2] });
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
      for (const [k, t] of threads) if (t === this) threads.delete(k);
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

  callSync<T>(req: Request): T {
    Atomics.store(this.flag, 0, 0);
    this.port.postMessage(req);
    if (Atomics.wait(this.flag, 0, 0, SYNC_TIMEOUT_MS) === 'timed-out')
      throw new KilnError('K7009', `the WebGPU worker did not answer a '${req.op}' within ${SYNC_TIMEOUT_MS / 1000} s`);
    const m = receiveMessageOnPort(this.port)?.message as { value?: T; error?: HostError } | undefined;
    if (!m) throw new KilnError('K7009', `the WebGPU worker raised its flag for '${req.op}' without an answer`);
    if (m.error) throw fromHost(m.error);
    return m.value as T;
  }
}

const threads = new Map<string, GpuThread>();

export class RemoteWebGpuExecutor {
  constructor(
    private readonly thread: Transport,
    readonly program: number,
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

/** A program loaded on the worker thread, called synchronously: each call blocks until the GPU has
 *  answered (run and readParam wait for the read-back; writeParam for its queue write). */
export class BlockingWebGpuExecutor {
  private readonly t: Transport & { callSync<T>(req: Request): T };
  constructor(
    remote: RemoteWebGpuExecutor,
    t: Transport,
    private readonly program = remote.program,
  ) {
    if (!t.callSync) throw new KilnError('K7009', 'blocking WebGPU calls need the worker-thread transport');
    this.t = t as Transport & { callSync<T>(req: Request): T };
  }

  run(
    entry: string,
    inputs: Readonly<Record<string, TensorInput>> = {},
    read?: readonly string[],
  ): Record<string, RuntimeTensor> {
    return this.t.callSync({ op: 'run', program: this.program, entry, inputs, read });
  }

  readParam(name: string): RuntimeTensor {
    return this.t.callSync({ op: 'readParam', program: this.program, name });
  }

  writeParam(name: string, data: TensorInput): void {
    this.t.callSync({ op: 'writeParam', program: this.program, name, data });
  }

  stats(): { submits: number; dispatches: number } {
    return this.t.callSync({ op: 'stats', program: this.program });
  }

  destroy(): void {
    this.t.callSync({ op: 'destroy', program: this.program });
  }
}

/** The process's WebGPU worker running `workerFile` (started on first use; by default the built
 *  webgpu-worker.js; `data` joins its workerData). */
export function webgpuThread(
  workerFile: string | URL = new URL('./webgpu-worker.js', import.meta.url),
  data: object = {},
): Transport {
  const key = String(workerFile);
  let t = threads.get(key);
  if (!t) threads.set(key, (t = new GpuThread(workerFile, data)));
  return t;
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
