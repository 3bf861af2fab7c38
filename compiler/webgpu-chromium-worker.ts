// A WebGPU worker thread whose host is a headless Chromium page (chromium.ts): the worker only
// forwards each request, so blocking calls (runtime/webgpu-node.ts) reach the browser's WebGPU.
import { workerData } from 'node:worker_threads';
import { serveWorker } from '../runtime/webgpu-serve.ts';
import { chromiumGpu } from './chromium.ts';

const gpu = await chromiumGpu((workerData as { page: string }).page);
serveWorker((r) => gpu.call(r));
