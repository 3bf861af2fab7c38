// Reductions: axes (empty = all, negative), keepdims, argmax ties, and error messages.
import { describe, expect, it } from 'vitest';
import { makeNode } from '../../ir/builder.ts';
import { KilnError } from '../../ir/errors.ts';
import type { Attrs, Input } from '../../ir/graph.ts';
import { REDUCE } from '../../ir/ops/reduce.ts';
import { tensor, tensorType, type DType, type Shape } from '../../ir/types.ts';
import { f32, runOp, values, kilnErrorOf } from './run-op.ts';

const input = (dtype: DType, shape: Shape): Input => ({ kind: 'input', name: 'x', type: tensorType(dtype, shape) });

const errorOf = (op: string, x: Input, attrs: Attrs): KilnError => kilnErrorOf(() => makeNode(op, [x], attrs));

// [[1, 5, 3],
//  [4, 2, 6]]
const x = f32([2, 3], [1, 5, 3, 4, 2, 6]);

describe('sum, max, min, mean over axes', () => {
  const cases: [string, Attrs, Shape, number[]][] = [
    ['sum', { axes: [] }, [], [21]],
    ['sum', { axes: [0, 1] }, [], [21]],
    ['sum', { axes: [0] }, [3], [5, 7, 9]],
    ['sum', { axes: [-1] }, [2], [9, 12]],
    ['sum', { axes: [1], keepdims: true }, [2, 1], [9, 12]],
    ['sum', { axes: [], keepdims: true }, [1, 1], [21]],
    ['sum', { axes: [-1, 0] }, [], [21]],
    ['max', { axes: [] }, [], [6]],
    ['max', { axes: [0] }, [3], [4, 5, 6]],
    ['max', { axes: [-1], keepdims: true }, [2, 1], [5, 6]],
    ['min', { axes: [1] }, [2], [1, 2]],
    ['min', { axes: [-2], keepdims: true }, [1, 3], [1, 2, 3]],
    ['mean', { axes: [] }, [], [3.5]],
    ['mean', { axes: [0] }, [3], [2.5, 3.5, 4.5]],
    ['mean', { axes: [-1], keepdims: true }, [2, 1], [3, 4]],
  ];
  for (const [op, attrs, shape, want] of cases) {
    it(`${op} ${JSON.stringify(attrs)}`, () => {
      const y = runOp(op, [x], attrs);
      expect(y.type).toEqual({ dtype: 'f32', shape });
      expect(values(y)).toEqual(want);
    });
  }

  it('two non-adjacent axes of a rank-3 tensor', () => {
    // x3[i,j,k] = 12 i + 3 j + k + 1 over [2,4,3]; summing i and k leaves j.
    const x3 = f32([2, 4, 3]);
    const y = runOp('sum', [x3], { axes: [0, -1] });
    expect(y.type.shape).toEqual([4]);
    // j = 0: (1+2+3) + (13+14+15) = 48; each j adds 3 per element, 6 elements: +18.
    expect(values(y)).toEqual([48, 66, 84, 102]);
    expect(values(runOp('max', [x3], { axes: [1], keepdims: true }))).toEqual([10, 11, 12, 22, 23, 24]);
  });

  it('i32 sum, max and min stay i32', () => {
    const xi = tensor('i32', [2, 2], [3, -7, 10, 4]);
    const s = runOp('sum', [xi], { axes: [1] });
    expect(s.type.dtype).toBe('i32');
    expect(values(s)).toEqual([-4, 14]);
    expect(values(runOp('max', [xi], { axes: [0] }))).toEqual([10, 4]);
    expect(values(runOp('min', [xi], { axes: [] }))).toEqual([-7]);
  });

  it('a scalar reduced over all (no) axes is itself', () => {
    expect(values(runOp('sum', [f32([], [4])], { axes: [] }))).toEqual([4]);
  });

  it('f32 sums accumulate in f64 and round once', () => {
    // 2^24 + 1 + 1: an f32 running sum would stay at 2^24.
    expect(values(runOp('sum', [f32([3], [16777216, 1, 1])], { axes: [] }))).toEqual([16777218]);
  });
});

describe('argmax', () => {
  // [[1, 3, 3],
  //  [7, 7, 0]]
  const t = f32([2, 3], [1, 3, 3, 7, 7, 0]);
  it('gives the first maximal index, as i32', () => {
    const y = runOp('argmax', [t], { axis: -1 });
    expect(y.type).toEqual({ dtype: 'i32', shape: [2] });
    expect(values(y)).toEqual([1, 0]);
    expect(values(runOp('argmax', [t], { axis: 0 }))).toEqual([1, 1, 0]);
  });
  it('keepdims', () => {
    const y = runOp('argmax', [t], { axis: 1, keepdims: true });
    expect(y.type.shape).toEqual([2, 1]);
    expect(values(y)).toEqual([1, 0]);
  });
  it('skips NaN and works on i32', () => {
    expect(values(runOp('argmax', [f32([3], [NaN, 2, 5])], { axis: 0 }))).toEqual([2]);
    expect(values(runOp('argmax', [tensor('i32', [4], [-5, -2, -2, -9])], { axis: 0 }))).toEqual([1]);
  });
});

describe('errors', () => {
  it('an axis out of range names the op, the axis and the rank', () => {
    const e = errorOf('sum', input('f32', [2, 3]), { axes: [2] });
    expect(e.code).toBe('K1006');
    expect(e.detail).toBe('sum: axis 2 is out of range for f32[2,3] (rank 2); use an axis in [-2, 2)');
    expect(errorOf('max', input('f32', [2, 3]), { axes: [-3] }).detail).toContain(
      'max: axis -3 is out of range for f32[2,3] (rank 2)',
    );
    expect(errorOf('argmax', input('f32', [4]), { axis: 1 }).detail).toContain(
      'argmax: axis 1 is out of range for f32[4] (rank 1)',
    );
  });
  it('an axis given twice', () => {
    const e = errorOf('mean', input('f32', [2, 3]), { axes: [0, -2] });
    expect(e.code).toBe('K1006');
    expect(e.detail).toContain('mean: axes [0,-2] name an axis twice for f32[2,3]');
  });
  it('axes is required; mean wants f32; bool is rejected', () => {
    expect(errorOf('sum', input('f32', [2]), {}).detail).toBe("sum: missing attribute 'axes' (ints)");
    const m = errorOf('mean', input('i32', [2, 3]), { axes: [] });
    expect(m.code).toBe('K1002');
    expect(m.detail).toContain('mean: input has type i32[2,3], expected dtype f32');
    expect(errorOf('sum', input('bool', [2]), { axes: [] }).detail).toContain('sum: input has type bool[2]');
  });
  it('reductions are kind reduce; argmax has no gradient', () => {
    for (const def of Object.values(REDUCE)) expect(def.kind).toBe('reduce');
    expect(REDUCE.argmax.vjp).toBe('none');
  });
});
