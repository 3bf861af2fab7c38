// TensorFlow.js peers: the same model code on @tensorflow/tfjs-backend-wasm (XNNPACK, one thread)
// and @tensorflow/tfjs-backend-cpu (plain JS). Fused matmul/conv ops, as tfjs-layers uses them.
/* eslint-disable @typescript-eslint/no-explicit-any */
import type { Case } from '../cases.ts';
import { importPeer } from './load.ts';
import { tfjsRunner } from './tfjs-model.ts';
import { inProcess, type Impl, type Prepared, type Runner } from './types.ts';

let tf: any;

async function loadCore(): Promise<any> {
  if (!tf) {
    const m = await importPeer('@tensorflow/tfjs'); // the umbrella: core with its gradients registered
    tf = m.default ?? m;
  }
  return tf;
}

const runnerFor = (c: Case): Runner => tfjsRunner(tf, c);

function tfjsImpl(
  name: string,
  backend: 'wasm' | 'cpu' | 'webgpu',
  register: () => Promise<void>,
  slowReason?: (c: Case) => string | undefined,
): Impl {
  return {
    name,
    threads: 1,
    ...(slowReason ? { slowReason } : {}),
    async load() {
      await loadCore();
      await register();
      if (!(await tf.setBackend(backend))) throw new Error(`${name}: tf.setBackend('${backend}') failed`);
      await tf.ready();
    },
    async prepare(c: Case): Promise<Prepared> {
      // tfjs-wasm and tfjs-cpu share one engine: its backend is set before preparing (the tensors
      // live on it) and before each call, since the rounds interleave the two.
      const use = async (): Promise<void> => {
        if (tf.getBackend() !== backend) await tf.setBackend(backend);
      };
      await use();
      return inProcess({ ...runnerFor(c), before: use });
    },
  };
}

export const tfjsWasm: Impl = {
  ...tfjsImpl('tfjs-wasm', 'wasm', async () => {
    const wasm = await importPeer('@tensorflow/tfjs-backend-wasm');
    wasm.setThreadsCount(1);
  }),
  threaded: () =>
    'tfjs-wasm: Node runs its non-threaded build (its WASM_HAS_MULTITHREAD_SUPPORT flag is false under Node: tensorflow/tfjs#3830)',
};

// Measured here: cnn-train about 40 s a step; lstm-train over 10 minutes a step and 4 GB (its
// UnsortedSegmentSum, the embedding's gradient, loops over the 10000 rows of the table).
export const tfjsCpu = tfjsImpl(
  'tfjs-cpu',
  'cpu',
  async () => {
    await importPeer('@tensorflow/tfjs-backend-cpu');
  },
  (c) =>
    c.kind !== 'train'
      ? undefined
      : c.suite === 'lstm-train'
        ? 'a step takes over 10 minutes here (UnsortedSegmentSum over 10000 embedding rows); --slow runs it'
        : 'a step takes about 40 s here; --slow runs it',
);
