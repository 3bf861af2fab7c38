// The jax-js peer (@jax-js/jax, its WebAssembly backend): every case as one jit-compiled function.
// In Node there is no global Worker, so its wasm backend runs on one thread (checked at load).
// jax-js counts references: a jitted function consumes its arguments, so each call passes `.ref`s.
/* eslint-disable @typescript-eslint/no-explicit-any */
import { ADAM, type Case, type MatmulCase, type ModelCase } from '../cases.ts';
import { flattenedFrom, hwioToOihw, nchwFlattenKernel, type Layer } from '../models.ts';
import { nchwInput } from '../onnx.ts';
import { importPeer } from './load.ts';
import { inProcess, type Impl, type Prepared, type Runner } from './types.ts';

let jax: any;

const hasWorker = (): boolean => typeof (globalThis as { Worker?: unknown }).Worker !== 'undefined';

/** Logits of the layer list; images NCHW (the flatten's dense kernel is re-ordered to match). */
function forward(layers: readonly Layer[], w: readonly (readonly any[])[], x: any): any {
  const { numpy: np, lax, nn } = jax;
  let h = x;
  layers.forEach((l, i) => {
    const [k, b, u] = w[i]!;
    switch (l.kind) {
      case 'dense':
        h = np.matmul(h, k).add(b);
        if (l.act === 'relu') h = nn.relu(h);
        break;
      case 'conv':
        h = nn.relu(lax.conv(h, k, [1, 1], 'VALID').add(b.reshape([1, -1, 1, 1])));
        break;
      case 'maxpool':
        h = lax.reduceWindow(h, (win: any) => win.max(), [l.size, l.size], [l.size, l.size]);
        break;
      case 'flatten':
        h = h.reshape([h.shape[0], -1]);
        break;
      case 'embedding':
        h = np.take(k, h, 0);
        break;
      case 'lstm':
        h = lstm(h, k, b, u, l.units, l.returnSequences);
        break; // kernel, recurrent, bias
    }
  });
  return h;
}

function lstm(x: any, kernel: any, rec: any, bias: any, units: number, returnSequences: boolean): any {
  const { numpy: np, nn } = jax;
  const [batch, time, dim] = x.shape;
  const xw = np
    .matmul(x.reshape([batch * time, dim]), kernel)
    .add(bias)
    .reshape([batch, time, 4 * units]);
  const steps = np.unstack(xw, 1);
  let h = np.zeros([batch, units]);
  let c = np.zeros([batch, units]);
  const hs: any[] = [];
  for (const xt of steps) {
    const [i, f, g, o] = np.split(xt.add(np.matmul(h.ref, rec.ref)), 4, 1);
    c = nn
      .sigmoid(f)
      .mul(c)
      .add(nn.sigmoid(i).mul(np.tanh(g)));
    h = nn.sigmoid(o).mul(np.tanh(c.ref));
    if (returnSequences) hs.push(h.ref);
  }
  rec.dispose();
  c.dispose();
  if (!returnSequences) return h;
  h.dispose();
  return np.stack(hs, 1);
}

/** The case's weights as jax arrays, converted to NCHW conventions. */
function weightsOf(c: ModelCase): any[][] {
  const np = jax.numpy;
  const flat = flattenedFrom(c.spec);
  return c.spec.layers.map((l, i) =>
    c.weights[i]!.map((w, j) => {
      const hwc = flat.get(i);
      const v =
        l.kind === 'conv' && j === 0
          ? hwioToOihw(w)
          : l.kind === 'dense' && j === 0 && hwc && hwc.length === 3
            ? nchwFlattenKernel(w, hwc)
            : w;
      return np.array(v.data).reshape([...v.shape]);
    }),
  );
}

function inputOf(c: ModelCase): any {
  const np = jax.numpy;
  if (c.spec.inputDtype === 'i32') return np.array(c.x.data, { dtype: np.int32 }).reshape([...c.x.shape]);
  const x = nchwInput(c);
  return np.array(x.data).reshape(x.shape);
}

