// View ops: inference and reference evaluation on hand-computed cases, and their error messages.
import { describe, expect, it } from 'vitest';
import { makeNode } from '../../ir/builder.ts';
import { KilnError } from '../../ir/errors.ts';
import type { Attrs, Input } from '../../ir/graph.ts';
import { makeGraph } from '../../ir/graph.ts';
import { interpret } from '../../ir/interpret.ts';
import { resolveReshape, resolveSlice } from '../../ir/ops/view.ts';
import { forEachIndex } from '../../ir/ops/strided.ts';
import { kilnErrorOf } from './run-op.ts';
import { tensor, type DType, type Shape, type Tensor } from '../../ir/types.ts';

/** Runs one op on the given tensors through the interpreter; returns its result. */
function run(op: string, xs: readonly Tensor[], attrs: Attrs): Tensor {
  const ins: Input[] = xs.map((x, i) => ({ kind: 'input', name: `x${i}`, type: x.type }));
  const g = makeGraph({
    name: 't',
    inputs: ins,
    params: [],
    outputs: [{ name: 'y', value: makeNode(op, ins, attrs) }],
  });
  return interpret(g, Object.fromEntries(xs.map((x, i) => [`x${i}`, x]))).outputs.y!;
}

const iotaT = (shape: Shape, dtype: DType = 'f32'): Tensor => {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(
    dtype,
    shape,
    Array.from({ length: n }, (_, i) => i),
  );
};

function expectResult(y: Tensor, shape: Shape, values: readonly number[]): void {
  expect(y.type.shape).toEqual(shape);
  expect(Array.from(y.data)).toEqual(values);
}

/** The KilnError an op's construction throws. */
function errorOf(op: string, types: readonly Tensor['type'][], attrs: Attrs): KilnError {
  const ins: Input[] = types.map((t, i) => ({ kind: 'input', name: `x${i}`, type: t }));
  return kilnErrorOf(() => makeNode(op, ins, attrs));
}

describe('forEachIndex', () => {
  it('walks row-major order with flat offsets', () => {
    const seen: string[] = [];
    forEachIndex([2, 3], (flat, idx) => seen.push(`${flat}:${idx.join(',')}`));
    expect(seen).toEqual(['0:0,0', '1:0,1', '2:0,2', '3:1,0', '4:1,1', '5:1,2']);
  });
  it('visits a scalar once and an empty shape never', () => {
    let n = 0;
    forEachIndex([], () => n++);
    forEachIndex([3, 0], () => n++);
    expect(n).toBe(1);
  });
});

describe('reshape', () => {
  it('resolves -1 and keeps row-major order', () => {
    const y = run('reshape', [iotaT([2, 3])], { shape: [3, -1] });
    expectResult(y, [3, 2], [0, 1, 2, 3, 4, 5]);
    expect(resolveReshape([2, 3, 4], [-1, 4])).toEqual([6, 4]);
  });
  it('keeps the given attrs but infers the resolved shape', () => {
    const x: Input = { kind: 'input', name: 'x', type: { dtype: 'i32', shape: [4, 6] } };
    const n = makeNode('reshape', [x], { shape: [2, -1, 3] });
    expect(n.attrs.shape).toEqual([2, -1, 3]);
    expect(n.type).toEqual({ dtype: 'i32', shape: [2, 4, 3] });
  });
  it('reshapes to and from a scalar', () => {
    expectResult(run('reshape', [tensor('f32', [1, 1], [7])], { shape: [] }), [], [7]);
  });
  it('reports element count mismatches with both shapes', () => {
    const e = errorOf('reshape', [{ dtype: 'f32', shape: [2, 3] }], { shape: [4, 2] });
    expect(e.code).toBe('K1001');
    expect(e.detail).toBe(
      'reshape: cannot reshape [2,3] (6 elements) to [4,2] (8 elements); the element counts must match',
    );
    const h = errorOf('reshape', [{ dtype: 'f32', shape: [2, 3] }], { shape: [4, -1] });
    expect(h.code).toBe('K1001');
    expect(h.detail).toContain('reshape: cannot reshape [2,3] (6 elements) to [4,-1]');
    const two = errorOf('reshape', [{ dtype: 'f32', shape: [2, 3] }], { shape: [-1, -1] });
    expect(two.code).toBe('K1003');
    expect(two.detail).toContain('more than one -1');
    const zero = errorOf('reshape', [{ dtype: 'f32', shape: [0, 3] }], { shape: [-1, 0] });
    expect(zero.code).toBe('K1003');
    expect(zero.detail).toContain('reshape: shape [-1,0] for [0,3] leaves -1 undetermined');
  });
});

