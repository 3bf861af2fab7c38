// The benchmarked models, described once as layer lists that every implementation builds, and
// their weights, drawn from one seeded generator in Keras' layouts (dense [in, out], conv HWIO,
// LSTM kernel [in, 4u] / recurrent [u, 4u] with gates i, f, c, o). Peers with other layouts
// (PyTorch, ONNX: OIHW convs, NCHW flatten) convert from these with the helpers at the end.

export type Layer =
  | { readonly kind: 'dense'; readonly units: number; readonly act: 'relu' | 'softmax' | 'linear' }
  | { readonly kind: 'conv'; readonly filters: number; readonly size: number; readonly act: 'relu' }
  | { readonly kind: 'maxpool'; readonly size: number }
  | { readonly kind: 'flatten' }
  | { readonly kind: 'embedding'; readonly vocab: number; readonly dim: number }
  | { readonly kind: 'lstm'; readonly units: number; readonly returnSequences: boolean };

export interface ModelSpec {
  readonly name: string;
  /** Per example, without the batch axis (NHWC images, token ids). */
  readonly input: readonly number[];
  readonly inputDtype: 'f32' | 'i32';
  readonly layers: readonly Layer[];
  readonly classes: number;
}

/** 784-256-128-10 relu MLP, softmax output. */
export const MLP: ModelSpec = {
  name: 'mlp',
  input: [784],
  inputDtype: 'f32',
  classes: 10,
  layers: [
    { kind: 'dense', units: 256, act: 'relu' },
    { kind: 'dense', units: 128, act: 'relu' },
    { kind: 'dense', units: 10, act: 'softmax' },
  ],
};

/** The MNIST CNN of examples/mnist-cnn.ts. */
export const CNN: ModelSpec = {
  name: 'cnn',
  input: [28, 28, 1],
  inputDtype: 'f32',
  classes: 10,
  layers: [
    { kind: 'conv', filters: 32, size: 3, act: 'relu' },
    { kind: 'maxpool', size: 2 },
    { kind: 'conv', filters: 64, size: 3, act: 'relu' },
    { kind: 'maxpool', size: 2 },
    { kind: 'conv', filters: 64, size: 3, act: 'relu' },
    { kind: 'flatten' },
    { kind: 'dense', units: 64, act: 'relu' },
    { kind: 'dense', units: 10, act: 'softmax' },
  ],
};

/** The text classifier of examples/text-lstm.ts, sequences of 50 tokens. */
export const LSTM_TEXT: ModelSpec = {
  name: 'text-lstm',
  input: [50],
  inputDtype: 'i32',
  classes: 10,
  layers: [
    { kind: 'embedding', vocab: 10000, dim: 64 },
    { kind: 'lstm', units: 64, returnSequences: true },
    { kind: 'lstm', units: 32, returnSequences: false },
    { kind: 'dense', units: 64, act: 'relu' },
    { kind: 'dense', units: 10, act: 'softmax' },
  ],
};

