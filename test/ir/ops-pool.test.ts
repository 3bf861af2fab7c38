import { describe, expect, it } from 'vitest';
import { makeNode } from '../../ir/builder.ts';
import type { Attrs, Input } from '../../ir/graph.ts';
import { formatType, tensorType, type Shape } from '../../ir/types.ts';
import { f32, runOp, values } from './run-op.ts';

const inp = (shape: Shape): Input => ({ kind: 'input', name: 'v', type: tensorType('f32', shape) });
const typeOf = (op: string, shapes: Shape[], attrs: Attrs): string =>
  formatType(makeNode(op, shapes.map(inp), attrs).type);

const x33 = f32([1, 3, 3, 1]); // [[1,2,3],[4,5,6],[7,8,9]]
const x44 = f32([1, 4, 4, 1]); // 1..16
const w2s1 = { window: [2, 2], strides: [1, 1] };
const w2s2 = { window: [2, 2], strides: [2, 2] };
const w3s2p1 = { window: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] };
const w2s2pBR = { window: [2, 2], strides: [2, 2], pads: [0, 1, 0, 1] };

describe('max_pool2d and avg_pool2d', () => {
  it('infer the pooled shape', () => {
    expect(typeOf('max_pool2d', [[2, 7, 6, 3]], w2s2)).toBe('f32[2,3,3,3]');
    expect(typeOf('avg_pool2d', [[2, 7, 6, 3]], { window: [3, 2], strides: [2, 1], pads: [1, 1, 0, 1] })).toBe(
      'f32[2,4,6,3]',
    );
  });

  it('pool overlapping windows', () => {
    expect(values(runOp('max_pool2d', [x33], w2s1))).toEqual([5, 6, 8, 9]);
    expect(values(runOp('avg_pool2d', [x33], w2s1))).toEqual([3, 4, 6, 7]);
  });

  it('stride', () => {
    expect(values(runOp('max_pool2d', [x44], w2s2))).toEqual([6, 8, 14, 16]);
    expect(values(runOp('avg_pool2d', [x44], w2s2))).toEqual([3.5, 5.5, 11.5, 13.5]);
  });

  it('ignore the padding: max over and mean of the in-bounds elements', () => {
    expect(values(runOp('max_pool2d', [x33], w3s2p1))).toEqual([5, 6, 8, 9]);
    expect(values(runOp('avg_pool2d', [x33], w3s2p1))).toEqual([3, 4, 6, 7]);
    const neg = f32([1, 3, 3, 1], [-1, -2, -3, -4, -5, -6, -7, -8, -9]);
    expect(values(runOp('max_pool2d', [neg], w3s2p1))).toEqual([-1, -2, -4, -5]);
  });

  it('pad asymmetrically (bottom / right only)', () => {
    expect(values(runOp('max_pool2d', [x33], w2s2pBR))).toEqual([5, 6, 8, 9]);
    expect(values(runOp('avg_pool2d', [x33], w2s2pBR))).toEqual([3, 4.5, 7.5, 9]);
  });

  it('pool each channel and batch on its own', () => {
    const x = f32([2, 2, 2, 2], [1, 10, 2, 20, 3, 30, 4, -40, 0, 0, 0, 0, 0, 0, 0, 8]);
    expect(values(runOp('max_pool2d', [x], w2s1))).toEqual([4, 30, 0, 8]);
    expect(values(runOp('avg_pool2d', [x], w2s1))).toEqual([2.5, 5, 0, 2]);
  });

  it('name the op, the shapes and the fix in their errors', () => {
    expect(() => typeOf('max_pool2d', [[4, 4]], w2s2)).toThrow(
      'max_pool2d: input f32[4,4] has rank 2, expected rank 4 (NHWC)',
    );
    expect(() => typeOf('avg_pool2d', [[1, 4, 4, 1]], { window: [2, 2], strides: [2, 2], pads: [0, 2, 0, 0] })).toThrow(
      'avg_pool2d: pads [0,2,0,0] must be smaller than the window [2,2]',
    );
    expect(() => typeOf('max_pool2d', [[1, 2, 2, 1]], { window: [3, 3], strides: [1, 1] })).toThrow(
      /K1001: max_pool2d: output would be empty \(0x0\): input f32\[1,2,2,1\]/,
    );
    expect(() => typeOf('max_pool2d', [[1, 4, 4, 1]], { window: [2, 2] })).toThrow(
      "max_pool2d: missing attribute 'strides'",
    );
    expect(() => typeOf('max_pool2d', [[1, 4, 4, 1]], { window: [2], strides: [1, 1] })).toThrow(
      "K1003: max_pool2d: attribute 'window' is [2], expected 2 integers >= 1",
    );
  });
});

describe('max_pool2d_grad', () => {
  it("sends each window's dy to its maximum, summing where windows overlap", () => {
    expect(values(runOp('max_pool2d_grad', [x33, f32([1, 2, 2, 1])], w2s1))).toEqual([0, 0, 0, 0, 1, 2, 0, 3, 4]);
  });

  it('breaks ties by the first maximal element in window order', () => {
    const x = f32([1, 3, 3, 1], [5, 5, 1, 5, 2, 0, 0, 0, 0]);
    expect(values(runOp('max_pool2d_grad', [x, f32([1, 2, 2, 1])], w2s1))).toEqual([1, 2, 0, 3, 4, 0, 0, 0, 0]);
  });

  it('never sends dy into the padding', () => {
    const neg = f32([1, 3, 3, 1], [-1, -2, -3, -4, -5, -6, -7, -8, -9]);
    expect(values(runOp('max_pool2d_grad', [neg, f32([1, 2, 2, 1])], w3s2p1))).toEqual([1, 2, 0, 3, 4, 0, 0, 0, 0]);
  });

  it('requires dy of the pooled shape', () => {
    expect(() =>
      typeOf(
        'max_pool2d_grad',
        [
          [1, 3, 3, 1],
          [1, 3, 3, 1],
        ],
        w2s1,
      ),
    ).toThrow('max_pool2d_grad: dy f32[1,3,3,1] should have shape [1,2,2,1] (the pooled shape of f32[1,3,3,1])');
  });
});

describe('avg_pool2d_grad', () => {
  it('shares each dy equally among its window', () => {
    const dx = runOp('avg_pool2d_grad', [f32([1, 2, 2, 1], [4, 8, 12, 16])], { ...w2s1, input_shape: [1, 3, 3, 1] });
    expect(values(dx)).toEqual([1, 3, 2, 4, 10, 6, 3, 7, 4]);
  });

  it('divides by the in-bounds count of each window', () => {
    const dx = runOp('avg_pool2d_grad', [f32([1, 2, 2, 1], [4, 2, 6, 5])], { ...w2s2pBR, input_shape: [1, 3, 3, 1] });
    expect(values(dx)).toEqual([1, 1, 1, 1, 1, 1, 3, 3, 5]);
  });

  it('requires dy of the pooled shape of input_shape', () => {
    expect(() => typeOf('avg_pool2d_grad', [[1, 2, 2, 1]], { ...w2s2, input_shape: [1, 6, 6, 1] })).toThrow(
      'avg_pool2d_grad: dy f32[1,2,2,1] should have shape [1,3,3,1] (the pooled shape of input_shape [1,6,6,1])',
    );
  });
});
