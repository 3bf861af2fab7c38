import { describe, expect, it } from 'vitest';
import { makeNode } from '../../ir/builder.ts';
import type { Input } from '../../ir/graph.ts';
import { formatType, tensorType, type DType, type Shape } from '../../ir/types.ts';
import { f32, runOp, values } from './run-op.ts';

const inp = (shape: Shape, dtype: DType = 'f32'): Input => ({
  kind: 'input',
  name: 'v',
  type: tensorType(dtype, shape),
});
const typeOf = (a: Shape, b: Shape, attrs = {}): string => formatType(makeNode('matmul', [inp(a), inp(b)], attrs).type);

describe('matmul inference', () => {
  it('gives [...batch, m, n] with broadcast batch dimensions', () => {
    expect(typeOf([2, 3], [3, 4])).toBe('f32[2,4]');
    expect(typeOf([5, 2, 3], [3, 4])).toBe('f32[5,2,4]');
    expect(typeOf([2, 1, 2, 3], [7, 3, 4])).toBe('f32[2,7,2,4]');
    expect(typeOf([3, 2], [3, 4], { transpose_a: true })).toBe('f32[2,4]');
    expect(typeOf([2, 3], [4, 3], { transpose_b: true })).toBe('f32[2,4]');
    expect(typeOf([3, 2], [4, 3], { transpose_a: true, transpose_b: true })).toBe('f32[2,4]');
  });

  it('names the op and both types when the inner dimensions differ', () => {
    expect(() => typeOf([2, 3], [4, 5])).toThrow('matmul: inner dimensions differ: f32[2,3] x f32[4,5] (3 vs 4)');
    expect(() => typeOf([2, 3], [2, 3], { transpose_b: false })).toThrow(/K1001.*f32\[2,3\] x f32\[2,3\] \(3 vs 2\)/);
  });

  it('rejects rank-1 operands, unbroadcastable batches and non-f32 dtypes', () => {
    expect(() => typeOf([3], [3, 4])).toThrow('matmul: operands f32[3] x f32[3,4] must both have rank >= 2');
    expect(() => typeOf([2, 2, 3], [3, 3, 4])).toThrow(
      /matmul: batch dimensions of f32\[2,2,3\] x f32\[3,3,4\].*\[2\] and \[3\]/,
    );
    expect(() => makeNode('matmul', [inp([2, 3], 'i32'), inp([3, 4], 'i32')])).toThrow(/K1002.*matmul.*i32\[2,3\]/);
  });
});

describe('matmul evaluation', () => {
  const a = f32([2, 3]); // [[1,2,3],[4,5,6]]
  const b = f32([3, 2]); // [[1,2],[3,4],[5,6]]
  const ab = [22, 28, 49, 64];

  it('multiplies matrices', () => {
    expect(values(runOp('matmul', [a, b]))).toEqual(ab);
  });

  it('honours the transpose flags on stored transposes', () => {
    const at = f32([3, 2], [1, 4, 2, 5, 3, 6]);
    const bt = f32([2, 3], [1, 3, 5, 2, 4, 6]);
    expect(values(runOp('matmul', [at, b], { transpose_a: true }))).toEqual(ab);
    expect(values(runOp('matmul', [a, bt], { transpose_b: true }))).toEqual(ab);
    expect(values(runOp('matmul', [at, bt], { transpose_a: true, transpose_b: true }))).toEqual(ab);
  });

  it('broadcasts a matrix over a batch', () => {
    const x = f32([2, 2, 2]); // [[1,2],[3,4]], [[5,6],[7,8]]
    const w = f32([2, 2], [1, 0, 0, 2]);
    expect(values(runOp('matmul', [x, w]))).toEqual([1, 4, 3, 8, 5, 12, 7, 16]);
  });

  it('broadcasts size-1 batch dimensions on both sides', () => {
    const x = f32([2, 1, 1, 2]); // rows [1,2] and [3,4]
    const y = f32([3, 2, 1]); // columns [1,2], [3,4], [5,6]
    const r = runOp('matmul', [x, y]);
    expect(r.type.shape).toEqual([2, 3, 1, 1]);
    expect(values(r)).toEqual([5, 11, 17, 11, 25, 39]);
  });
});
