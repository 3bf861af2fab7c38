// Every seed model builds (inference and training traces), verifies, and runs on the interpreter
// from its initial params.
import { describe, expect, test } from 'vitest';
import { finishTraced, inferGraph, loadModels, trace, type Model } from '../../compiler/index.ts';
import type { Graph } from '../../ir/graph.ts';
import { initParams } from '../../ir/init.ts';
import { interpret } from '../../ir/interpret.ts';
import { sizeOf, tensor, type Tensor as Data, type TensorType } from '../../ir/types.ts';
import { verify } from '../../ir/verify.ts';
import { rng } from '../grad/check-vjp.ts';

const load = async (file: string): Promise<Record<string, Model>> =>
  loadModels(new URL(`../../examples/${file}`, import.meta.url).pathname);

/** Deterministic data: uniform [-1, 1) floats, i32 ids in [0, high). */
function feed(g: Graph, high: Record<string, number>, seed = 3): Record<string, Data> {
  const next = rng(seed);
  const make = (name: string, t: TensorType): Data =>
    tensor(
      t.dtype,
      t.shape,
      Array.from({ length: sizeOf(t.shape) }, () =>
        t.dtype === 'i32' ? Math.floor(next() * (high[name] ?? 2)) : next() * 2 - 1,
      ),
    );
  return Object.fromEntries(g.inputs.map((i) => [i.name, make(i.name, i.type)]));
}

function runChecked(g: Graph, high: Record<string, number> = {}) {
  verify(g);
  const r = interpret(g, feed(g, high), initParams(g));
  for (const [name, t] of Object.entries(r.outputs)) {
    expect(t.data.every(Number.isFinite), `output ${name} is finite`).toBe(true);
  }
  return r;
}

/** The training-mode graph with batch 2 (to keep the interpreter quick): loss, metrics, state updates. */
const trainGraph = (m: Model, batch = 2): Graph => finishTraced(trace(m, { mode: 'train', batch }));

describe('seed models', () => {
  test('xor: 2-4-1 sigmoid MLP', async () => {
    const m = (await load('xor.ts')).xor!;
    const g = inferGraph(m);
    expect(g.params.map((p) => `${p.name.replace(/_\d+/, '')}:${p.type.shape.join('x')}`)).toEqual([
      'dense/kernel:2x4',
      'dense/bias:4',
      'dense/kernel:4x1',
      'dense/bias:1',
    ]);
    const y = runChecked(g).outputs.y!;
    expect(y.type.shape).toEqual([4, 1]);
    expect(y.data.every((v) => v > 0 && v < 1)).toBe(true);
    const loss = runChecked(trainGraph(m, 4)).outputs.loss!;
    expect(loss.data[0]).toBeGreaterThan(0);
  });

  test('mnist-cnn: shapes of the Keras convnet, 93,322 params', async () => {
    const m = (await load('mnist-cnn.ts')).mnist_cnn!;
    const g = inferGraph(m, 2);
    expect(g.params.reduce((n, p) => n + sizeOf(p.type.shape), 0)).toBe(93322);
    const y = runChecked(g).outputs.y!;
    expect(y.type.shape).toEqual([2, 10]);
    for (let b = 0; b < 2; b++)
      expect(Array.from(y.data.slice(b * 10, b * 10 + 10)).reduce((a, c) => a + c)).toBeCloseTo(1, 5);
    const r = runChecked(trainGraph(m), { y: 10 });
    expect(r.outputs.loss!.data[0]).toBeGreaterThan(0);
    expect(Object.keys(r.outputs)).toEqual(['y', 'loss', 'accuracy']);
  });

  for (const [file, name, params] of [
    ['text-lstm.ts', 'text_lstm', 640000 + 33024 + 1290],
    ['text-gru.ts', 'text_gru', 640000 + 24960 + 1290],
  ] as const) {
    test(`${file}: embedding, a recurrent layer pooled over time, ${params} params`, async () => {
      const m = (await load(file))[name]!;
      const g = inferGraph(m, 2);
      expect(g.params.reduce((n, p) => n + sizeOf(p.type.shape), 0)).toBe(params);
      const y = runChecked(g, { x: 10000 }).outputs.y!;
      expect(y.type.shape).toEqual([2, 10]);
      expect(runChecked(trainGraph(m), { x: 10000, y: 10 }).outputs.loss!.data[0]).toBeGreaterThan(0);
    }, 120_000);
  }

  test('text-classifier.ts poolTokens: max and sum over the tokens, the padding (id 0) left out', async () => {
    const { poolTokens } = await import('../../examples/text-classifier.ts');
    const { defineModel } = await import('../../compiler/index.ts');
    const m = defineModel({
      name: 'pool',
      batch: 2,
      inputs: { h: { dtype: 'f32', shape: [3, 2] }, ids: { dtype: 'i32', shape: [3] } },
      forward: ({ h, ids }) => poolTokens(h!, ids!),
    });
    // padding in front holds the largest values, so a max or sum that read it would show
    const h = tensor('f32', [2, 3, 2], [9, 9, -1, 2, -3, -4, /**/ 9, 9, 9, 9, -5, 0.5]);
    const ids = tensor('i32', [2, 3], [0, 7, 8, /**/ 0, 0, 4]);
    const y = interpret(inferGraph(m), { h, ids }, {}).outputs.y!;
    expect(y.type.shape).toEqual([2, 4]);
    expect([...y.data]).toEqual([-1, 2, -4, -2, /**/ -5, 0.5, -5, 0.5]);
  });

  test('gan: generator images, and the two training steps with their own trainable params', async () => {
    const all = await load('gan.ts');
    const gen = inferGraph(all.gan_generator!, 1);
    const img = runChecked(gen).outputs.y!;
    expect(img.type.shape).toEqual([1, 28, 28, 1]);
    expect(img.data.every((v) => v >= -1 && v <= 1)).toBe(true);

    const d = trace(all.gan_discriminator_step!, { mode: 'train', batch: 1 });
    expect(d.trainable.map((p) => p.name.replace(/_\d+/, ''))).toEqual([
      'conv2d/kernel',
      'conv2d/bias',
      'conv2d/kernel',
      'batch_normalization/gamma',
      'batch_normalization/beta',
      'conv2d/kernel',
      'batch_normalization/gamma',
      'batch_normalization/beta',
      'dense/kernel',
      'dense/bias',
    ]);
    // BatchNorm statistics: the discriminator's two layers and the generator's three (2 each)
    expect(d.stateUpdates.length).toBe(10);
    expect(runChecked(finishTraced(d)).outputs.loss!.data[0]).toBeGreaterThan(0);

    const s = trace(all.gan_generator_step!, { mode: 'train', batch: 1 });
    expect(s.trainable.map((p) => p.name.replace(/_\d+/, ''))).toEqual([
      'dense/kernel',
      'batch_normalization/gamma',
      'batch_normalization/beta',
      'conv2d_transpose/kernel',
      'batch_normalization/gamma',
      'batch_normalization/beta',
      'conv2d_transpose/kernel',
      'batch_normalization/gamma',
      'batch_normalization/beta',
      'conv2d_transpose/kernel',
    ]);
    expect(runChecked(finishTraced(s)).outputs.loss!.data[0]).toBeGreaterThan(0);
  }, 120_000);
});
