// The message loop of a WebGPU worker thread (webgpu-worker.ts, or a worker that forwards to a
// browser page): requests on parentPort are answered there; blocking calls (webgpu-node.ts) come on
// the port of workerData.sync and are answered on it before the flag is raised.
import { parentPort, workerData } from 'node:worker_threads';
import { hostError, type Request } from './webgpu-host.ts';
import type { SyncChannel } from './webgpu-node.ts';

export function serveWorker(host: (r: Request) => Promise<unknown>): void {
  parentPort!.on('message', (m: { id: number; req: Request }) => {
    host(m.req).then(
      (value) => parentPort!.postMessage({ id: m.id, value }),
      (e: unknown) => parentPort!.postMessage({ id: m.id, error: hostError(e) }),
    );
  });
  const sync = (workerData as { sync?: SyncChannel } | undefined)?.sync;
  sync?.port.on('message', (req: Request) => {
    const answer = (m: object): void => {
      sync.port.postMessage(m);
      Atomics.store(sync.flag, 0, 1);
      Atomics.notify(sync.flag, 0);
    };
    host(req).then(
      (value) => answer({ value }),
      (e: unknown) => answer({ error: hostError(e) }),
    );
  });
}
