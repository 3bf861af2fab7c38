// Elementwise ops: broadcasting inference, reference evaluation on hand-computed cases, error messages.
import { describe, expect, it } from 'vitest';
import { makeNode } from '../../ir/builder.ts';
import type { Input } from '../../ir/graph.ts';
import { ELEMENTWISE } from '../../ir/ops/elementwise.ts';
import { tensor, tensorType, type DType, type Shape } from '../../ir/types.ts';
import { f32, runOp, values, kilnErrorOf } from './run-op.ts';

const input = (name: string, dtype: DType, shape: Shape): Input => ({
  kind: 'input',
  name,
  type: tensorType(dtype, shape),
});
const i32 = (shape: Shape, v: readonly number[]) => tensor('i32', shape, v);
const bool = (shape: Shape, v: readonly number[]) => tensor('bool', shape, v);

describe('broadcasting inference', () => {
  const cases: [Shape, Shape, Shape][] = [
    [[], [2, 3], [2, 3]], // scalar with tensor
    [[2, 3], [], [2, 3]],
    [
      [3, 1],
      [1, 4],
      [3, 4],
    ],
    [[4], [2, 3, 4], [2, 3, 4]], // rank mismatch
    [
      [2, 1, 3],
      [5, 1],
      [2, 5, 3],
    ],
    [
      [0, 1],
      [1, 3],
      [0, 3],
    ], // empty dimension
    [[1], [1], [1]],
  ];
  for (const [a, b, out] of cases) {
    it(`add [${a}] x [${b}] -> [${out}]`, () => {
      const n = makeNode('add', [input('a', 'f32', a), input('b', 'f32', b)]);
      expect(n.type).toEqual({ dtype: 'f32', shape: out });
    });
  }

  it('rejects incompatible shapes naming the op and both shapes', () => {
    const e = kilnErrorOf(() => makeNode('add', [input('a', 'f32', [2, 3]), input('b', 'f32', [4])]));
    expect(e.code).toBe('K1001');
    expect(e.detail).toContain('add: shapes [2,3] and [4] cannot be broadcast together');
    const m = kilnErrorOf(() => makeNode('maximum', [input('a', 'f32', [3, 2]), input('b', 'f32', [2, 3, 3])]));
    expect(m.detail).toContain('maximum: shapes [3,2] and [2,3,3]');
  });

  it('a builder error carries the user source location as file(line,col)', () => {
    const loc = { file: 'examples/mlp.ts', line: 12, col: 7 };
    const e = kilnErrorOf(() => makeNode('mul', [input('a', 'f32', [2, 3]), input('b', 'f32', [4])], {}, loc));
    expect(e.loc).toEqual(loc);
    expect(e.message).toBe(
      'examples/mlp.ts(12,7): error K1001: mul: shapes [2,3] and [4] cannot be broadcast together (dimension -1 is 3 vs 4); make the sizes equal or 1',
    );
  });

  it('comparisons give bool; where broadcasts all three inputs', () => {
    expect(makeNode('less', [input('a', 'i32', [3, 1]), input('b', 'i32', [4])]).type).toEqual({
      dtype: 'bool',
      shape: [3, 4],
    });
    const w = makeNode('where', [input('c', 'bool', [2, 1, 1]), input('a', 'f32', [3, 1]), input('b', 'f32', [4])]);
    expect(w.type).toEqual({ dtype: 'f32', shape: [2, 3, 4] });
    const e = kilnErrorOf(() =>
      makeNode('where', [input('c', 'bool', [5]), input('a', 'f32', [3, 1]), input('b', 'f32', [4])]),
    );
    expect(e.code).toBe('K1001');
    expect(e.detail).toContain('where: shapes [5] and [3,4]');
  });
});

