// onnxruntime peers: onnxruntime-web (its WebAssembly SIMD build, numThreads 1) and
// onnxruntime-node (native, intraOpNumThreads 1), on the ONNX models of bench/onnx.ts; with --threads,
// onnxruntime-node with intraOpNumThreads n and onnxruntime-web with numThreads n, each in a process
// of its own stopped between its calls (child.ts): their thread pools spin after a call. (In one
// process, onnxruntime-web's pool is process-wide, sized once when its WebAssembly starts.)
/* eslint-disable @typescript-eslint/no-explicit-any */
import type { Case, MatmulCase } from '../cases.ts';
import { nchwInput, onnxModel } from '../onnx.ts';
import { inChild } from './child.ts';
import { importPeer } from './load.ts';
import { inProcess, type Impl, type Prepared } from './types.ts';

function feeds(ort: any, c: Case): Record<string, any> {
  if (c.kind === 'matmul') {
    return { a: new ort.Tensor('float32', c.a.data, c.a.shape), b: new ort.Tensor('float32', c.b.data, c.b.shape) };
  }
  const x = nchwInput(c);
  return { x: new ort.Tensor('float32', x.data, x.shape) };
}

function ortImpl(
  name: string,
  pkg: string,
  configure: (ort: any) => Promise<void> | void,
  sessionOptions: Record<string, unknown>,
  threads = 1,
  threaded?: (n: number) => Impl | string,
): Impl {
  let ort: any;
  return {
    name,
    threads,
    ...(threaded ? { threaded } : {}),
    async load() {
      const m = await importPeer(pkg);
      ort = m.default?.InferenceSession ? m.default : m;
      await configure(ort);
    },
    async prepare(c: Case): Promise<Prepared> {
      if (c.kind === 'train') throw new Error(`${name}: no training API (inference sessions only)`);
      const session = await ort.InferenceSession.create(onnxModel(c), sessionOptions);
      const inputs = feeds(ort, c);
      return inProcess({
        run: async () => (await session.run(inputs)).y.data as Float32Array,
        dispose: () => void session.release(),
      });
    },
  };
}

/** A 1x1 matmul: its session makes onnxruntime-web instantiate its WebAssembly at load. */
const TINY: MatmulCase = {
  kind: 'matmul',
  suite: 'load',
  name: '1',
  n: 1,
  flops: 2,
  a: { shape: [1, 1], data: Float32Array.of(1) },
  b: { shape: [1, 1], data: Float32Array.of(1) },
};

// Its Emscripten glue sets `global.Worker = require('worker_threads').Worker` when its WebAssembly
// starts (on the first session). One thread needs no Worker, but jax-js's wasm backend reads the
// global on every compile and, finding one, emits modules that import a shared memory its unshared
// memory cannot satisfy ("memory import 0 has no maximum limit"). So the WebAssembly starts here, at
// load, and the global it added is removed.
const ortWebOptions = { executionProviders: ['wasm'], graphOptimizationLevel: 'all' };
/** The thread count onnxruntime-web's WebAssembly started with, once it has. */
let webThreads: number | undefined;
/** onnxruntime-web on n threads in this process. */
export function ortWebHere(n: number): Impl {
  return ortImpl(
    'onnxruntime-web',
    'onnxruntime-web',
    async (ort) => {
      if (webThreads !== undefined && webThreads !== n)
        throw new Error(
          `onnxruntime-web: its WebAssembly started on ${webThreads} thread(s) in this process and its thread count cannot change; run --threads ${n} alone`,
        );
      webThreads = n;
      ort.env.wasm.numThreads = n;
      ort.env.wasm.simd = true;
      const hadWorker = 'Worker' in globalThis;
      const session = await ort.InferenceSession.create(onnxModel(TINY), ortWebOptions);
      await session.release();
      if (!hadWorker) delete (globalThis as { Worker?: unknown }).Worker;
    },
    ortWebOptions,
    n,
    ortWebOn,
  );
}
const ortWebOn = (n: number): Impl => (n > 1 ? inChild('onnxruntime-web', n, ortWebOn) : ortWebHere(n));
export const ortWeb = ortWebOn(1);

/** onnxruntime-node on n threads in this process. */
export function ortNodeHere(n: number): Impl {
  const options = {
    executionProviders: ['cpu'],
    intraOpNumThreads: n,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
  return ortImpl('onnxruntime-node', 'onnxruntime-node', () => {}, options, n, ortNodeOn);
}
const ortNodeOn = (n: number): Impl => (n > 1 ? inChild('onnxruntime-node', n, ortNodeOn) : ortNodeHere(n));
export const ortNode = ortNodeOn(1);
