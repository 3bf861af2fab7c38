// Index ops: gather, scatter_add and one_hot on hand-computed cases, their errors, and the
// adjoint identity <gather(T, I), U> == <T, scatter_add(I, U)> that makes each the other's VJP.
import { describe, expect, it } from 'vitest';
import { makeNode } from '../../ir/builder.ts';
import { KilnError } from '../../ir/errors.ts';
import type { Attrs, Input } from '../../ir/graph.ts';
import { makeGraph } from '../../ir/graph.ts';
import { interpret } from '../../ir/interpret.ts';
import { tensor, type Shape, type Tensor, type TensorType } from '../../ir/types.ts';
import { kilnErrorOf } from './run-op.ts';
import { randomTensor, rng } from '../grad/check-vjp.ts';

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

function expectResult(y: Tensor, shape: Shape, values: readonly number[]): void {
  expect(y.type.shape).toEqual(shape);
  expect(Array.from(y.data)).toEqual(values);
}

const errorOf = (op: string, types: readonly TensorType[], attrs: Attrs): KilnError =>
  kilnErrorOf(() =>
    makeNode(
      op,
      types.map((t, i): Input => ({ kind: 'input', name: `x${i}`, type: t })),
      attrs,
    ),
  );

const table32 = tensor('f32', [3, 2], [0, 1, 2, 3, 4, 5]);

describe('gather', () => {
  it('picks rows on axis 0, repeating indices', () => {
    expectResult(run('gather', [table32, tensor('i32', [3], [2, 0, 2])], {}), [3, 2], [4, 5, 0, 1, 4, 5]);
  });
  it('picks on axis 1 with 2-D indices', () => {
    // table [[0,1,2],[3,4,5]]; out[p,i,j] = table[p, idx[i,j]]
    const t = tensor('f32', [2, 3], [0, 1, 2, 3, 4, 5]);
    const y = run('gather', [t, tensor('i32', [2, 2], [2, 0, 1, 1])], { axis: 1 });
    expectResult(y, [2, 2, 2], [2, 0, 1, 1, 5, 3, 4, 4]);
  });
  it('takes a scalar index (the axis disappears) and a negative axis', () => {
    expectResult(run('gather', [table32, tensor('i32', [], [1])], {}), [2], [2, 3]);
    expectResult(run('gather', [table32, tensor('i32', [1], [1])], { axis: -1 }), [3, 1], [1, 3, 5]);
  });
  it('gathers i32 tables (embedding ids)', () => {
    expectResult(run('gather', [tensor('i32', [4], [7, 8, 9, 10]), tensor('i32', [2], [3, 0])], {}), [2], [10, 7]);
  });
  it('throws K7002 naming the index and the range for out-of-range indices', () => {
    for (const bad of [3, -1]) {
      const e = kilnErrorOf(() => run('gather', [table32, tensor('i32', [2], [0, bad])], {}));
      expect(e.code).toBe('K7002');
      expect(e.detail).toBe(
        `gather: index ${bad} (at position 1 of indices i32[2]) is outside [0, 3); clamp or mask the indices`,
      );
    }
  });
  it('rejects non-i32 indices and bad axes', () => {
    const d = errorOf(
      'gather',
      [
        { dtype: 'f32', shape: [3, 2] },
        { dtype: 'f32', shape: [2] },
      ],
      {},
    );
    expect(d.code).toBe('K1002');
    expect(d.detail).toBe('gather: indices has type f32[2], expected dtype i32');
    const a = errorOf(
      'gather',
      [
        { dtype: 'f32', shape: [3, 2] },
        { dtype: 'i32', shape: [2] },
      ],
      { axis: 2 },
    );
    expect(a.code).toBe('K1006');
    expect(a.detail).toBe('gather: axis 2 is out of range for table f32[3,2]');
  });
});

