// The layers are compositions of ops, so their gradients come from the ops' VJP rules: check each
// layer's parameter gradients against central differences (float64 interpreter).
import { describe, expect, test } from 'vitest';
import { defineModel, gradientsGraph, k, nn, optimizers, type Layer } from '../../compiler/index.ts';
import { initParams } from '../../ir/init.ts';
import { interpret } from '../../ir/interpret.ts';
import type { DType, Tensor as Data } from '../../ir/types.ts';
import { randomTensor, rng } from '../grad/check-vjp.ts';

/** loss = sum(layer(x) * r) for a fixed random r; returns [analytic, numeric] directional derivatives per param. */
function layerGradients(
  layer: Layer,
  shape: number[],
  dtype: DType = 'f32',
  high = 1,
): Record<string, [number, number]> {
  const next = rng(11);
  const m = defineModel({
    name: 'grad',
    batch: shape[0]!,
    inputs: { x: { dtype, shape: shape.slice(1) } },
    forward: layer,
    train: {
      loss: ({ y }) =>
        y!
          .mul(
            k.constant(
              Array.from({ length: y!.shape.reduce((a, b) => a * b) }, () => next() * 2 - 1),
              y!.shape,
            ),
          )
          .sum(),
      optimizer: optimizers.sgd(),
    },
  });
  const g = gradientsGraph(m);
  const x = dtype === 'i32' ? randomTensor({ dtype, shape }, next, 0, high) : randomTensor({ dtype, shape }, next);
  const params: Record<string, Data> = {};
  for (const [name, t] of Object.entries(initParams(g)))
    params[name] = t.type.dtype === 'f32' ? { type: t.type, data: Float64Array.from(t.data) } : t;
  const run = (ps: Record<string, Data>) => interpret(g, { x }, ps, { float64: true }).outputs;
  const base = run(params);
  const out: Record<string, [number, number]> = {};
  const eps = 1e-5;
  for (const p of g.params.filter((q) => base[`grad/${q.name}`])) {
    const d = randomTensor(p.type, next);
    const shifted = (s: number): number => {
      const v = Float64Array.from(params[p.name]!.data, (w, i) => w + s * eps * d.data[i]!);
      return run({ ...params, [p.name]: { type: p.type, data: v } }).loss!.data[0]!;
    };
    const analytic = Array.from(base[`grad/${p.name}`]!.data).reduce((a, gi, i) => a + gi * d.data[i]!, 0);
    out[p.name] = [analytic, (shifted(1) - shifted(-1)) / (2 * eps)];
  }
  return out;
}

function expectGradients(r: Record<string, [number, number]>, count: number): void {
  expect(Object.keys(r).length).toBe(count);
  for (const [name, [a, n]] of Object.entries(r))
    expect(Math.abs(a - n), `${name}: ${a} vs ${n}`).toBeLessThan(1e-6 * (1 + Math.abs(n)));
}

describe('layer gradients match finite differences', () => {
  test('dense, conv2d, conv2dTranspose, pooling', () => {
    expectGradients(layerGradients(nn.dense(3, { activation: 'tanh' }), [2, 4]), 2);
    expectGradients(
      layerGradients(
        nn.sequential([nn.conv2d(2, 3, { strides: 2, padding: 'same', activation: 'sigmoid' }), nn.maxPool2d(2)]),
        [1, 5, 5, 2],
      ),
      2,
    );
    expectGradients(
      layerGradients(
        nn.sequential([nn.conv2dTranspose(2, 3, { strides: 2, padding: 'same' }), nn.avgPool2d(2)]),
        [1, 3, 3, 2],
      ),
      2,
    );
  });

  test('embedding, LSTM, GRU, SimpleRNN', () => {
    expectGradients(
      layerGradients(
        nn.sequential([nn.embedding(7, 3), nn.lstm(4, { returnSequences: true }), nn.gru(3)]),
        [2, 4],
        'i32',
        7,
      ),
      1 + 3 + 3,
    );
    expectGradients(layerGradients(nn.simpleRNN(3), [2, 3, 2]), 3);
    expectGradients(
      layerGradients(
        nn.gru(3, { resetAfter: false, returnSequences: true, biasInitializer: 'glorotUniform' }),
        [2, 3, 2],
      ),
      3,
    );
  }, 60_000);

  test('batchNorm in training, dropout and leakyRelu', () => {
    expectGradients(
      layerGradients(nn.sequential([nn.batchNorm(), nn.leakyRelu(), nn.dropout(0.3), nn.dense(2)]), [4, 3]),
      4,
    );
  });
});