describe('dtype rules', () => {
  it('arithmetic needs equal dtypes and says to cast', () => {
    const e = kilnErrorOf(() => makeNode('add', [input('a', 'f32', [2]), input('b', 'i32', [2])]));
    expect(e.code).toBe('K1002');
    expect(e.detail).toBe('add: inputs f32[2] and i32[2] have different dtypes; insert a cast');
  });

  it('float-only unary ops reject i32, naming the op and the type', () => {
    const e = kilnErrorOf(() => makeNode('exp', [input('x', 'i32', [2, 3])]));
    expect(e.code).toBe('K1002');
    expect(e.detail).toContain('exp: input has type i32[2,3], expected dtype f32');
    expect(makeNode('abs', [input('x', 'i32', [2])]).type.dtype).toBe('i32');
    expect(kilnErrorOf(() => makeNode('neg', [input('x', 'bool', [2])])).detail).toContain(
      'neg: input has type bool[2]',
    );
  });

  it('arithmetic rejects bool; where needs a bool cond', () => {
    expect(kilnErrorOf(() => makeNode('mul', [input('a', 'bool', [2]), input('b', 'bool', [2])])).detail).toBe(
      'mul: inputs bool[2] and bool[2] are bool, expected f32 or i32; insert a cast',
    );
    const e = kilnErrorOf(() =>
      makeNode('where', [input('c', 'f32', [2]), input('a', 'f32', [2]), input('b', 'f32', [2])]),
    );
    expect(e.code).toBe('K1002');
    expect(e.detail).toBe('where: cond has type f32[2], expected dtype bool');
    expect(
      kilnErrorOf(() => makeNode('where', [input('c', 'bool', [2]), input('a', 'f32', [2]), input('b', 'i32', [2])]))
        .detail,
    ).toContain('where: inputs f32[2] and i32[2] have different dtypes');
  });

  it('arity is checked', () => {
    const e = kilnErrorOf(() => makeNode('add', [input('a', 'f32', [2])]));
    expect(e.code).toBe('K1004');
    expect(e.detail).toBe('add: takes 2 inputs, got 1');
  });
});

describe('unary evaluation', () => {
  const x = f32([5], [-2, -0.5, 0, 1.5, 4]);
  const exact: [string, number[]][] = [
    ['neg', [2, 0.5, -0, -1.5, -4]],
    ['abs', [2, 0.5, 0, 1.5, 4]],
    ['sign', [-1, -1, 0, 1, 1]],
    ['relu', [0, 0, 0, 1.5, 4]],
    ['floor', [-2, -1, 0, 1, 4]],
    ['ceil', [-2, -0, 0, 2, 4]],
    ['reciprocal', [-0.5, -2, Infinity, 1 / 1.5, 0.25].map(Math.fround)],
    ['stop_gradient', [-2, -0.5, 0, 1.5, 4]],
  ];
  for (const [op, want] of exact) {
    it(op, () => expect(values(runOp(op, [x]))).toEqual(want));
  }

  it('transcendental ops', () => {
    const close = (op: string, xs: number[], want: number[]) => {
      const y = values(runOp(op, [f32([xs.length], xs)]));
      want.forEach((w, i) => expect(y[i]).toBeCloseTo(w, 6));
    };
    close('exp', [0, 1, -1], [1, 2.7182817, 0.36787945]);
    close('log', [1, Math.E, 10], [0, 1, 2.3025851]);
    close('sqrt', [0, 4, 2], [0, 2, 1.4142135]);
    close('rsqrt', [4, 2, 0.25], [0.5, 0.70710677, 2]);
    close('tanh', [0, 0.5, -0.5], [0, 0.46211717, -0.46211717]);
    close('sigmoid', [0, 2, -2], [0.5, 0.8807971, 0.1192029]);
    close('sin', [0, Math.PI / 2, Math.PI / 6], [0, 1, 0.5]);
    close('cos', [0, Math.PI, Math.PI / 3], [1, -1, 0.5]);
    expect(values(runOp('log', [f32([2], [0, -1])]))).toEqual([-Infinity, NaN]);
  });

  it('i32 neg, abs, sign, relu stay i32', () => {
    const y = runOp('relu', [i32([4], [-3, 0, 2, -1])]);
    expect(y.type.dtype).toBe('i32');
    expect(values(y)).toEqual([0, 0, 2, 0]);
    expect(values(runOp('abs', [i32([2], [-7, 7])]))).toEqual([7, 7]);
    expect(values(runOp('sign', [i32([3], [-7, 0, 9])]))).toEqual([-1, 0, 1]);
  });
});

