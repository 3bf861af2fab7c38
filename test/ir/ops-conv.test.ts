import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { makeNode } from '../../ir/builder.ts';
import type { Attrs, Input } from '../../ir/graph.ts';
import { resolvePadding } from '../../ir/ops/conv.ts';
import { formatType, tensor, tensorType, type Shape, type Tensor } from '../../ir/types.ts';
import { randomTensor, rng } from '../grad/check-vjp.ts';
import { f32, runOp, values } from './run-op.ts';

const inp = (shape: Shape): Input => ({ kind: 'input', name: 'v', type: tensorType('f32', shape) });
const typeOf = (op: string, a: Shape, b: Shape, attrs: Attrs = {}): string =>
  formatType(makeNode(op, [inp(a), inp(b)], attrs).type);

const x33 = f32([1, 3, 3, 1]); // [[1,2,3],[4,5,6],[7,8,9]]
const w22 = f32([2, 2, 1, 1]); // [[1,2],[3,4]]

describe('resolvePadding', () => {
  it('pads nothing for valid', () => {
    expect(resolvePadding('valid', [5, 7], [3, 3], [2, 2], [1, 1])).toEqual([0, 0, 0, 0]);
  });

  it("follows TensorFlow's same rule, the extra pixel at the bottom / right", () => {
    expect(resolvePadding('same', [3, 3], [3, 3], [1, 1], [1, 1])).toEqual([1, 1, 1, 1]);
    expect(resolvePadding('same', [4, 4], [2, 2], [1, 1], [1, 1])).toEqual([0, 1, 0, 1]);
    expect(resolvePadding('same', [5, 6], [3, 3], [2, 2], [1, 1])).toEqual([1, 1, 0, 1]);
    expect(resolvePadding('same', [5, 5], [3, 3], [1, 1], [2, 2])).toEqual([2, 2, 2, 2]);
    expect(resolvePadding('same', [5, 5], [1, 1], [2, 2], [1, 1])).toEqual([0, 0, 0, 0]);
  });

  it('gives conv2d an output of ceil(in / stride) with same padding', () => {
    for (const h of [1, 4, 5, 8]) {
      for (const k of [1, 2, 3, 4]) {
        for (const s of [1, 2, 3]) {
          for (const d of [1, 2]) {
            const pads = resolvePadding('same', [h, h + 1], [k, k], [s, s], [d, d]);
            const t = makeNode('conv2d', [inp([1, h, h + 1, 2]), inp([k, k, 2, 3])], {
              strides: [s, s],
              dilations: [d, d],
              pads,
            }).type;
            expect(t.shape).toEqual([1, Math.ceil(h / s), Math.ceil((h + 1) / s), 3]);
          }
        }
      }
    }
  });
});

