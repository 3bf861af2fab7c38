// gather's and scatter_add's VJPs (each is the other) against central differences, with explicit
// i32 index values (duplicates included, so cotangents must accumulate).
import { describe, expect, it } from 'vitest';
import { makeNode, opDef } from '../../ir/builder.ts';
import type { Input } from '../../ir/graph.ts';
import { tensor, tensorType, type Shape, type Tensor } from '../../ir/types.ts';
import { checkVjp, randInt, randomShape, rng } from './check-vjp.ts';

/** i32 indices of the given shape in [0, n), with a repeated value when there is room for one. */
function indices(next: () => number, shape: Shape, n: number): Tensor {
  const count = shape.reduce((a, b) => a * b, 1);
  const vals = Array.from({ length: count }, () => randInt(next, 0, n - 1));
  if (count > 1) vals[count - 1] = vals[0]!;
  return tensor('i32', shape, vals);
}

const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];

describe('index VJPs', () => {
  it.each(SEEDS)('gather (seed %i)', (seed) => {
    const next = rng(seed);
    const table = randomShape(next, randInt(next, 1, 3), 4);
    const axis = randInt(next, -table.length, table.length - 1);
    const n = table.at(axis)!;
    const idx = indices(next, randomShape(next, randInt(next, 0, 2), 3), n);
    checkVjp('gather', [tensorType('f32', table), idx.type], { axis }, { seed, values: [undefined, idx] });
  });

  it.each(SEEDS)('scatter_add (seed %i)', (seed) => {
    const next = rng(seed);
    const result = randomShape(next, randInt(next, 1, 3), 4);
    const axis = randInt(next, 0, result.length - 1);
    const size = result[axis]!;
    const idxShape = randomShape(next, randInt(next, 0, 2), 3);
    const updates = [...result.slice(0, axis), ...idxShape, ...result.slice(axis + 1)];
    const idx = indices(next, idxShape, size);
    checkVjp('scatter_add', [idx.type, tensorType('f32', updates)], { axis, size }, { seed, values: [idx, undefined] });
  });

  it('gives the indices no cotangent and one_hot no VJP', () => {
    const ins: Input[] = [
      { kind: 'input', name: 't', type: tensorType('f32', [3, 2]) },
      { kind: 'input', name: 'i', type: tensorType('i32', [2]) },
    ];
    const out = makeNode('gather', ins, {});
    const rule = opDef('gather').vjp;
    if (rule === 'none') throw new Error('gather must have a VJP');
    const cots = rule({ emit: (o, i, a) => makeNode(o, i, a), inputs: ins, out, g: out, attrs: out.attrs });
    expect(cots[1]).toBeNull();
    expect(cots[0]!.type).toEqual(tensorType('f32', [3, 2]));
    expect(opDef('one_hot').vjp).toBe('none');
  });
});
