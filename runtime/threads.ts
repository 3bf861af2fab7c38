// The thread pool of a threaded wasm program: the module instantiated once per thread on one shared
// memory, nt - 1 workers (worker_threads in Node, Web Workers in browsers) started at load, each parked
// inside the module's `kiln_worker` loop. An entry call from the main thread is one wasm call: it
// wakes the workers through the shared memory, runs its share of every kernel as thread 0 and returns
// after the last barrier. No message passes per call or per kernel.
import { bad } from './errors.ts';

const PAGE = 65536;

/** The worker's whole program (this runtime's own code, the same in Node and browsers, and run as a
 *  script or a module alike): instantiate the module as thread `tid`, say so, then run entries until
 *  the main thread stops the pool. (A profiling build's `tick` is called by the first thread only.) */
const WORKER = `const start = (d, post) => {
  let inst;
  try { inst = new WebAssembly.Instance(d.module, { env: { memory: d.memory }, kiln: { tid: d.tid, nt: d.nt, block: 1, tick: () => {} } }); }
  catch (e) { post(String(e && e.message || e)); return; }
  post('ready');
  inst.exports.kiln_worker();
};
if (typeof self === 'object' && typeof self.postMessage === 'function') self.onmessage = (e) => start(e.data, (m) => self.postMessage(m));
else import('node:worker_threads').then(({ parentPort: p }) => p.once('message', (d) => start(d, (m) => p.postMessage(m))));`;

interface AnyWorker {
  postMessage(m: unknown): void;
  terminate(): unknown;
}

const isNode = (): boolean =>
  typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';

/** Why this engine cannot run threads, or null when it can. */
export function threadsUnavailable(): string | null {
  const g = globalThis as { crossOriginIsolated?: boolean; Worker?: unknown };
  if (typeof SharedArrayBuffer === 'undefined' || g.crossOriginIsolated === false)
    return 'SharedArrayBuffer is unavailable (a page needs cross-origin isolation: serve it with COOP/COEP headers)';
  if (!isNode() && typeof g.Worker !== 'function') return 'this engine has no Web Workers';
  return null;
}

/** The number of cores, the default thread count. */
export async function coreCount(): Promise<number> {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  if (nav?.hardwareConcurrency) return nav.hardwareConcurrency;
  if (!isNode()) return 1;
  const os = (await import(/* @vite-ignore */ ['node', 'os'].join(':'))) as { availableParallelism?: () => number };
  return os.availableParallelism?.() ?? 1;
}

async function spawn(): Promise<{ worker: AnyWorker; on: (cb: (m: unknown) => void) => void }> {
  if (isNode()) {
    type NodeWorker = AnyWorker & { on(ev: string, cb: (m: unknown) => void): void; unref(): void };
    const wt = (await import(/* @vite-ignore */ ['node', 'worker_threads'].join(':'))) as {
      Worker: new (src: string, o: { eval: boolean }) => NodeWorker;
    };
    const worker = new wt.Worker(WORKER, { eval: true });
    return {
      worker,
      on: (cb) => {
        // unref'd once ready (a 'message' listener refs it again): a pool never keeps Node running
        worker.on('message', (m) => {
          if (m === 'ready') worker.unref();
          cb(m);
        });
        worker.on('error', (e) => cb(String((e as Error).message ?? e)));
      },
    };
  }
  const W = (
    globalThis as unknown as { Worker: new (url: string) => AnyWorker & { onmessage: unknown; onerror: unknown } }
  ).Worker;
  const url = URL.createObjectURL(new Blob([WORKER], { type: 'text/javascript' }));
  const worker = new W(url);
  URL.revokeObjectURL(url);
  return {
    worker,
    on: (cb) => {
      worker.onmessage = (e: { data: unknown }) => cb(e.data);
      worker.onerror = (e: { message?: string }) => cb(e.message ?? 'worker error');
    },
  };
}

export interface ThreadPool {
  readonly instance: WebAssembly.Instance;
  readonly memory: WebAssembly.Memory;
  /** Ends the workers (the pool's entries may not be called after). */
  close(): void;
}

/** Instantiates a threaded module for `nt` threads: its shared memory (the arena, the control block and
 *  each thread's scratch), thread 0 here, the others in workers, each ready before this resolves.
 *  `tick`: thread 0's import of a profiling build (compiler/inspect/profile.ts). */
export async function startPool(
  mod: WebAssembly.Module,
  arenaBytes: number,
  nt: number,
  tick?: (id: number) => void,
): Promise<ThreadPool> {
  const memory = new WebAssembly.Memory({
    initial: Math.max(1, Math.ceil(arenaBytes / PAGE)),
    maximum: 65536,
    shared: true,
  });
  // a browser's main thread may not block: it spins at barriers
  const block = isNode() ? 1 : 0;
  const instance = await WebAssembly.instantiate(mod, {
    env: { memory },
    kiln: { tid: 0, nt, block, ...(tick ? { tick } : {}) },
  });
  const global = (name: string): number => (instance.exports[name] as WebAssembly.Global).value as number;
  const bytes = global('kiln_scratch') + nt * global('kiln_thread_bytes');
  const pages = Math.ceil(bytes / PAGE) - memory.buffer.byteLength / PAGE;
  if (bytes > 65536 * PAGE)
    bad('K7013', `threads: ${nt} threads need ${bytes} bytes of memory, more than wasm32's 4 GiB; ask for fewer`);
  if (pages > 0) memory.grow(pages);
  const workers: AnyWorker[] = [];
  const stop = (): void => {
    (instance.exports['kiln_stop'] as () => void)();
    for (const w of workers) w.terminate();
  };
  try {
    await Promise.all(
      Array.from({ length: nt - 1 }, async (_, i) => {
        const { worker, on } = await spawn();
        workers.push(worker);
        await new Promise<void>((resolve, reject) => {
          on((m) => (m === 'ready' ? resolve() : reject(new Error(String(m)))));
          worker.postMessage({ module: mod, memory, tid: i + 1, nt });
        });
      }),
    );
  } catch (e) {
    stop();
    return bad('K7014', `threads: a worker of the pool did not start (${(e as Error).message})`);
  }
  return { instance, memory, close: stop };
}