describe('conv2d', () => {
  it('infers [N,OH,OW,F]', () => {
    expect(typeOf('conv2d', [2, 5, 5, 3], [3, 3, 3, 8])).toBe('f32[2,3,3,8]');
    expect(typeOf('conv2d', [2, 5, 6, 3], [3, 3, 3, 8], { strides: [2, 2], pads: [1, 1, 1, 1] })).toBe('f32[2,3,3,8]');
    expect(typeOf('conv2d', [1, 7, 7, 1], [3, 3, 1, 1], { dilations: [3, 2] })).toBe('f32[1,1,3,1]');
  });

  it('computes a valid 2x2 convolution', () => {
    expect(values(runOp('conv2d', [x33, w22]))).toEqual([37, 47, 67, 77]);
  });

  it('strides', () => {
    expect(values(runOp('conv2d', [x33, f32([1, 1, 1, 1], [2])], { strides: [2, 2] }))).toEqual([2, 6, 14, 18]);
  });

  it('dilates the kernel', () => {
    expect(values(runOp('conv2d', [x33, w22], { dilations: [2, 2] }))).toEqual([1 + 2 * 3 + 3 * 7 + 4 * 9]);
  });

  it('sums the neighbourhood with same padding', () => {
    const pads = resolvePadding('same', [3, 3], [3, 3], [1, 1], [1, 1]);
    const ones = f32([3, 3, 1, 1], new Array(9).fill(1));
    expect(values(runOp('conv2d', [x33, ones], { pads }))).toEqual([12, 21, 16, 27, 45, 33, 24, 39, 28]);
  });

  it('pads asymmetrically (top, bottom, left, right)', () => {
    const ones = f32([2, 2, 1, 1], [1, 1, 1, 1]);
    const y = runOp('conv2d', [x33, ones], { pads: [0, 1, 1, 0] });
    expect(y.type.shape).toEqual([1, 3, 3, 1]);
    expect(values(y)).toEqual([5, 12, 16, 11, 24, 28, 7, 15, 17]);
  });

  it('mixes channels and keeps batches apart', () => {
    const x = f32([2, 1, 1, 2], [1, 2, 10, 20]);
    const w = f32([1, 1, 2, 3], [1, 2, 3, 4, 5, 6]);
    expect(values(runOp('conv2d', [x, w]))).toEqual([9, 12, 15, 90, 120, 150]);
  });

  it('names the op, the shapes and the fix in its errors', () => {
    expect(() => typeOf('conv2d', [3, 4], [3, 3, 1, 1])).toThrow(
      'conv2d: input f32[3,4] has rank 2, expected rank 4 (NHWC)',
    );
    expect(() => typeOf('conv2d', [1, 5, 5, 1], [3, 3, 1])).toThrow(
      'conv2d: filter f32[3,3,1] has rank 3, expected rank 4 ([KH,KW,C,F])',
    );
    expect(() => typeOf('conv2d', [1, 5, 5, 3], [3, 3, 4, 8])).toThrow(
      'conv2d: input f32[1,5,5,3] has 3 channels but filter f32[3,3,4,8] expects 4',
    );
    expect(() => typeOf('conv2d', [1, 2, 2, 1], [3, 3, 1, 1])).toThrow(
      /conv2d: output would be empty \(0x0\): input f32\[1,2,2,1\].*filter f32\[3,3,1,1\].*add padding/,
    );
    expect(() => typeOf('conv2d', [1, 5, 5, 1], [3, 3, 1, 1], { dilations: [3, 1] })).toThrow(
      /K1001: conv2d: output would be empty \(-1x3\)/,
    );
    expect(() => typeOf('conv2d', [1, 5, 5, 1], [3, 3, 1, 1], { strides: [0, 1] })).toThrow(
      "K1003: conv2d: attribute 'strides' is [0,1], expected 2 integers >= 1",
    );
    expect(() => typeOf('conv2d', [1, 5, 5, 1], [3, 3, 1, 1], { pads: [1, 1] })).toThrow(
      /conv2d: attribute 'pads' is \[1,1\], expected 4 integers >= 0 \(top, bottom, left, right\)/,
    );
  });
});

describe('conv2d_input_grad (Conv2DTranspose)', () => {
  it('scatters each dy through the filter', () => {
    const dy = f32([1, 2, 2, 1]);
    expect(values(runOp('conv2d_input_grad', [dy, w22], { input_shape: [1, 3, 3, 1] }))).toEqual([
      1, 4, 4, 6, 20, 16, 9, 24, 16,
    ]);
  });

  it('uses input_shape to tell apart inputs that give the same strided output', () => {
    const dy = f32([1, 2, 2, 1]);
    const w = f32([1, 1, 1, 1], [10]);
    const dx = runOp('conv2d_input_grad', [dy, w], { input_shape: [1, 4, 4, 1], strides: [2, 2] });
    expect(values(dx)).toEqual([10, 0, 20, 0, 0, 0, 0, 0, 30, 0, 40, 0, 0, 0, 0, 0]);
    expect(runOp('conv2d_input_grad', [dy, w], { input_shape: [1, 3, 3, 1], strides: [2, 2] }).type.shape).toEqual([
      1, 3, 3, 1,
    ]);
  });

  it('rejects a dy that is not the conv2d output of input_shape', () => {
    expect(() => typeOf('conv2d_input_grad', [1, 3, 3, 1], [2, 2, 1, 1], { input_shape: [1, 3, 3, 1] })).toThrow(
      'conv2d_input_grad: dy f32[1,3,3,1] should have shape [1,2,2,1] (the conv2d output of input_shape [1,3,3,1] and filter f32[2,2,1,1])',
    );
    expect(() => typeOf('conv2d_input_grad', [1, 2, 2, 1], [2, 2, 1, 1], { input_shape: [1, 3, 3] })).toThrow(
      /K1003: conv2d_input_grad: attribute 'input_shape' is \[1,3,3\]/,
    );
  });
});