describe('cast', () => {
  it('f32 -> i32 truncates toward zero; NaN gives 0', () => {
    const y = runOp('cast', [f32([6], [2.7, -2.7, 0.5, -0.5, 3, NaN])], { dtype: 'i32' });
    expect(y.type).toEqual({ dtype: 'i32', shape: [6] });
    expect(values(y)).toEqual([2, -2, 0, 0, 3, 0]);
  });
  it('to bool is x != 0 (NaN is true); from bool is 0/1', () => {
    expect(values(runOp('cast', [f32([5], [0, -0, 0.5, -3, NaN])], { dtype: 'bool' }))).toEqual([0, 0, 1, 1, 1]);
    expect(values(runOp('cast', [i32([3], [0, 5, -1])], { dtype: 'bool' }))).toEqual([0, 1, 1]);
    expect(values(runOp('cast', [bool([2], [1, 0])], { dtype: 'f32' }))).toEqual([1, 0]);
  });
  it('i32 -> f32 rounds to the nearest f32', () => {
    expect(values(runOp('cast', [i32([2], [16777217, -3])], { dtype: 'f32' }))).toEqual([16777216, -3]);
  });
  it('needs a dtype attribute', () => {
    const e = kilnErrorOf(() => makeNode('cast', [input('x', 'f32', [2])]));
    expect(e.code).toBe('K1003');
    expect(e.detail).toContain("cast: missing attribute 'dtype'");
  });
});

describe('binary evaluation', () => {
  it('add broadcasts [3,1] with [1,4]', () => {
    const y = runOp('add', [f32([3, 1], [1, 2, 3]), f32([1, 4], [10, 20, 30, 40])]);
    expect(y.type.shape).toEqual([3, 4]);
    expect(values(y)).toEqual([11, 21, 31, 41, 12, 22, 32, 42, 13, 23, 33, 43]);
  });
  it('scalar with tensor, both orders', () => {
    expect(values(runOp('sub', [f32([], [10]), f32([2, 2], [1, 2, 3, 4])]))).toEqual([9, 8, 7, 6]);
    expect(values(runOp('sub', [f32([2, 2], [1, 2, 3, 4]), f32([], [10])]))).toEqual([-9, -8, -7, -6]);
  });
  it('rank mismatch: [3] against [2,3]', () => {
    expect(values(runOp('mul', [f32([3], [1, 10, 100]), f32([2, 3], [1, 2, 3, 4, 5, 6])]))).toEqual([
      1, 20, 300, 4, 50, 600,
    ]);
  });
  it('div, pow, maximum, minimum on f32', () => {
    const a = f32([4], [1, -6, 2, 9]);
    const b = f32([4], [4, 3, 3, -3]);
    expect(values(runOp('div', [a, b]))).toEqual([0.25, -2, Math.fround(2 / 3), -3]);
    expect(values(runOp('pow', [a, b]))).toEqual([1, -216, 8, Math.fround(1 / 729)]);
    expect(values(runOp('maximum', [a, b]))).toEqual([4, 3, 3, 9]);
    expect(values(runOp('minimum', [a, b]))).toEqual([1, -6, 2, -3]);
    expect(values(runOp('div', [f32([2], [1, 0]), f32([2], [0, 0])]))).toEqual([Infinity, NaN]);
  });
  it('i32 div truncates toward zero; by zero gives 0', () => {
    const y = runOp('div', [i32([5], [7, -7, 7, -7, 5]), i32([5], [2, 2, -2, -2, 0])]);
    expect(y.type.dtype).toBe('i32');
    expect(values(y)).toEqual([3, -3, -3, 3, 0]);
  });
  it('i32 add and mul wrap mod 2^32', () => {
    expect(values(runOp('add', [i32([1], [2147483647]), i32([1], [1])]))).toEqual([-2147483648]);
    expect(values(runOp('mul', [i32([2], [65536, 123456789]), i32([2], [65536, 987654321])]))).toEqual([0, -67153019]);
  });
  it('i32 maximum, pow', () => {
    expect(values(runOp('maximum', [i32([3], [-1, 5, 2]), i32([], [2])]))).toEqual([2, 5, 2]);
    expect(values(runOp('pow', [i32([3], [2, -3, 2]), i32([3], [10, 3, -1])]))).toEqual([1024, -27, 0]);
  });
});

