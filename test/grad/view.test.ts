// Every view op's VJP against central differences, on random shapes and attributes.
import { describe, it } from 'vitest';
import { tensorType, type Shape } from '../../ir/types.ts';
import { checkVjp, randInt, randomShape, rng } from './check-vjp.ts';

const f32 = (shape: Shape) => tensorType('f32', shape);

/** A random permutation of [0, n). */
function randomPerm(next: () => number, n: number): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

const SEEDS = [1, 2, 3, 4, 5, 6];

describe('view VJPs', () => {
  it.each(SEEDS)('reshape (seed %i)', (seed) => {
    const next = rng(seed);
    const shape = randomShape(next, randInt(next, 1, 3));
    const n = shape.reduce((a, b) => a * b, 1);
    checkVjp('reshape', [f32(shape)], { shape: [n, -1] }, { seed });
  });

  it.each(SEEDS)('transpose (seed %i)', (seed) => {
    const next = rng(seed);
    const rank = randInt(next, 2, 4);
    checkVjp('transpose', [f32(randomShape(next, rank))], { perm: randomPerm(next, rank) }, { seed });
  });

  it.each(SEEDS)('slice with step 1 (seed %i)', (seed) => {
    const next = rng(seed);
    const shape = randomShape(next, randInt(next, 1, 3), 5);
    // non-empty, written half the time from the end (negative)
    const first = shape.map((d) => randInt(next, 0, d - 1));
    const last = shape.map((d, i) => randInt(next, first[i]! + 1, d + 2));
    const fromEnd = (v: number, d: number): number => (v < d && next() < 0.5 ? v - d : v);
    const start = first.map((v, i) => fromEnd(v, shape[i]!));
    const end = last.map((v, i) => fromEnd(v, shape[i]!));
    checkVjp('slice', [f32(shape)], { start, end, step: shape.map(() => 1) }, { seed });
  });

  it.each(SEEDS)('slice with steps (seed %i)', (seed) => {
    const next = rng(seed);
    const shape = randomShape(next, randInt(next, 1, 3), 7).map((d) => d + 1);
    const start = shape.map((d) => randInt(next, 0, d - 1));
    const end = shape.map((d, i) => randInt(next, start[i]! + 1, d + 2));
    const step = shape.map(() => randInt(next, 2, 3));
    checkVjp('slice', [f32(shape)], { start, end, step }, { seed });
  });

  it('slice on edge cases: one element read, overshooting ends, an empty result', () => {
    checkVjp('slice', [f32([4, 3])], { start: [-3, 1], end: [-1, 2], step: [1, 1] });
    checkVjp('slice', [f32([4, 3])], { start: [3, 0], end: [1, 3], step: [1, 1] });
    checkVjp('slice', [f32([5, 7])], { start: [3, 0], end: [5, 7], step: [4, 3] });
    checkVjp('slice', [f32([6])], { start: [1], end: [6], step: [2] });
  });

  it.each(SEEDS)('pad (seed %i)', (seed) => {
    const next = rng(seed);
    const shape = randomShape(next, randInt(next, 1, 3));
    checkVjp(
      'pad',
      [f32(shape)],
      { lo: shape.map(() => randInt(next, 0, 2)), hi: shape.map(() => randInt(next, 0, 2)), value: 0.5 },
      { seed },
    );
  });

  it.each(SEEDS)('concat (seed %i)', (seed) => {
    const next = rng(seed);
    const shape = randomShape(next, randInt(next, 1, 3));
    const axis = randInt(next, -shape.length, shape.length - 1);
    const a = (axis + shape.length) % shape.length;
    const types = Array.from({ length: randInt(next, 1, 3) }, () =>
      f32(shape.map((d, i) => (i === a ? randInt(next, 1, 3) : d))),
    );
    checkVjp('concat', types, { axis }, { seed });
  });

  it.each(SEEDS)('broadcast_to (seed %i)', (seed) => {
    const next = rng(seed);
    const to = randomShape(next, randInt(next, 1, 3));
    const from = to.slice(randInt(next, 0, to.length)).map((d) => (next() < 0.5 ? 1 : d));
    checkVjp('broadcast_to', [f32(from)], { shape: to }, { seed });
  });
});