describe('scatter_add', () => {
  it('sums updates at duplicate indices', () => {
    const y = run('scatter_add', [tensor('i32', [3], [0, 2, 0]), tensor('f32', [3, 2], [1, 2, 3, 4, 5, 6])], {
      size: 4,
    });
    expectResult(y, [4, 2], [6, 8, 0, 0, 3, 4, 0, 0]);
  });
  it('scatters on axis 1 with 2-D indices', () => {
    // out[p, idx[i,j]] += upd[p,i,j] with idx [[2,0],[1,1]]
    const upd = tensor('f32', [2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
    const y = run('scatter_add', [tensor('i32', [2, 2], [2, 0, 1, 1]), upd], { axis: 1, size: 3 });
    expectResult(y, [2, 3], [2, 7, 1, 6, 15, 5]);
  });
  it('throws K7002 for an index outside [0, size)', () => {
    const e = kilnErrorOf(() =>
      run('scatter_add', [tensor('i32', [2], [4, 0]), tensor('f32', [2], [1, 1])], { size: 4 }),
    );
    expect(e.code).toBe('K7002');
    expect(e.detail).toContain('scatter_add: index 4 (at position 0 of indices i32[2]) is outside [0, 4)');
  });
  it('rejects updates whose shape does not hold the indices at axis', () => {
    const e = errorOf(
      'scatter_add',
      [
        { dtype: 'i32', shape: [3] },
        { dtype: 'f32', shape: [2, 2] },
      ],
      { size: 5 },
    );
    expect(e.code).toBe('K1001');
    expect(e.detail).toBe("scatter_add: updates f32[2,2] must have the indices' shape i32[3] at axis 0");
    expect(
      errorOf(
        'scatter_add',
        [
          { dtype: 'i32', shape: [2] },
          { dtype: 'f32', shape: [2] },
        ],
        { size: 0 },
      ).code,
    ).toBe('K1003');
    expect(
      errorOf(
        'scatter_add',
        [
          { dtype: 'i32', shape: [2] },
          { dtype: 'f32', shape: [2] },
        ],
        { axis: 1, size: 3 },
      ).code,
    ).toBe('K1006');
  });
});

describe('gather and scatter_add are adjoint', () => {
  it.each([
    { table: [5, 3], idx: [4], axis: 0 },
    { table: [2, 6, 3], idx: [2, 3], axis: 1 },
    { table: [3, 4], idx: [2, 2], axis: -1 },
  ])('table $table, indices $idx, axis $axis', ({ table, idx, axis }) => {
    const next = rng(7);
    const t = randomTensor({ dtype: 'f32', shape: table }, next);
    const n = table.at(axis)!;
    const i = randomTensor({ dtype: 'i32', shape: idx }, next, 0, n);
    const gathered = run('gather', [t, i], { axis });
    const u = randomTensor(gathered.type, next);
    const scattered = run('scatter_add', [i, u], { axis, size: n });
    const dot = (a: Tensor, b: Tensor): number => Array.from(a.data).reduce((s, v, k) => s + v * b.data[k]!, 0);
    expect(scattered.type.shape).toEqual(table);
    expect(dot(gathered, u)).toBeCloseTo(dot(t, scattered), 5); // f32 results
  });
});

describe('one_hot', () => {
  it('marks each index, zero rows outside [0, depth)', () => {
    const y = run('one_hot', [tensor('i32', [2, 2], [1, 0, 3, -1])], { depth: 3 });
    expect(y.type.dtype).toBe('f32');
    expectResult(y, [2, 2, 3], [0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
  });
  it('produces the requested dtype', () => {
    const y = run('one_hot', [tensor('i32', [2], [2, 1])], { depth: 4, dtype: 'i32' });
    expect(y.type.dtype).toBe('i32');
    expectResult(y, [2, 4], [0, 0, 1, 0, 0, 1, 0, 0]);
  });
  it('rejects a non-positive depth and non-i32 indices', () => {
    const e = errorOf('one_hot', [{ dtype: 'i32', shape: [2] }], { depth: 0 });
    expect(e.code).toBe('K1003');
    expect(e.detail).toBe('one_hot: depth 0 for indices i32[2] must be positive');
    expect(errorOf('one_hot', [{ dtype: 'f32', shape: [2] }], { depth: 2 }).code).toBe('K1002');
  });
});
