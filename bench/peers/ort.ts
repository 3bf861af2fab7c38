// onnxruntime peers: onnxruntime-web (its WebAssembly SIMD build, numThreads 1) and
// onnxruntime-node (native, intraOpNumThreads 1), on the ONNX models of bench/onnx.ts.
/* eslint-disable @typescript-eslint/no-explicit-any */
import type { Case } from '../cases.ts';
import type { TimingPolicy } from '../harness.ts';
import { nchwInput, onnxModel } from '../onnx.ts';
import { importPeer } from './load.ts';
import { timeRunner, type Impl, type Measured, type Runner } from './types.ts';

function feeds(ort: any, c: Case): Record<string, any> {
  if (c.kind === 'matmul') {
    return { a: new ort.Tensor('float32', c.a.data, c.a.shape), b: new ort.Tensor('float32', c.b.data, c.b.shape) };
  }
  const x = nchwInput(c);
  return { x: new ort.Tensor('float32', x.data, x.shape) };
}

function ortImpl(name: string, pkg: string, configure: (ort: any) => void, sessionOptions: Record<string, unknown>): Impl {
  let ort: any;
  return {
    name,
    threads: 1,
    async load() {
      const m = await importPeer(pkg);
      ort = m.default?.InferenceSession ? m.default : m;
      configure(ort);
    },
    bench(c: Case, policy: TimingPolicy): Promise<Measured> {
      return timeRunner(async (): Promise<Runner> => {
        if (c.kind === 'train') throw new Error(`${name}: no training API (inference sessions only)`);
        const session = await ort.InferenceSession.create(onnxModel(c), sessionOptions);
        const inputs = feeds(ort, c);
        return {
          run: async () => (await session.run(inputs)).y.data as Float32Array,
          dispose: () => void session.release(),
        };
      }, policy);
    },
  };
}

export const ortWeb = ortImpl('onnxruntime-web', 'onnxruntime-web', (ort) => {
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.simd = true;
}, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });

export const ortNode = ortImpl('onnxruntime-node', 'onnxruntime-node', () => {}, {
  executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
});
