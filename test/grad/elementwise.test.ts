// Every differentiable elementwise op's VJP against central differences, on random and broadcast
// shapes, with inputs kept away from the points where an op is not differentiable.
import { describe, expect, it } from 'vitest';
import { tensor, tensorType, type Shape, type Tensor, type TensorType } from '../../ir/types.ts';
import { checkVjp, randomTensor, rng } from './check-vjp.ts';
import { cotangentsOf } from './vjp-values.ts';

const f32 = (shape: Shape): TensorType => tensorType('f32', shape);

/** Shapes come from a scrambled seed (xorshift's first draws from a small seed are all near 0). */
const shapeRng = (seed: number): (() => number) => rng(Math.imul(seed, 0x9e3779b1) >>> 0);

/** A random shape of rank minRank..3 with dims in [1, 4]. */
function randomShape(next: () => number, minRank = 0): number[] {
  return Array.from({ length: minRank + Math.floor(next() * (4 - minRank)) }, () => 1 + Math.floor(next() * 4));
}

/** Two shapes that broadcast to `out`: each dim of each kept or set to 1, leading dims sometimes dropped. */
function broadcastPair(next: () => number, out: Shape): [number[], number[]] {
  const side = (): number[] =>
    out.slice(next() < 0.3 ? 1 + Math.floor(next() * out.length) : 0).map((d) => (next() < 0.4 ? 1 : d));
  return [side(), side()];
}

/** Values in [lo, hi] (a domain where the op is smooth). */
const inRange =
  (lo: number, hi: number) =>
  (t: TensorType, next: () => number): Tensor =>
    randomTensor(t, next, lo, hi);
/** Values with |v| in [0.2, 1]: away from the kink at 0. */
const awayFromZero = (t: TensorType, next: () => number): Tensor => {
  const r = randomTensor(t, next, 0.2, 1);
  return { type: t, data: r.data.map((v) => (next() < 0.5 ? -v : v)) };
};
type Domain = (t: TensorType, next: () => number) => Tensor;

const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];

const UNARY: [string, Domain?][] = [
  ['neg'],
  ['exp'],
  ['tanh'],
  ['sigmoid'],
  ['sin'],
  ['cos'],
  ['log', inRange(0.5, 2)],
  ['sqrt', inRange(0.5, 2)],
  ['rsqrt', inRange(0.5, 2)],
  ['reciprocal', inRange(0.5, 2)],
  ['abs', awayFromZero],
  ['relu', awayFromZero],
];

const BINARY: [string, Domain?, Domain?][] = [
  ['add'],
  ['sub'],
  ['mul'],
  ['maximum'],
  ['minimum'],
  ['div', undefined, awayFromZero],
  ['pow', inRange(0.5, 2), inRange(-2, 2)],
];

/** Fixed broadcasting cases every binary op is checked on, besides the random ones. */
const PAIRS: [Shape, Shape][] = [
  [
    [3, 1],
    [1, 4],
  ],
  [[], [2, 3]],
  [[2, 3], []],
  [[4], [2, 3, 4]],
  [
    [2, 3],
    [2, 3],
  ],
];

function values(
  types: readonly TensorType[],
  domains: readonly (Domain | undefined)[],
  seed: number,
): (Tensor | undefined)[] {
  const next = rng(seed + 100);
  return types.map((t, i) => domains[i]?.(t, next));
}

describe('unary VJPs', () => {
  for (const [op, domain] of UNARY) {
    it.each(SEEDS)(`${op} (seed %i)`, (seed) => {
      const t = f32(randomShape(shapeRng(seed)));
      checkVjp(op, [t], {}, { seed, values: values([t], [domain], seed) });
    });
  }
  it('cast f32 -> f32 passes the gradient through', () => {
    checkVjp('cast', [f32([2, 3])], { dtype: 'f32' });
  });
});

describe('binary VJPs', () => {
  for (const [op, da, db] of BINARY) {
    it.each(PAIRS)(`${op} %j x %j`, (a, b) => {
      const ts = [f32(a), f32(b)];
      checkVjp(op, ts, {}, { values: values(ts, [da, db], 7) });
    });
    it.each(SEEDS)(`${op} on random broadcast shapes (seed %i)`, (seed) => {
      const next = shapeRng(seed);
      const ts = broadcastPair(next, randomShape(next, 1)).map(f32);
      checkVjp(op, ts, {}, { seed, values: values(ts, [da, db], seed) });
    });
  }
});

describe('where VJP', () => {
  const TRIPLES: [Shape, Shape, Shape][] = [
    [
      [2, 3],
      [2, 3],
      [2, 3],
    ],
    [[3, 1], [1, 4], []],
    [[4], [2, 1], [2, 4]],
    [[], [3], [2, 3]],
  ];
  it.each(TRIPLES)('cond %j, a %j, b %j', (c, a, b) => {
    checkVjp('where', [tensorType('bool', c), f32(a), f32(b)]);
  });
  it('routes g by cond and gives cond no cotangent', () => {
    const [dc, da, db] = cotangentsOf(
      'where',
      [tensor('bool', [3], [1, 0, 1]), tensor('f32', [3], [1, 2, 3]), tensor('f32', [], [9])],
      {},
      [10, 20, 30],
    );
    expect(dc).toBeNull();
    expect(da).toEqual([10, 0, 30]);
    expect(db).toEqual([20]);
  });
});

describe('rules at points finite differences cannot check', () => {
  it('maximum and minimum send a tie to the first input', () => {
    const a = tensor('f32', [3], [1, 5, 2]);
    const b = tensor('f32', [3], [1, 4, 3]);
    expect(cotangentsOf('maximum', [a, b], {}, [1, 2, 3])).toEqual([
      [1, 2, 0],
      [0, 0, 3],
    ]);
    expect(cotangentsOf('minimum', [a, b], {}, [1, 2, 3])).toEqual([
      [1, 0, 3],
      [0, 2, 0],
    ]);
  });
  it('pow: d/db is 0 where a <= 0; d/da is b a^(b-1)', () => {
    const [da, db] = cotangentsOf(
      'pow',
      [tensor('f32', [3], [-2, 0, 2]), tensor('f32', [3], [2, 2, 3])],
      {},
      [1, 1, 1],
    );
    expect(da).toEqual([-4, 0, 12]);
    expect(db![0]).toBe(0);
    expect(db![1]).toBe(0);
    expect(db![2]).toBeCloseTo(8 * Math.log(2), 12);
  });
  it('relu and abs at 0: relu gives 0, abs gives sign(0) = 0', () => {
    expect(cotangentsOf('relu', [tensor('f32', [3], [-1, 0, 1])], {}, [5, 5, 5])).toEqual([[0, 0, 5]]);
    expect(cotangentsOf('abs', [tensor('f32', [3], [-1, 0, 1])], {}, [5, 5, 5])).toEqual([[-5, 0, 5]]);
  });
  it('integer inputs get no cotangent', () => {
    expect(cotangentsOf('add', [tensor('i32', [2], [1, 2]), tensor('i32', [2], [3, 4])], {}, [1, 1])).toEqual([
      null,
      null,
    ]);
    expect(cotangentsOf('neg', [tensor('i32', [2], [1, 2])], {}, [1, 1])).toEqual([null]);
    expect(cotangentsOf('cast', [tensor('i32', [2], [1, 2])], { dtype: 'f32' }, [1, 1])).toEqual([null]);
  });
});
