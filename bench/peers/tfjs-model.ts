// TensorFlow.js model code, the same for every tfjs peer: in Node (tfjs.ts: its wasm and cpu
// backends) and in the WebGPU bench page (webgpu-page.ts: its webgpu backend in Chromium). `tf` is
// the library the caller loaded. Fused matmul/conv ops, as tfjs-layers uses them.
/* eslint-disable @typescript-eslint/no-explicit-any */
import { ADAM, type Case, type ModelCase } from '../cases.ts';
import type { Layer, Weight } from '../models.ts';
import type { Runner } from './types.ts';

let tf: any;

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

/** A runner of case `c` on `lib` (@tensorflow/tfjs, its backend set). */
export function tfjsRunner(lib: any, c: Case): Runner {
  tf = lib;
  if (c.kind === 'matmul') return matmulRunner(c);
  return c.kind === 'infer' ? inferRunner(c) : trainRunner(c);
}