/** A named weight, row-major. */
export interface Weight {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** Weights of layer i: dense/conv: kernel, bias; embedding: table; lstm: kernel, recurrent, bias. */
export type Weights = readonly (readonly Weight[])[];

/** mulberry32: a tiny seeded generator, uniform in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function uniform(next: () => number, n: number, lo: number, hi: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * next();
  return out;
}

export function integers(next: () => number, n: number, below: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(next() * below);
  return out;
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** The per-example shape after each layer. */
export function shapes(spec: ModelSpec): number[][] {
  const out: number[][] = [];
  let s = [...spec.input];
  for (const l of spec.layers) {
    switch (l.kind) {
      case 'dense':
        s = [...s.slice(0, -1), l.units];
        break;
      case 'conv':
        s = [s[0]! - l.size + 1, s[1]! - l.size + 1, l.filters];
        break;
      case 'maxpool':
        s = [Math.floor(s[0]! / l.size), Math.floor(s[1]! / l.size), s[2]!];
        break;
      case 'flatten':
        s = [size(s)];
        break;
      case 'embedding':
        s = [...s, l.dim];
        break;
      case 'lstm':
        s = l.returnSequences ? [s[0]!, l.units] : [l.units];
        break;
    }
    out.push(s);
  }
  return out;
}

/** Glorot-uniform kernels, small non-zero biases (so a bias bug shows in the cross-check). */
export function makeWeights(spec: ModelSpec, seed: number): Weights {
  const next = rng(seed);
  const glorot = (name: string, shape: number[], fanIn: number, fanOut: number): Weight => {
    const lim = Math.sqrt(6 / (fanIn + fanOut));
    return { name, shape, data: uniform(next, size(shape), -lim, lim) };
  };
  const bias = (name: string, n: number): Weight => ({ name, shape: [n], data: uniform(next, n, -0.05, 0.05) });
  const outs = shapes(spec);
  return spec.layers.map((l, i) => {
    const inShape = i === 0 ? spec.input : outs[i - 1]!;
    const cin = inShape[inShape.length - 1]!;
    const p = `l${i}_${l.kind}`;
    switch (l.kind) {
      case 'dense':
        return [glorot(`${p}_kernel`, [cin, l.units], cin, l.units), bias(`${p}_bias`, l.units)];
      case 'conv': {
        const k2 = l.size * l.size;
        return [
          glorot(`${p}_kernel`, [l.size, l.size, cin, l.filters], k2 * cin, k2 * l.filters),
          bias(`${p}_bias`, l.filters),
        ];
      }
      case 'embedding':
        return [{ name: `${p}_table`, shape: [l.vocab, l.dim], data: uniform(next, l.vocab * l.dim, -0.05, 0.05) }];
      case 'lstm':
        return [
          glorot(`${p}_kernel`, [cin, 4 * l.units], cin, 4 * l.units),
          glorot(`${p}_recurrent`, [l.units, 4 * l.units], l.units, 4 * l.units),
          bias(`${p}_bias`, 4 * l.units),
        ];
      default:
        return [];
    }
  });
}

/** Row-major transpose of an n-d array by `perm` (out axis i = in axis perm[i]). */
export function transpose(
  data: Float32Array,
  shape: readonly number[],
  perm: readonly number[],
): { data: Float32Array; shape: number[] } {
  const outShape = perm.map((p) => shape[p]!);
  const inStrides = shape.map((_, i) => size(shape.slice(i + 1)));
  const out = new Float32Array(data.length);
  const idx = new Array<number>(shape.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let a = 0; a < perm.length; a++) src += idx[a]! * inStrides[perm[a]!]!;
    out[o] = data[src]!;
    for (let a = perm.length - 1; a >= 0; a--) {
      if (++idx[a]! < outShape[a]!) break;
      idx[a] = 0;
    }
  }
  return { data: out, shape: outShape };
}

/** HWIO conv kernel -> OIHW (PyTorch, ONNX, jax-js). */
export const hwioToOihw = (w: Weight): Weight => ({ name: w.name, ...transpose(w.data, w.shape, [3, 2, 0, 1]) });

/** A dense kernel that follows a flatten of an NHWC [h, w, c] map, re-ordered for NCHW flatten
 *  (index c*h*w + y*w + x), so NCHW peers compute the same function without a transpose. */
export function nchwFlattenKernel(w: Weight, hwc: readonly number[]): Weight {
  const [h, wd, c] = hwc as [number, number, number];
  const units = w.shape[1]!;
  const out = new Float32Array(w.data.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < wd; x++) {
      for (let ch = 0; ch < c; ch++) {
        const from = ((y * wd + x) * c + ch) * units;
        out.set(w.data.subarray(from, from + units), ((ch * h + y) * wd + x) * units);
      }
    }
  }
  return { name: w.name, shape: w.shape, data: out };
}

/** The input shape of the layer that follows each flatten (for nchwFlattenKernel). */
export function flattenedFrom(spec: ModelSpec): Map<number, readonly number[]> {
  const outs = shapes(spec);
  const m = new Map<number, readonly number[]>();
  spec.layers.forEach((l, i) => {
    if (l.kind === 'flatten') m.set(i + 1, i === 0 ? spec.input : outs[i - 1]!);
  });
  return m;
}
