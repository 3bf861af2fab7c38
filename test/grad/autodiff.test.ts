// Reverse mode on composite graphs against central finite differences in the float64 interpreter.
// Every element of every gradient is checked: (f(x + eps e_i) - f(x - eps e_i)) / 2eps with
// eps = 1e-6 and f = <seed, output> for a random seed; tolerance 1e-6 * max(1, |numeric|)
// (truncation error ~eps^2, rounding ~1e-16/eps).
import { describe, expect, it } from 'vitest';
import { GraphBuilder, makeNode } from '../../ir/builder.ts';
import { KilnError, type Loc } from '../../ir/errors.ts';
import type { Attrs, Graph, Input, Value } from '../../ir/graph.ts';
import { makeGraph } from '../../ir/graph.ts';
import { interpret } from '../../ir/interpret.ts';
import { OPS } from '../../ir/ops/index.ts';
import type { OpDef } from '../../ir/ops/def.ts';
import { tensorType, type Shape, type Tensor } from '../../ir/types.ts';
import { grad, gradGraph } from '../../compiler/passes/autodiff.ts';
import { randomTensor, rng } from './check-vjp.ts';

const op = (name: string, inputs: readonly Value[], attrs: Attrs = {}): Value => makeNode(name, inputs, attrs);
const EPS = 1e-6;
const RTOL = 1e-6;

interface Case {
  /** Differentiated inputs (f32), filled uniform in [-1, 1]. */
  readonly wrt: Record<string, Shape>;
  /** Inputs held fixed (any dtype). */
  readonly fixed?: Record<string, Tensor>;
  readonly f: (x: Record<string, Input>) => Value;
}

/** Checks every gradient element of `c` against central differences; returns the gradient graph. */
function checkGrad(c: Case, seed = 1): Graph {
  const next = rng(seed);
  const x: Record<string, Input> = {};
  for (const [k, s] of Object.entries(c.wrt)) x[k] = { kind: 'input', name: k, type: tensorType('f32', s) };
  for (const [k, t] of Object.entries(c.fixed ?? {})) x[k] = { kind: 'input', name: k, type: t.type };
  const y = c.f(x);
  const seedIn: Input = { kind: 'input', name: 'seed', type: y.type };
  const wrt = Object.keys(c.wrt).map((k) => x[k]!);
  const grads = grad({ of: y, wrt, seed: seedIn });
  const inputs = Object.values(x);
  const fwd = makeGraph({ name: 'f', inputs: [...inputs, seedIn], params: [], outputs: [{ name: 'y', value: y }] });
  const bwd = makeGraph({
    name: 'df',
    inputs: [...inputs, seedIn],
    params: [],
    outputs: wrt.map((w) => ({ name: w.name, value: grads.get(w)! })),
  });

  const feeds: Record<string, Tensor> = { ...c.fixed, seed: randomTensor(y.type, next) };
  for (const w of wrt) feeds[w.name] = randomTensor(w.type, next);
  const objective = (f: Record<string, Tensor>): number => {
    const out = interpret(fwd, f, {}, { float64: true }).outputs.y!;
    let s = 0;
    for (let i = 0; i < out.data.length; i++) s += out.data[i]! * feeds.seed!.data[i]!;
    return s;
  };
  const analytic = interpret(bwd, feeds, {}, { float64: true }).outputs;
  for (const w of wrt) {
    const base = feeds[w.name]!;
    const got = analytic[w.name]!;
    expect(got.type.shape).toEqual(base.type.shape);
    for (let i = 0; i < base.data.length; i++) {
      const shifted = (d: number): Record<string, Tensor> => {
        const data = Float64Array.from(base.data);
        data[i]! += d;
        return { ...feeds, [w.name]: { type: base.type, data } };
      };
      const numeric = (objective(shifted(EPS)) - objective(shifted(-EPS))) / (2 * EPS);
      expect(
        Math.abs(got.data[i]! - numeric),
        `d/d${w.name}[${i}]: analytic ${got.data[i]} vs numeric ${numeric}`,
      ).toBeLessThanOrEqual(RTOL * Math.max(1, Math.abs(numeric)));
    }
  }
  return bwd;
}

describe('grad: composite graphs against finite differences', () => {
  it('matmul chain with a broadcast bias, tanh, and sum/mean/max reductions', () => {
    checkGrad({
      wrt: { x: [3, 4], w1: [4, 5], b1: [5], w2: [5, 2] },
      f: ({ x, w1, b1, w2 }) => {
        const h = op('tanh', [op('add', [op('matmul', [x!, w1!]), b1!])]);
        const o = op('matmul', [h, w2!]);
        const rowMax = op('max', [o], { axes: [1], keepdims: true });
        return op('add', [
          op('mean', [op('mul', [o, o])], { axes: [] }),
          op('sum', [op('exp', [op('sub', [o, rowMax])])], { axes: [] }),
        ]);
      },
    });
  });

  it('broadcasting on both sides, transposed matmul, non-scalar output', () => {
    checkGrad({
      wrt: { a: [3, 1], b: [1, 4], c: [2, 4] },
      f: ({ a, b, c }) => {
        const s = op('mul', [op('add', [a!, b!]), op('sigmoid', [b!])]); // [3,4]
        return op('matmul', [s, c!], { transpose_b: true }); // [3,2]
      },
    });
  });

  it('shared subexpressions accumulate (a value with several users, a param used twice)', () => {
    checkGrad({
      wrt: { x: [2, 3], w: [3, 3] },
      f: ({ x, w }) => {
        const h = op('matmul', [x!, w!]);
        const h2 = op('matmul', [h, w!]); // w used again
        const both = op('add', [
          op('mul', [h, h]),
          op('div', [h2, op('add', [op('abs', [h]), op('constant', [], { value: [1], shape: [], dtype: 'f32' })])]),
        ]);
        return op('sum', [both], { axes: [0] });
      },
    });
  });

  it('integer and boolean values get no cotangent: gather indices, where conditions, argmax', () => {
    checkGrad({
      wrt: { t: [4, 3], x: [2, 3] },
      fixed: { idx: { type: tensorType('i32', [2]), data: Int32Array.from([3, 1]) } },
      f: ({ t, x, idx }) => {
        const rows = op('gather', [t!, idx!], { axis: 0 }); // [2,3]
        const pos = op('greater', [x!, rows]);
        const picked = op('where', [pos, op('mul', [x!, rows]), op('mul', [x!, x!])]);
        const am = op('cast', [op('argmax', [x!], { axis: 1 })], { dtype: 'f32' }); // depends on x, no gradient
        return op('add', [op('sum', [picked], { axes: [] }), op('sum', [am], { axes: [] })]);
      },
    });
  });

  it('strided, padded convolution feeding a reduction', () => {
    checkGrad({
      wrt: { x: [1, 5, 5, 2], w: [3, 3, 2, 3] },
      f: ({ x, w }) => {
        const y = op('conv2d', [x!, w!], { strides: [2, 2], pads: [1, 1, 1, 1] });
        return op('sum', [op('mul', [y, op('tanh', [y])])], { axes: [1, 2] });
      },
    });
  });
});

