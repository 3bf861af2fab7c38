// Layer outputs against PyTorch (test/fixtures/layers-*.json) and hand-computed values.
import { describe, expect, test } from 'vitest';
import { inferGraph, nn } from '../../compiler/index.ts';
import { expectClose, f32, fixture, fx, i32, infer, model1, type FixtureTensor } from './helpers.ts';

type Case = Record<string, FixtureTensor & Record<string, unknown>>;

describe('dense', () => {
  test('matches PyTorch x·W + b with relu', () => {
    const c = fixture('dense').dense_relu!;
    const m = model1(c.x!.shape, nn.dense(5, { activation: 'relu', name: 'fc' }));
    expectClose(infer(m, fx(c.x!), { 'fc/kernel': fx(c.kernel!), 'fc/bias': fx(c.bias!) }).data, c.y!.data);
  });

  test('applies to the last axis of a rank-3 input, without bias', () => {
    const m = model1([1, 2, 2], nn.dense(1, { useBias: false, name: 'd3' }));
    const y = infer(m, f32([1, 2, 2], [1, 2, 3, 4]), { 'd3/kernel': f32([2, 1], [10, 1]) });
    expect(y.type.shape).toEqual([1, 2, 1]);
    expectClose(y.data, [12, 34]);
  });

  test('names params Keras-style and keeps one param per layer across calls', () => {
    const shared = nn.dense(2);
    const g = inferGraph(model1([1, 2], ({ x }) => shared(shared(x!))));
    expect(g.params.map((p) => p.name)).toEqual([`${shared.name}/kernel`, `${shared.name}/bias`]);
    expect(shared.name).toMatch(/^dense_\d+$/);
  });
});

describe('convolution and pooling', () => {
  interface Config {
    filters: number;
    kernelSize: [number, number];
    strides: number;
    padding: 'same' | 'valid';
    dilation: number;
    activation: 'relu' | 'linear';
  }
  const conv = fixture('conv') as unknown as Record<string, Case & { config: Config }>;
  for (const name of ['conv2d_same_s2_relu', 'conv2d_valid_dilated', 'conv2d_same_s1']) {
    test(`${name} matches PyTorch`, () => {
      const c = conv[name]!,
        o = c.config;
      const layer = nn.conv2d(o.filters, o.kernelSize, {
        strides: o.strides,
        padding: o.padding,
        dilation: o.dilation,
        activation: o.activation,
        name: 'c',
      });
      const y = infer(model1(c.x!.shape, layer), fx(c.x!), { 'c/kernel': fx(c.kernel!), 'c/bias': fx(c.bias!) });
      expect(y.type.shape).toEqual(c.y!.shape);
      expectClose(y.data, c.y!.data);
    });
  }
  for (const name of ['conv2d_transpose_same_s2', 'conv2d_transpose_valid_s2']) {
    test(`${name} matches PyTorch with Keras' output size`, () => {
      const c = conv[name]!,
        o = c.config;
      const layer = nn.conv2dTranspose(o.filters, o.kernelSize, { strides: o.strides, padding: o.padding, name: 'ct' });
      const y = infer(model1(c.x!.shape, layer), fx(c.x!), { 'ct/kernel': fx(c.kernel!), 'ct/bias': fx(c.bias!) });
      expect(y.type.shape).toEqual(c.y!.shape);
      expectClose(y.data, c.y!.data);
    });
  }
  test('max and average pooling match PyTorch', () => {
    const mp = conv.max_pool_2!,
      ap = conv.avg_pool_3_s2!;
    expectClose(infer(model1(mp.x!.shape, nn.maxPool2d(2)), fx(mp.x!)).data, mp.y!.data);
    expectClose(infer(model1(ap.x!.shape, nn.avgPool2d(3, { strides: 2 })), fx(ap.x!)).data, ap.y!.data);
  });
  test("average pooling 'same' averages the in-bounds values only", () => {
    // 3x3 image 1..9, 2x2 windows, stride 2, 'same': pads one row/column at the bottom/right
    const y = infer(
      model1([1, 3, 3, 1], nn.avgPool2d(2, { padding: 'same' })),
      f32([1, 3, 3, 1], [1, 2, 3, 4, 5, 6, 7, 8, 9]),
    );
    expect(y.type.shape).toEqual([1, 2, 2, 1]);
    expectClose(y.data, [3, 4.5, 7.5, 9]);
  });
});

describe('shape layers, embedding, activations', () => {
  test('flatten and reshape keep the batch axis', () => {
    const m = model1([2, 2, 3], nn.sequential([nn.flatten(), nn.reshape([3, 2])]));
    const y = infer(m, f32([2, 2, 3], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]));
    expect(y.type.shape).toEqual([2, 3, 2]);
    expectClose(y.data, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  test('embedding looks up rows of its table', () => {
    const m = model1([2, 2], nn.embedding(3, 2, { name: 'emb' }), 'i32');
    const y = infer(m, i32([2, 2], [2, 0, 1, 2]), { 'emb/embeddings': f32([3, 2], [0, 1, 10, 11, 20, 21]) });
    expect(y.type.shape).toEqual([2, 2, 2]);
    expectClose(y.data, [20, 21, 0, 1, 10, 11, 20, 21]);
  });

  test('activations by name and the LeakyReLU layer (slope 0.3)', () => {
    const x = f32([1, 3], [-1, 0, 2]);
    expectClose(infer(model1([1, 3], nn.activation('relu')), x).data, [0, 0, 2]);
    expectClose(infer(model1([1, 3], nn.activation('tanh')), x).data, [Math.tanh(-1), 0, Math.tanh(2)]);
    expectClose(infer(model1([1, 3], nn.activation('sigmoid')), x).data, [
      1 / (1 + Math.E),
      0.5,
      1 / (1 + Math.exp(-2)),
    ]);
    const z = Math.exp(-1) + 1 + Math.exp(2);
    expectClose(infer(model1([1, 3], nn.activation('softmax')), x).data, [Math.exp(-1) / z, 1 / z, Math.exp(2) / z]);
    expectClose(infer(model1([1, 3], nn.activation('linear')), x).data, [-1, 0, 2]);
    expectClose(infer(model1([1, 3], nn.leakyRelu()), x).data, [-0.3, 0, 2]);
  });
});
