// Fusion's recompute decision weighs each op by its registry cost: a transcendental op (sigmoid,
// tanh, exp, ...) counts as several simple ops, so an LSTM's cell state c' = σ(f)·c + σ(i)·tanh(g),
// read by the next step and by h' = σ(o)·tanh(c'), is stored once rather than recomputed with its
// gates; a value a reduction reads (softmax's clipped p, read by cross-entropy's sum and by the
// gradient; binary cross-entropy's e^-|x|) is recomputed whatever it costs, as storing it would add
// a kernel before the reduction: softmax + cross-entropy stays two kernels.
import { describe, expect, it } from 'vitest';
import { GraphBuilder, opDef } from '../../ir/builder.ts';
import type { Node, Value } from '../../ir/graph.ts';
import { TRANSCENDENTAL_COST } from '../../ir/ops/rules.ts';
import { DEFAULT_LIMITS, fuse, groupNodes, type Fusion } from '../../compiler/passes/fuse.ts';
import { checkLowering } from './helpers.ts';

/** For each group of `f`, the nodes it computes: its roots, its core and what they inline. */
const computedBy = (f: Fusion): Set<Node>[] => f.groups.map((grp) => groupNodes(f, grp));

describe('recompute cost in the op registry', () => {
  it('transcendental ops cost several simple ops, arithmetic one', () => {
    expect(TRANSCENDENTAL_COST).toBeGreaterThan(1);
    for (const op of ['exp', 'log', 'tanh', 'sigmoid', 'sin', 'cos', 'pow'])
      expect(opDef(op).cost, op).toBe(TRANSCENDENTAL_COST);
    for (const op of ['add', 'mul', 'sub', 'div', 'maximum', 'where', 'relu', 'neg'])
      expect(opDef(op).cost ?? 1, op).toBe(1);
  });
});

/** Two LSTM steps, the second's gates from matmul(h1, U), so each step's h is its own kernel. */
function lstmSteps(): { g: ReturnType<GraphBuilder['finish']>; c1: Node; gates: Node[] } {
  const [batch, units] = [2, 3];
  const b = new GraphBuilder('lstm_steps');
  const gate = (z: Value, i: number): Value =>
    b.op('slice', [z], { start: [0, i * units], end: [batch, (i + 1) * units], step: [1, 1] });
  const step = (z: Value, c: Value) => {
    const [i, f, g, o] = [
      b.op('sigmoid', [gate(z, 0)]),
      b.op('sigmoid', [gate(z, 1)]),
      b.op('tanh', [gate(z, 2)]),
      b.op('sigmoid', [gate(z, 3)]),
    ];
    const c2 = b.op('add', [b.op('mul', [f, c]), b.op('mul', [i, g])]);
    return { c: c2, h: b.op('mul', [o, b.op('tanh', [c2])]), gates: [i, f, g] };
  };
  const z1 = b.input('z1', 'f32', [batch, 4 * units]);
  const x2 = b.input('x2', 'f32', [batch, 4 * units]);
  const u = b.input('u', 'f32', [units, 4 * units]);
  const s1 = step(z1, b.input('c0', 'f32', [batch, units]));
  const s2 = step(b.op('add', [x2, b.op('matmul', [s1.h, u])]), s1.c);
  b.output('h2', s2.h);
  b.output('c2', s2.c);
  return { g: b.finish(), c1: s1.c, gates: s1.gates };
}

describe('an LSTM cell chain', () => {
  const { g, c1, gates } = lstmSteps();

  it('the cell state read by two kernels is stored once, each gate activation computed by one kernel', () => {
    const f = fuse(g);
    expect(f.materialized.has(c1)).toBe(true);
    const computed = computedBy(f);
    for (const gate of gates) expect(computed.filter((s) => s.has(gate)).length, gate.op).toBe(1);
  });

  it('matches the interpreter', () => {
    checkLowering(g);
  });

  it('is recomputed when the limit allows its cost (the decision is the weighted cost, not a rule for cells)', () => {
    const f = fuse(g, { ...DEFAULT_LIMITS, recomputeNodes: 3 * TRANSCENDENTAL_COST + 3 });
    expect(f.materialized.has(c1)).toBe(false);
  });
});

