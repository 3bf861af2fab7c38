// TensorFlow.js peers: the same model code on @tensorflow/tfjs-backend-wasm (XNNPACK, one thread)
// and @tensorflow/tfjs-backend-cpu (plain JS). Fused matmul/conv ops, as tfjs-layers uses them.
/* eslint-disable @typescript-eslint/no-explicit-any */
import { ADAM, type Case, type ModelCase } from '../cases.ts';
import type { Layer, Weight } from '../models.ts';
import { importPeer } from './load.ts';
import { inProcess, type Impl, type Prepared, type Runner } from './types.ts';

let tf: any;

async function loadCore(): Promise<any> {
  if (!tf) {
    const m = await importPeer('@tensorflow/tfjs'); // the umbrella: core with its gradients registered
    tf = m.default ?? m;
  }
  return tf;
}

/** The forward pass over the layer list; returns logits (the softmax is left to the caller). */
function forward(layers: readonly Layer[], w: readonly (readonly any[])[], x: any): any {
  let h = x;
  layers.forEach((l, i) => {
    const [k, b, u] = w[i]!; // see makeWeights for each layer's order
    const act = (a: string): string => (a === 'relu' ? 'relu' : 'linear');
    switch (l.kind) {
      case 'dense': {
        const shape = h.shape;
        const flat = shape.length > 2 ? tf.reshape(h, [-1, shape[shape.length - 1]]) : h;
        h = tf.fused.matMul({ a: flat, b: k, bias: b, activation: act(l.act) });
        break;
      }
      case 'conv':
        h = tf.fused.conv2d({ x: h, filter: k, strides: 1, pad: 'valid', bias: b, activation: act(l.act) });
        break;
      case 'maxpool':
        h = tf.maxPool(h, l.size, l.size, 'valid');
        break;
      case 'flatten':
        h = tf.reshape(h, [h.shape[0], -1]);
        break;
      case 'embedding':
        h = tf.gather(k, h);
        break;
      case 'lstm':
        h = lstm(h, k, b, u, l.units, l.returnSequences);
        break; // kernel, recurrent, bias
    }
  });
  return h;
}

/** Keras' LSTM (gates i, f, c, o), the input projection done once for all steps. */
function lstm(x: any, kernel: any, rec: any, bias: any, units: number, returnSequences: boolean): any {
  const [batch, time, dim] = x.shape;
  const xw = tf.reshape(tf.add(tf.matMul(tf.reshape(x, [batch * time, dim]), kernel), bias), [batch, time, 4 * units]);
  const steps = tf.unstack(xw, 1);
  let h = tf.zeros([batch, units]);
  let c = tf.zeros([batch, units]);
  const hs: any[] = [];
  for (const xt of steps) {
    const [i, f, g, o] = tf.split(tf.add(xt, tf.matMul(h, rec)), 4, 1);
    c = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g)));
    h = tf.mul(tf.sigmoid(o), tf.tanh(c));
    hs.push(h);
  }
  return returnSequences ? tf.stack(hs, 1) : h;
}

const tensorOf = (w: Weight): any => tf.tensor(w.data, w.shape, 'float32');

/** A tensor's values (synchronously on the CPU backends; WebGPU reads back asynchronously), then disposed. */
function read(t: any): ArrayLike<number> | Promise<ArrayLike<number>> {
  if (tf.getBackend() !== 'webgpu') {
    const v = t.dataSync();
    t.dispose();
    return v;
  }
  return t.data().finally(() => t.dispose());
}

function inferRunner(c: ModelCase): Runner {
  const w = c.weights.map((ws) => ws.map(tensorOf));
  const x = tf.tensor(c.x.data, c.x.shape, c.spec.inputDtype === 'i32' ? 'int32' : 'float32');
  return {
    run: () => read(tf.tidy(() => tf.softmax(forward(c.spec.layers, w, x)))),
    dispose: () => tf.dispose([x, ...w.flat()]),
  };
}

function trainRunner(c: ModelCase): Runner {
  const w = c.weights.map((ws) => ws.map((t) => tf.variable(tensorOf(t))));
  const x = tf.tensor(c.x.data, c.x.shape, c.spec.inputDtype === 'i32' ? 'int32' : 'float32');
  const y = tf.oneHot(tf.tensor(c.labels!.data, c.labels!.shape, 'int32'), c.spec.classes);
  const opt = tf.train.adam(ADAM.lr, ADAM.beta1, ADAM.beta2, ADAM.eps);
  const loss = (): any => tf.losses.softmaxCrossEntropy(y, forward(c.spec.layers, w, x));
  return {
    run: () => read(opt.minimize(loss, true)),
    dispose: () => {
      opt.dispose();
      tf.dispose([x, y, ...w.flat()]);
    },
  };
}

function matmulRunner(c: Extract<Case, { kind: 'matmul' }>): Runner {
  const a = tf.tensor(c.a.data, c.a.shape);
  const b = tf.tensor(c.b.data, c.b.shape);
  return {
    run: () => read(tf.matMul(a, b)),
    dispose: () => tf.dispose([a, b]),
  };
}

function runnerFor(c: Case): Runner {
  if (c.kind === 'matmul') return matmulRunner(c);
  return c.kind === 'infer' ? inferRunner(c) : trainRunner(c);
}

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

// In Node on the `webgpu` package's adapter (Dawn; on a machine without a GPU, SwiftShader with
// VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json).
export const tfjsWebGpu = tfjsImpl('tfjs-webgpu', 'webgpu', async () => {
  const { create, globals } = (await import('webgpu')) as { create: (f: string[]) => unknown; globals: object };
  Object.assign(globalThis, globals);
  (globalThis as { navigator?: unknown }).navigator = { gpu: create([]) };
  await importPeer('@tensorflow/tfjs-backend-webgpu');
});