describe('conv2d_filter_grad', () => {
  it('correlates the input with dy', () => {
    const dy = f32([1, 2, 2, 1], [1, 0, 0, 1]);
    expect(values(runOp('conv2d_filter_grad', [x33, dy], { filter_shape: [2, 2, 1, 1] }))).toEqual([6, 8, 12, 14]);
  });

  it('rejects a dy of the wrong shape', () => {
    expect(() => typeOf('conv2d_filter_grad', [1, 3, 3, 2], [1, 2, 2, 4], { filter_shape: [2, 2, 2, 5] })).toThrow(
      'conv2d_filter_grad: dy f32[1,2,2,4] should have shape [1,2,2,5]',
    );
  });
});

describe('the three conv ops are one bilinear form', () => {
  const dot = (a: Tensor, b: Tensor): number => values(a).reduce((s, v, i) => s + v * b.data[i]!, 0);
  const cases: { x: Shape; w: Shape; attrs: Attrs }[] = [
    { x: [2, 6, 5, 3], w: [3, 2, 3, 4], attrs: {} },
    { x: [1, 7, 8, 2], w: [3, 3, 2, 2], attrs: { strides: [2, 3], dilations: [1, 2], pads: [1, 0, 2, 1] } },
    { x: [2, 5, 5, 1], w: [2, 3, 1, 3], attrs: { strides: [2, 2], pads: [0, 1, 1, 1] } },
  ];
  it('<conv2d(x, w), dy> = <x, input_grad(dy, w)> = <w, filter_grad(x, dy)>', () => {
    const next = rng(11);
    for (const { x: xs, w: ws, attrs } of cases) {
      const x = randomTensor(tensorType('f32', xs), next),
        w = randomTensor(tensorType('f32', ws), next);
      const y = runOp('conv2d', [x, w], attrs);
      const dy = randomTensor(y.type, next);
      const dx = runOp('conv2d_input_grad', [dy, w], { ...attrs, input_shape: xs });
      const dw = runOp('conv2d_filter_grad', [x, dy], { ...attrs, filter_shape: ws });
      expect(dot(x, dx)).toBeCloseTo(dot(y, dy), 3);
      expect(dot(w, dw)).toBeCloseTo(dot(y, dy), 3);
    }
  });
});

describe('PyTorch cross-check (test/fixtures/conv-torch.json, from scripts/make-conv-fixtures.py)', () => {
  interface Encoded {
    shape: number[];
    data: number[];
  }
  interface Case {
    name: string;
    op: string;
    attrs: Attrs;
    inputs: Encoded[];
    expected: Encoded;
  }
  const fixture = JSON.parse(readFileSync(new URL('../fixtures/conv-torch.json', import.meta.url), 'utf8')) as {
    cases: Case[];
  };

  it('covers conv2d, both gradient forms and pooling', () => {
    const ops = new Set(fixture.cases.map((c) => c.op));
    expect([...ops].sort()).toEqual([
      'avg_pool2d',
      'avg_pool2d_grad',
      'conv2d',
      'conv2d_filter_grad',
      'conv2d_input_grad',
      'max_pool2d',
      'max_pool2d_grad',
    ]);
  });

  for (const c of fixture.cases) {
    it(`${c.op}: ${c.name}`, () => {
      const y = runOp(
        c.op,
        c.inputs.map((t) => tensor('f32', t.shape, t.data)),
        c.attrs,
      );
      expect(y.type.shape).toEqual(c.expected.shape);
      const worst = Math.max(
        ...values(y).map((v, i) => Math.abs(v - c.expected.data[i]!) / Math.max(1, Math.abs(c.expected.data[i]!))),
      );
      expect(worst).toBeLessThan(1e-5);
    });
  }
});
