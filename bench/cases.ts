// The suites: their cases and each case's seeded inputs, the same for every implementation in a run.
import { CNN, LSTM_TEXT, MLP, integers, makeWeights, rng, uniform, type ModelSpec, type Weights } from './models.ts';

export interface Tensor {
  readonly shape: readonly number[];
  readonly data: Float32Array | Int32Array;
}

export interface MatmulCase {
  readonly kind: 'matmul';
  readonly suite: string;
  readonly name: string;
  readonly n: number;
  readonly a: Tensor;
  readonly b: Tensor;
  readonly flops: number;
}

export interface ModelCase {
  readonly kind: 'infer' | 'train';
  readonly suite: string;
  readonly name: string;
  readonly spec: ModelSpec;
  readonly batch: number;
  readonly weights: Weights;
  /** [batch, ...spec.input] */
  readonly x: Tensor;
  /** train only: class ids [batch]. */
  readonly labels?: Tensor;
}

export type Case = MatmulCase | ModelCase;

/** Adam's settings in every training case (Keras' defaults). */
export const ADAM = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-7 } as const;

export const SUITES = ['matmul', 'mlp-infer', 'cnn-infer', 'cnn-train', 'lstm-train'] as const;
export type Suite = (typeof SUITES)[number];

function matmulCase(n: number, seed: number): MatmulCase {
  const next = rng(seed);
  return {
    kind: 'matmul',
    suite: 'matmul',
    name: String(n),
    n,
    flops: 2 * n ** 3,
    a: { shape: [n, n], data: uniform(next, n * n, -1, 1) },
    b: { shape: [n, n], data: uniform(next, n * n, -1, 1) },
  };
}

function modelCase(suite: string, kind: 'infer' | 'train', spec: ModelSpec, batch: number, seed: number): ModelCase {
  const next = rng(seed + 1);
  const n = batch * spec.input.reduce((a, b) => a * b, 1);
  const vocab = spec.layers[0]?.kind === 'embedding' ? spec.layers[0].vocab : 0;
  const x: Tensor = {
    shape: [batch, ...spec.input],
    data: spec.inputDtype === 'i32' ? integers(next, n, vocab) : uniform(next, n, 0, 1),
  };
  const labels: Tensor | undefined =
    kind === 'train' ? { shape: [batch], data: integers(next, batch, spec.classes) } : undefined;
  return {
    kind,
    suite,
    name: `batch ${batch}`,
    spec,
    batch,
    weights: makeWeights(spec, seed),
    x,
    ...(labels ? { labels } : {}),
  };
}

/** The cases of a suite, built from `seed` (inputs and weights). */
export function casesOf(suite: Suite, seed: number): Case[] {
  switch (suite) {
    case 'matmul':
      return [256, 512, 1024].map((n) => matmulCase(n, seed + n));
    case 'mlp-infer':
      return [1, 64].map((b) => modelCase(suite, 'infer', MLP, b, seed + b));
    case 'cnn-infer':
      return [1, 64].map((b) => modelCase(suite, 'infer', CNN, b, seed + b));
    case 'cnn-train':
      return [modelCase(suite, 'train', CNN, 64, seed)];
    case 'lstm-train':
      return [{ ...modelCase(suite, 'train', LSTM_TEXT, 32, seed), name: 'batch 32, seq 50' }];
  }
}
