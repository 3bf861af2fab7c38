// Index ops: gather rows of a table by i32 indices, its transpose scatter_add, and one_hot.
// gather's VJP is scatter_add and scatter_add's is gather, so either differentiates any number of times.
import { fail } from '../errors.ts';
import {
  allocData,
  formatType,
  normAxis,
  stridesOf,
  tensorType,
  type Shape,
  type Tensor,
  type TensorType,
} from '../types.ts';
import type { OpDef } from './def.ts';
import { forEachIndex, readThrough } from './strided.ts';
import { int, requireDType, str } from './util.ts';

function indexAxis(op: string, axis: number, t: TensorType, what: string): number {
  const a = normAxis(axis, t.shape.length);
  if (a < 0) fail('K1006', `${op}: axis ${axis} is out of range for ${what} ${formatType(t)}`);
  return a;
}

/** `indices.data[k]` checked against [0, n): K7002 naming the op, the index and the range. */
function checkedIndex(op: string, indices: Tensor, k: number, n: number): number {
  const i = indices.data[k]!;
  if (i < 0 || i >= n) {
    fail(
      'K7002',
      `${op}: index ${i} (at position ${k} of indices ${formatType(indices.type)}) is outside [0, ${n}); clamp or mask the indices`,
    );
  }
  return i;
}

/** Where one multi-index of gather's result (= scatter_add's updates) reads or writes in the table
 *  (= scatter_add's result): [pre..., indices[mid...], post...], `mid` spanning the indices' rank. */
function tableAddress(
  op: string,
  axis: number,
  indices: Tensor,
  tableShape: Shape,
): (idx: readonly number[]) => number {
  const r = indices.type.shape.length;
  const idxStrides = stridesOf(indices.type.shape);
  const strides = stridesOf(tableShape);
  return (idx) => {
    let k = 0;
    for (let a = 0; a < r; a++) k += idx[axis + a]! * idxStrides[a]!;
    let o = checkedIndex(op, indices, k, tableShape[axis]!) * strides[axis]!;
    for (let a = 0; a < axis; a++) o += idx[a]! * strides[a]!;
    for (let a = axis + 1; a < tableShape.length; a++) o += idx[a - 1 + r]! * strides[a]!;
    return o;
  };
}

export const INDEX = {
  gather: {
    kind: 'index',
    arity: 2,
    attrs: { axis: { kind: 'int', default: 0 } },
    doc: 'rows of table along axis picked by i32 indices: table.shape[:axis] + indices.shape + table.shape[axis+1:]',
    infer: ([table, indices], a) => {
      requireDType('gather', indices!, ['i32'], 'indices');
      const axis = indexAxis('gather', int(a, 'axis'), table!, 'table');
      const s = table!.shape;
      return tensorType(table!.dtype, [...s.slice(0, axis), ...indices!.shape, ...s.slice(axis + 1)]);
    },
    eval: ([table, indices], a, out, ctx) => {
      const axis = indexAxis('gather', int(a, 'axis'), table!.type, 'table');
      return readThrough(table!, out, ctx.float64, tableAddress('gather', axis, indices!, table!.type.shape));
    },
    vjp: ({ emit, inputs: [table, indices], g, attrs }) => {
      const axis = indexAxis('gather', int(attrs, 'axis'), table!.type, 'table');
      return [emit('scatter_add', [indices!, g], { axis, size: table!.type.shape[axis]! }), null];
    },
  },

  scatter_add: {
    kind: 'index',
    arity: 2,
    attrs: { axis: { kind: 'int', default: 0 }, size: { kind: 'int' } },
    doc: "gather's transpose: zeros of updates.shape[:axis] + [size] + rest, each update added at its index",
    infer: ([indices, updates], a) => {
      requireDType('scatter_add', indices!, ['i32'], 'indices');
      requireDType('scatter_add', updates!, ['f32', 'i32'], 'updates');
      const r = indices!.shape.length;
      const u = updates!.shape;
      const rank = u.length - r + 1;
      const axis = rank > 0 ? normAxis(int(a, 'axis'), rank) : -1;
      if (axis < 0) {
        fail(
          'K1006',
          `scatter_add: axis ${int(a, 'axis')} is out of range for a rank ${rank} result (updates ${formatType(updates!)}, indices ${formatType(indices!)})`,
        );
      }
      const mid = u.slice(axis, axis + r);
      if (mid.length !== r || mid.some((d, i) => d !== indices!.shape[i])) {
        fail(
          'K1001',
          `scatter_add: updates ${formatType(updates!)} must have the indices' shape ${formatType(indices!)} at axis ${axis}`,
        );
      }
      const size = int(a, 'size');
      if (size <= 0)
        fail('K1003', `scatter_add: size ${size} must be positive (the length of the result's axis ${axis})`);
      return tensorType(updates!.dtype, [...u.slice(0, axis), size, ...u.slice(axis + r)]);
    },
    eval: ([indices, updates], a, out, ctx) => {
      const address = tableAddress('scatter_add', normAxis(int(a, 'axis'), out.shape.length), indices!, out.shape);
      const data = allocData(out, ctx.float64);
      forEachIndex(updates!.type.shape, (flat, idx) => {
        const o = address(idx);
        data[o] = data[o]! + updates!.data[flat]!;
      });
      return { type: out, data };
    },
    vjp: ({ emit, inputs: [indices], g, attrs, out }) => [
      null,
      emit('gather', [g, indices!], { axis: normAxis(int(attrs, 'axis'), out.type.shape.length) }),
    ],
  },

  one_hot: {
    kind: 'index',
    arity: 1,
    attrs: { depth: { kind: 'int' }, dtype: { kind: 'dtype', default: 'f32' } },
    doc: 'indices.shape + [depth]: 1 at each index, 0 elsewhere (an index outside [0, depth) gives a row of zeros)',
    infer: ([indices], a) => {
      requireDType('one_hot', indices!, ['i32'], 'indices');
      const depth = int(a, 'depth');
      if (depth <= 0) fail('K1003', `one_hot: depth ${depth} for indices ${formatType(indices!)} must be positive`);
      return tensorType(str(a, 'dtype') as TensorType['dtype'], [...indices!.shape, depth]);
    },
    eval: ([indices], a, out, ctx) => {
      const depth = int(a, 'depth');
      const data = allocData(out, ctx.float64);
      indices!.data.forEach((i, k) => {
        if (i >= 0 && i < depth) data[k * depth + i] = 1;
      });
      return { type: out, data };
    },
    vjp: 'none',
  },
} satisfies Record<string, OpDef>;
