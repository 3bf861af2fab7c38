// The device side of `kiln inspect --profile --target webgpu` in a Node worker thread (the `webgpu`
// package's Dawn wants an isolate that does little else, runtime/webgpu-worker.ts says why): one
// request in, its timings (or a typed error) out.
import { parentPort } from 'node:worker_threads';
import { hostError } from '../../runtime/webgpu-host.ts';
import { timeOnGpu, type GpuTimingRequest } from './webgpu-timing.ts';

parentPort!.once('message', (req: GpuTimingRequest) => {
  timeOnGpu(req).then(
    (value) => parentPort!.postMessage({ value }),
    (e: unknown) => parentPort!.postMessage({ error: hostError(e) }),
  );
});