describe('grad: structure', () => {
  const a: Input = { kind: 'input', name: 'a', type: tensorType('f32', [3]) };
  const c: Input = { kind: 'input', name: 'c', type: tensorType('f32', [3]) };
  const sumAll = (v: Value): Value => op('sum', [v], { axes: [] });

  it('unused branches produce no backward nodes', () => {
    const only = sumAll(op('mul', [a, a]));
    const branch = op('exp', [c]);
    const withBranch = op('add', [only, sumAll(branch)]);
    const count = (of: Value): number => {
      const g = grad({ of, wrt: [a] }).get(a)!;
      const fwd = makeGraph({ name: 'f', inputs: [a, c], params: [], outputs: [{ name: 'y', value: of }] });
      const both = makeGraph({
        name: 'fb',
        inputs: [a, c],
        params: [],
        outputs: [
          { name: 'y', value: of },
          { name: 'g', value: g },
        ],
      });
      for (const n of both.nodes) if (!fwd.nodes.includes(n)) expect(n.inputs).not.toContain(branch);
      return both.nodes.length - fwd.nodes.length;
    };
    expect(count(withBranch)).toBe(count(only));
  });

  it('a wrt value the output does not depend on gets zeros', () => {
    const g = grad({ of: sumAll(a), wrt: [a, c] });
    const gc = g.get(c)!;
    const out = interpret(makeGraph({ name: 'z', inputs: [], params: [], outputs: [{ name: 'gc', value: gc }] }), {})
      .outputs.gc!;
    expect(Array.from(out.data)).toEqual([0, 0, 0]);
  });

  it('backward nodes carry the location of the forward node they differentiate', () => {
    const loc: Loc = { file: 'model.ts', line: 7, col: 3 };
    const y = makeNode('sum', [makeNode('exp', [a], {}, loc)], { axes: [] });
    const ga = grad({ of: y, wrt: [a] }).get(a)! as { op: string; loc?: Loc };
    expect(ga.op).toBe('mul'); // g * exp(a)
    expect(ga.loc).toEqual(loc);
  });

  it('gradGraph adds grad/<name> outputs and keeps forward and backward in one graph', () => {
    const b = new GraphBuilder('lin');
    const x = b.input('x', 'f32', [2, 3]);
    const w = b.param('w', 'f32', [3, 1], { name: 'zeros', attrs: {} });
    b.output('loss', sumAll(op('matmul', [x, w])));
    const g = gradGraph(b.finish(), { of: 'loss', wrt: ['w'] });
    expect(g.outputs.map((o) => o.name)).toEqual(['loss', 'grad/w']);
    const xs = { type: tensorType('f32', [2, 3]), data: Float32Array.from([1, 2, 3, 4, 5, 6]) };
    const r = interpret(g, { x: xs }, { w: { type: tensorType('f32', [3, 1]), data: new Float32Array(3) } }).outputs;
    expect(Array.from(r['grad/w']!.data)).toEqual([5, 7, 9]); // column sums of x
    expect(() => gradGraph(b.finish(), { of: 'nope', wrt: ['w'] })).toThrow(/no output 'nope'/);
  });

  it('K5001 for an op without a gradient on the path, and for integer wrt values', () => {
    const registry = OPS as unknown as Record<string, OpDef>;
    registry.test_opaque = { ...registry.neg!, vjp: 'none', doc: 'test only' };
    try {
      const loc: Loc = { file: 'm.ts', line: 2, col: 9 };
      const y = sumAll(makeNode('test_opaque', [a], {}, loc));
      let err: unknown;
      try {
        grad({ of: y, wrt: [a] });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(KilnError);
      expect((err as KilnError).code).toBe('K5001');
      expect((err as KilnError).detail).toMatch(/^test_opaque: has no gradient/);
      expect((err as KilnError).loc).toEqual(loc);
      // the same op off the differentiated path is fine
      expect(() => grad({ of: op('add', [sumAll(a), sumAll(makeNode('test_opaque', [c]))]), wrt: [a] })).not.toThrow();
    } finally {
      delete registry.test_opaque;
    }
    const i: Input = { kind: 'input', name: 'i', type: tensorType('i32', [3]) };
    expect(() => grad({ of: sumAll(op('cast', [i], { dtype: 'f32' })), wrt: [i] })).toThrow(
      /K5001.*integer and boolean/,
    );
  });
});
