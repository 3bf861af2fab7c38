// onnxruntime peers: onnxruntime-web (its WebAssembly SIMD build, numThreads 1) and
// onnxruntime-node (native, intraOpNumThreads 1), on the ONNX models of bench/onnx.ts.
/* eslint-disable @typescript-eslint/no-explicit-any */
import type { Case, MatmulCase } from '../cases.ts';
import { nchwInput, onnxModel } from '../onnx.ts';
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
): Impl {
  let ort: any;
  return {
    name,
    threads: 1,
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
export const ortWeb = ortImpl(
  'onnxruntime-web',
  'onnxruntime-web',
  async (ort) => {
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.simd = true;
    const hadWorker = 'Worker' in globalThis;
    const session = await ort.InferenceSession.create(onnxModel(TINY), ortWebOptions);
    await session.release();
    if (!hadWorker) delete (globalThis as { Worker?: unknown }).Worker;
  },
  ortWebOptions,
);

export const ortNode = ortImpl('onnxruntime-node', 'onnxruntime-node', () => {}, {
  executionProviders: ['cpu'],
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
});