describe('transpose', () => {
  it('swaps the axes of a matrix', () => {
    expectResult(run('transpose', [iotaT([2, 3])], { perm: [1, 0] }), [3, 2], [0, 3, 1, 4, 2, 5]);
  });
  it('permutes three axes (with a negative entry)', () => {
    // x[i,j,k] = 6i + 3j + k, shape [2,2,3]; y = x.transpose(2,0,1), y[k,i,j] = x[i,j,k]
    const y = run('transpose', [iotaT([2, 2, 3])], { perm: [-1, 0, 1] });
    expectResult(y, [3, 2, 2], [0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11]);
  });
  it('rejects a perm that is not a permutation', () => {
    const e = errorOf('transpose', [{ dtype: 'f32', shape: [2, 3, 4] }], { perm: [0, 0, 1] });
    expect(e.code).toBe('K1003');
    expect(e.detail).toBe('transpose: perm [0,0,1] is not a permutation of the 3 axes of [2,3,4]');
    expect(errorOf('transpose', [{ dtype: 'f32', shape: [2, 3] }], { perm: [0] }).code).toBe('K1003');
  });
});

describe('broadcast_to', () => {
  it('repeats new leading axes and size-1 axes', () => {
    const y = run('broadcast_to', [tensor('f32', [2, 1], [5, 7])], { shape: [2, 2, 3] });
    expectResult(y, [2, 2, 3], [5, 5, 5, 7, 7, 7, 5, 5, 5, 7, 7, 7]);
  });
  it('broadcasts a scalar and i32 values', () => {
    expectResult(run('broadcast_to', [tensor('i32', [], [4])], { shape: [3] }), [3], [4, 4, 4]);
  });
  it('rejects incompatible shapes naming the dimension', () => {
    const e = errorOf('broadcast_to', [{ dtype: 'f32', shape: [3, 2] }], { shape: [3, 4] });
    expect(e.code).toBe('K1001');
    expect(e.detail).toBe(
      "broadcast_to: cannot broadcast f32[3,2] to shape [3,4] (dimension 1 is 2, target has 4); each dimension must equal the target's or be 1",
    );
    expect(errorOf('broadcast_to', [{ dtype: 'f32', shape: [2, 2] }], { shape: [2] }).detail).toContain('lower rank');
    expect(errorOf('broadcast_to', [{ dtype: 'f32', shape: [1] }], { shape: [-1] }).code).toBe('K1003');
  });
});

describe('slice', () => {
  it('slices with negative starts and ends', () => {
    // x = [[0..4],[5..9],[10..14]]; x[-2:, 1:-1]
    const y = run('slice', [iotaT([3, 5])], { start: [-2, 1], end: [3, -1], step: [1, 1] });
    expectResult(y, [2, 3], [6, 7, 8, 11, 12, 13]);
  });
  it('takes steps and clamps out-of-range ends like numpy', () => {
    // x[1:100:3] of 0..9 -> 1, 4, 7
    expectResult(run('slice', [iotaT([10])], { start: [1], end: [100], step: [3] }), [3], [1, 4, 7]);
    // x[::2, ::3] on [3,5]
    const y = run('slice', [iotaT([3, 5])], { start: [0, 0], end: [3, 5], step: [2, 3] });
    expectResult(y, [2, 2], [0, 3, 10, 13]);
    expect(resolveSlice([4], { start: [-10], end: [-10], step: [1] })).toEqual([{ start: 0, step: 1, size: 0 }]);
    expect(resolveSlice([4], { start: [3], end: [1], step: [1] })[0]!.size).toBe(0);
  });
  it('rejects wrong lengths and non-positive steps', () => {
    const e = errorOf('slice', [{ dtype: 'f32', shape: [2, 3] }], { start: [0], end: [1], step: [1] });
    expect(e.code).toBe('K1003');
    expect(e.detail).toContain('slice: input [2,3] has rank 2 but start [0]');
    const s = errorOf('slice', [{ dtype: 'f32', shape: [4] }], { start: [0], end: [4], step: [0] });
    expect(s.detail).toBe('slice: step [0] on [4] must be positive on every axis');
  });
});

