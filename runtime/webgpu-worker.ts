// The WebGPU host (webgpu-host.ts) in a worker thread, for Node: the `webgpu` package (Dawn
// 0.6.2) aborts the process when the isolate that waits on its promises also collects large
// amounts of garbage (a compiler, a training loop's batches; scripts/dawn-gc-crash.mjs reproduces
// it), so in Node the device lives in a worker whose isolate does little else.
import { createHost } from './webgpu-host.ts';
import { serveWorker } from './webgpu-serve.ts';

serveWorker(createHost());