function matmulRunner(c: MatmulCase): Runner {
  const np = jax.numpy;
  const f = jax.jit((a: any, b: any) => np.matmul(a, b));
  const a = np.array(c.a.data).reshape([c.n, c.n]);
  const b = np.array(c.b.data).reshape([c.n, c.n]);
  return {
    run: () => f(a.ref, b.ref).data(),
    dispose: () => {
      a.dispose();
      b.dispose();
    },
  };
}

function inferRunner(c: ModelCase): Runner {
  const w = weightsOf(c);
  const x = inputOf(c);
  const f = jax.jit((ws: any, xs: any) => jax.nn.softmax(forward(c.spec.layers, ws, xs), -1));
  return {
    run: () => f(jax.tree.ref(w), x.ref).data(),
    dispose: () => {
      jax.tree.dispose(w);
      x.dispose();
    },
  };
}

/** One jitted step: loss and gradients, then Adam (Keras' epsilon) on every weight. */
function trainRunner(c: ModelCase): Runner {
  const { numpy: np, nn, tree } = jax;
  let w = weightsOf(c);
  let m = tree.map((a: any) => np.zerosLike(a.ref), w);
  let v = tree.map((a: any) => np.zerosLike(a.ref), w);
  const x = inputOf(c);
  const y = nn.oneHot(np.array(c.labels!.data, { dtype: np.int32 }), c.spec.classes);
  const lossOf = (ws: any, xs: any, ys: any): any =>
    nn
      .logSoftmax(forward(c.spec.layers, ws, xs), -1)
      .mul(ys)
      .sum()
      .mul(-1 / c.batch);
  const step = jax.jit((ws: any, ms: any, vs: any, xs: any, ys: any, lrt: any) => {
    const [loss, g] = jax.valueAndGrad(lossOf)(tree.ref(ws), xs, ys);
    const m2 = tree.map((mi: any, gi: any) => mi.mul(ADAM.beta1).add(gi.mul(1 - ADAM.beta1)), ms, tree.ref(g));
    const v2 = tree.map((vi: any, gi: any) => vi.mul(ADAM.beta2).add(gi.ref.mul(gi).mul(1 - ADAM.beta2)), vs, g);
    const w2 = tree.map(
      (wi: any, mi: any, vi: any) => wi.sub(mi.mul(lrt.ref).div(np.sqrt(vi).add(ADAM.eps))),
      ws,
      tree.ref(m2),
      tree.ref(v2),
    );
    lrt.dispose();
    return [loss, w2, m2, v2];
  });
  let t = 0;
  return {
    run: async () => {
      t++;
      const lrt = (ADAM.lr * Math.sqrt(1 - ADAM.beta2 ** t)) / (1 - ADAM.beta1 ** t);
      const [loss, w2, m2, v2] = step(w, m, v, x.ref, y.ref, np.array(lrt));
      [w, m, v] = [w2, m2, v2];
      return loss.data();
    },
    dispose: () => {
      tree.dispose([w, m, v]);
      x.dispose();
      y.dispose();
    },
  };
}

export const jaxPeer: Impl = {
  name: 'jax-js',
  threads: 1,
  threaded: () => 'jax-js: its wasm backend starts its thread pool only with a global Worker, which Node lacks',
  async load() {
    jax = await importPeer('@jax-js/jax');
    if (hasWorker()) throw new Error('jax-js: a global Worker exists, its wasm backend would use several threads');
    const devices: string[] = await jax.init('wasm');
    if (!devices.includes('wasm')) throw new Error(`jax-js: no wasm device (got ${devices.join(', ')})`);
    jax.defaultDevice('wasm');
  },
  async prepare(c: Case): Promise<Prepared> {
    // jax-js made its memory unshared at init (no Worker then), but its code generator asks again on
    // every compile: a Worker that appeared since (Emscripten's Node glue of onnxruntime-web sets
    // global.Worker; bench/peers/ort.ts undoes it) makes modules import a shared memory with a maximum,
    // and instantiation fails with "memory import 0 has no maximum limit".
    if (hasWorker())
      throw new Error(
        'jax-js: a global Worker appeared after jax-js initialized (another peer set it); its modules would import a shared memory and fail to instantiate',
      );
    return inProcess(c.kind === 'matmul' ? matmulRunner(c) : c.kind === 'infer' ? inferRunner(c) : trainRunner(c));
  },
};