describe('pad', () => {
  it('pads with a value on both sides', () => {
    const y = run('pad', [tensor('f32', [2, 2], [1, 2, 3, 4])], { lo: [1, 0], hi: [0, 2], value: -1 });
    expectResult(y, [3, 4], [-1, -1, -1, -1, 1, 2, -1, -1, 3, 4, -1, -1]);
  });
  it('pads with zero by default, also i32', () => {
    expectResult(run('pad', [tensor('i32', [2], [8, 9])], { lo: [2], hi: [1] }), [5], [0, 0, 8, 9, 0]);
  });
  it('rejects negative amounts and wrong lengths', () => {
    const e = errorOf('pad', [{ dtype: 'f32', shape: [2, 2] }], { lo: [0, -1], hi: [0, 0] });
    expect(e.code).toBe('K1003');
    expect(e.detail).toBe('pad: lo [0,-1] and hi [0,0] on f32[2,2] must be >= 0 (use slice to crop)');
    expect(errorOf('pad', [{ dtype: 'f32', shape: [2, 2] }], { lo: [0], hi: [0] }).detail).toContain(
      'pad: input f32[2,2] has rank 2',
    );
  });
});

describe('concat', () => {
  it('joins on the middle axis', () => {
    const a = iotaT([2, 1, 2]); // [[[0,1]],[[2,3]]]
    const b = tensor('f32', [2, 2, 2], [10, 11, 12, 13, 14, 15, 16, 17]);
    const y = run('concat', [a, b], { axis: 1 });
    expectResult(y, [2, 3, 2], [0, 1, 10, 11, 12, 13, 2, 3, 14, 15, 16, 17]);
  });
  it('joins three inputs on a negative axis', () => {
    const y = run(
      'concat',
      [tensor('i32', [2, 1], [1, 2]), tensor('i32', [2, 2], [3, 4, 5, 6]), tensor('i32', [2, 1], [7, 8])],
      { axis: -1 },
    );
    expectResult(y, [2, 4], [1, 3, 4, 7, 2, 5, 6, 8]);
  });
  it('rejects mismatched shapes, dtypes and axes', () => {
    const e = errorOf(
      'concat',
      [
        { dtype: 'f32', shape: [2, 3] },
        { dtype: 'f32', shape: [3, 3] },
      ],
      { axis: 1 },
    );
    expect(e.code).toBe('K1001');
    expect(e.detail).toBe(
      'concat: inputs f32[2,3] and f32[3,3] differ outside axis 1; all dimensions but the concat axis must be equal',
    );
    const r = errorOf(
      'concat',
      [
        { dtype: 'f32', shape: [2, 3] },
        { dtype: 'f32', shape: [2, 3, 1] },
      ],
      { axis: 0 },
    );
    expect(r.code).toBe('K1001');
    const ax = errorOf('concat', [{ dtype: 'f32', shape: [2, 3] }], { axis: 2 });
    expect(ax.code).toBe('K1006');
    expect(ax.detail).toBe('concat: axis 2 is out of range for rank 2 inputs f32[2,3]');
    expect(
      errorOf(
        'concat',
        [
          { dtype: 'f32', shape: [2] },
          { dtype: 'i32', shape: [2] },
        ],
        { axis: 0 },
      ).code,
    ).toBe('K1002');
  });
});