/** Softmax + categorical cross-entropy on clipped probabilities (as losses.categoricalCrossentropy
 *  builds it), with the gradient of the loss with respect to p as a second output. */
function softmaxCrossEntropy(): { g: ReturnType<GraphBuilder['finish']>; clipped: Node } {
  const b = new GraphBuilder('softmax_ce');
  const x = b.input('x', 'f32', [4, 10]);
  const y = b.op('one_hot', [b.input('label', 'i32', [4])], { depth: 10 });
  const k = (v: number): Value => b.op('constant', [], { value: [v], shape: [], dtype: 'f32' });
  const rowSum = (v: Value): Node => b.op('sum', [v], { axes: [1], keepdims: true });
  const e = b.op('exp', [b.op('sub', [x, b.op('stop_gradient', [b.op('max', [x], { axes: [1], keepdims: true })])])]);
  const p = b.op('div', [e, rowSum(e)]);
  const q = b.op('div', [p, rowSum(p)]);
  const clipped = b.op('maximum', [q, k(1e-7)]);
  const pc = b.op('minimum', [clipped, k(1 - 1e-7)]);
  b.output('loss', b.op('neg', [b.op('sum', [b.op('mul', [y, b.op('log', [pc])])], { axes: [1] })]));
  b.output('dp', b.op('where', [b.op('less_equal', [clipped, k(1 - 1e-7)]), b.op('div', [y, pc]), k(0)]));
  return { g: b.finish(), clipped };
}

describe('softmax + cross-entropy', () => {
  const { g, clipped } = softmaxCrossEntropy();

  it('the clipped probabilities, costlier than the recompute limit, stay inside the reduction kernel: two kernels', () => {
    const f = fuse(g);
    expect(f.materialized.has(clipped)).toBe(false);
    const p = checkLowering(g);
    expect(p.entries[0]!.kernels.map((kn) => kn.kind)).toEqual(['loop', 'loop']);
  });
});

/** Binary cross-entropy on logits, log(1 + e^-|x|) + relu(x) - x y, with its gradient
 *  sigmoid(x) - y written with the same e^-|x| as a second output. */
function binaryCrossEntropy(): { g: ReturnType<GraphBuilder['finish']>; e: Node } {
  const b = new GraphBuilder('binary_ce');
  const x = b.input('x', 'f32', [8, 1]);
  const y = b.input('y', 'f32', [8, 1]);
  const one = b.op('constant', [], { value: [1], shape: [], dtype: 'f32' });
  const e = b.op('exp', [b.op('neg', [b.op('abs', [x])])]);
  const terms = b.op('sub', [
    b.op('add', [b.op('log', [b.op('add', [one, e])]), b.op('relu', [x])]),
    b.op('mul', [x, y]),
  ]);
  b.output('loss', b.op('mean', [terms], { axes: [] }));
  const r = b.op('div', [one, b.op('add', [one, e])]);
  const sig = b.op('where', [
    b.op('greater_equal', [x, b.op('constant', [], { value: [0], shape: [], dtype: 'f32' })]),
    r,
    b.op('mul', [e, r]),
  ]);
  b.output('dx', b.op('sub', [sig, y]));
  return { g: b.finish(), e };
}

describe('binary cross-entropy', () => {
  const { g, e } = binaryCrossEntropy();

  it("e^-|x|, costlier than the recompute limit and read by the loss's mean, is recomputed: two kernels", () => {
    const limits = { ...DEFAULT_LIMITS, recomputeNodes: TRANSCENDENTAL_COST + 1 }; // exp, neg, abs cost more
    expect(fuse(g, limits).materialized.has(e)).toBe(false);
    const p = checkLowering(g, { limits });
    expect(p.entries[0]!.kernels.map((kn) => kn.kind)).toEqual(['loop', 'loop']);
  });
});