describe('comparisons and where', () => {
  const a = f32([4], [1, 2, 3, NaN]);
  const b = f32([], [2]);
  const cases: [string, number[]][] = [
    ['less', [1, 0, 0, 0]],
    ['less_equal', [1, 1, 0, 0]],
    ['equal', [0, 1, 0, 0]],
    ['not_equal', [1, 0, 1, 1]],
    ['greater', [0, 0, 1, 0]],
    ['greater_equal', [0, 1, 1, 0]],
  ];
  for (const [op, want] of cases) {
    it(`${op} (NaN compares false, except not_equal)`, () => {
      const y = runOp(op, [a, b]);
      expect(y.type).toEqual({ dtype: 'bool', shape: [4] });
      expect(values(y)).toEqual(want);
    });
  }
  it('compare i32 and bool', () => {
    expect(values(runOp('greater', [i32([2, 1], [1, 5]), i32([3], [0, 1, 6])]))).toEqual([1, 0, 0, 1, 1, 0]);
    expect(values(runOp('equal', [bool([2], [1, 0]), bool([2], [1, 1])]))).toEqual([1, 0]);
  });
  it('where picks a where cond is true, under broadcasting', () => {
    const y = runOp('where', [bool([3, 1], [1, 0, 1]), f32([1, 2], [10, 20]), f32([], [-1])]);
    expect(y.type.shape).toEqual([3, 2]);
    expect(values(y)).toEqual([10, 20, -1, -1, 10, 20]);
    expect(values(runOp('where', [bool([2], [0, 1]), i32([2], [1, 2]), i32([2], [3, 4])]))).toEqual([3, 2]);
  });
});

describe('registry entries', () => {
  it('every elementwise op has a scalar function that agrees with its eval', () => {
    for (const [name, def] of Object.entries(ELEMENTWISE)) {
      expect(def.kind, name).toBe('elementwise');
      expect(typeof def.scalar, name).toBe('function');
    }
    expect(ELEMENTWISE.add.scalar!(2, 3)).toBe(5);
    expect(ELEMENTWISE.where.scalar!(0, 1, 2)).toBe(2);
    expect(ELEMENTWISE.greater.scalar!(3, 2)).toBe(1);
    expect(ELEMENTWISE.sigmoid.scalar!(0)).toBe(0.5);
  });
  it('comparisons have no gradient; floor, ceil, sign, stop_gradient give a null cotangent', () => {
    for (const op of ['less', 'less_equal', 'equal', 'not_equal', 'greater', 'greater_equal'] as const)
      expect(ELEMENTWISE[op].vjp).toBe('none');
    const x = input('x', 'f32', [2]);
    for (const op of ['floor', 'ceil', 'sign', 'stop_gradient'] as const) {
      const out = makeNode(op, [x]);
      const rule = ELEMENTWISE[op].vjp;
      if (rule === 'none') throw new Error(`${op} should have a rule`);
      expect(rule({ emit: makeNode, inputs: [x], out, g: out, attrs: {} }), op).toEqual([null]);
    }
  });
  it('integer inputs get null cotangents; cast to i32 too', () => {
    const a = input('a', 'i32', [2]);
    const mul = makeNode('mul', [a, a]);
    const rule = ELEMENTWISE.mul.vjp;
    if (rule === 'none') throw new Error('mul should have a rule');
    expect(rule({ emit: makeNode, inputs: [a, a], out: mul, g: mul, attrs: {} })).toEqual([null, null]);
    const x = input('x', 'f32', [2]);
    const c = makeNode('cast', [x], { dtype: 'i32' });
    const castRule = ELEMENTWISE.cast.vjp;
    if (castRule === 'none') throw new Error('cast should have a rule');
    expect(castRule({ emit: makeNode, inputs: [x], out: c, g: c, attrs: c.attrs })).toEqual([null]);
  });
});
