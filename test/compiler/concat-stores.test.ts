// Concats in the LSTM training step: autodiff's sum of the cotangents of the four gate slices (zero
// pads tiling one axis) is simplified to a concat, and a concat of computed pieces read by nothing
// else is stored piecewise by the kernel computing the pieces: no copy kernel with guarded loads.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../ir/builder.ts';
import type { Graph, Node, Value } from '../../ir/graph.ts';
import type { Kernel, LoopKernel } from '../../ir/kernel.ts';
import { interpret } from '../../ir/interpret.ts';
import { defineModel, losses, nn, optimizers } from '../../compiler/index.ts';
import { modelEntries } from '../../compiler/pipeline.ts';
import { simplify } from '../../compiler/passes/simplify.ts';
import { checkLowering, expectClose, feeds } from './helpers.ts';

const pad = (b: GraphBuilder, x: Value, lo: number, hi: number): Node =>
  b.op('pad', [x], { lo: [0, lo], hi: [0, hi], value: 0 });

/** sum of zero pads of pieces [2, widths[i]] placed at `starts[i]` on axis 1 of a [2, total] tensor. */
function padSum(widths: readonly number[], starts: readonly number[], total: number): Graph {
  const b = new GraphBuilder('pads');
  const pieces = widths.map((w, i) => b.op('tanh', [b.input(`x${i}`, 'f32', [2, w])]));
  let acc: Value | undefined;
  pieces.forEach((p, i) => {
    const padded = pad(b, p, starts[i]!, total - starts[i]! - widths[i]!);
    acc = acc ? b.op('add', [acc, padded]) : padded;
  });
  b.output('y', acc!);
  return b.finish();
}

const opsOf = (g: Graph): string[] => g.nodes.map((n) => n.op);

function expectSameResults(before: Graph, after: Graph): void {
  const { inputs } = feeds(before, 3);
  expectClose(interpret(after, inputs, {}).outputs.y!, interpret(before, inputs, {}).outputs.y!, 'y', 1e-6);
}

describe('simplify: a sum of zero pads tiling an axis is a concat', () => {
  it("four pieces in any order (an LSTM's i, f, c~, o cotangents) -> one concat in axis order", () => {
    const g = padSum([3, 3, 3, 3], [6, 0, 3, 9], 12);
    const fired: string[] = [];
    const s = simplify(g, { onRule: (r) => fired.push(r) });
    expect(fired).toContain('pads_concat');
    expect(opsOf(s).filter((o) => o === 'add' || o === 'pad')).toEqual([]);
    const cat = s.outputs[0]!.value as Node;
    expect(cat.op).toBe('concat');
    expect(
      cat.inputs.map(
        (x) => (x as Node).inputs[0]!.kind === 'input' && ((x as Node).inputs[0] as { name: string }).name,
      ),
    ).toEqual(['x1', 'x2', 'x0', 'x3']);
    expectSameResults(g, s);
  });

  it('pieces of different widths covering part of the axis -> a pad of their concat', () => {
    const g = padSum([2, 3], [4, 1], 8);
    const s = simplify(g);
    const out = s.outputs[0]!.value as Node;
    expect(out.op).toBe('pad');
    expect(out.attrs.lo).toEqual([0, 1]);
    expect(out.attrs.hi).toEqual([0, 2]);
    expect((out.inputs[0] as Node).op).toBe('concat');
    expectSameResults(g, s);
  });

  it('leaves overlapping pieces and gaps alone', () => {
    for (const g of [padSum([3, 3], [0, 2], 6), padSum([2, 2], [0, 3], 6)]) {
      const s = simplify(g);
      expect(opsOf(s)).toContain('add');
      expect(opsOf(s)).not.toContain('concat');
      expectSameResults(g, s);
    }
  });
});

/** relu(x * k) for k = 1..4 concatenated on the last axis, then multiplied by W. */
function concatGraph(extraUse: boolean): Graph {
  const b = new GraphBuilder('cat');
  const x = b.input('x', 'f32', [4, 3]);
  const w = b.input('w', 'f32', [12, 5]);
  const pieces = [1, 2, 3, 4].map((k) =>
    b.op('relu', [b.op('mul', [x, b.op('constant', [], { value: [k], shape: [], dtype: 'f32' })])]),
  );
  const cat = b.op('concat', pieces, { axis: 1 });
  b.output('y', b.op('matmul', [cat, w]));
  if (extraUse) b.output('p', b.op('exp', [pieces[0]!]));
  return b.finish();
}

const loops = (ks: readonly Kernel[]): LoopKernel[] => ks.filter((k): k is LoopKernel => k.kind === 'loop');

describe('fusion: a concat of computed pieces is stored piecewise', () => {
  it("one loop kernel over a piece's space stores the four pieces into the concat's buffer, then the matmul", () => {
    const p = checkLowering(concatGraph(false));
    const ks = p.entries[0]!.kernels;
    expect(ks.map((k) => k.kind)).toEqual(['loop', 'contraction']);
    const loop = loops(ks)[0]!;
    expect(loop.space).toEqual([4, 3]);
    expect(loop.stores).toHaveLength(4);
    expect(new Set(loop.stores.map((s) => s.buf)).size).toBe(1);
    expect(ks[1]!.kind === 'contraction' && ks[1]!.a.buf).toBe(loop.stores[0]!.buf);
  });

  it('a piece read elsewhere too keeps its own buffer (results unchanged)', () => {
    const p = checkLowering(concatGraph(true));
    expect(p.entries[0]!.kernels.length).toBeGreaterThan(2);
  });
});

describe('a small LSTM training step', () => {
  const [batch, time, features, u1, u2] = [3, 6, 2, 4, 5]; // distinct, so no other kernel shares a gate kernel's shape
  const model = defineModel({
    name: 'small_lstm',
    batch,
    inputs: { x: { dtype: 'f32', shape: [time, features] } },
    targets: { y: { dtype: 'i32', shape: [] } },
    forward: nn.sequential([
      nn.lstm(u1, { returnSequences: true }),
      nn.lstm(u2),
      nn.dense(3, { activation: 'softmax' }),
    ]),
    train: { loss: losses.sparseCategoricalCrossentropy(), optimizer: optimizers.adam() },
  });
  const train = modelEntries(model, { train: true })[1]!.graph;

  it('matches the graph interpreter on the Kernel IR interpreter', () => {
    checkLowering(train, { seed: 5 });
  });

  it("has no gate-gradient concat kernels: each backward cell stores its 4 gate cotangents into one buffer (the recurrent matmul's operand)", () => {
    const ks = checkLowering(train, { seed: 6 }).entries[0]!.kernels;
    for (const units of [u1, u2]) {
      const gates = 4 * units;
      expect(loops(ks).filter((k) => k.space.length === 2 && k.space[0] === batch && k.space[1] === gates)).toEqual([]);
      const cells = loops(ks).filter(
        (k) =>
          k.space[1] === units && k.stores.filter((s) => s.buf === k.stores[k.stores.length - 1]!.buf).length === 4,
      );
      expect(cells.length).toBe(time);
    }
  });

  it('computes each input-projection weight gradient with one GEMM over batch x time, and no reduction over the batch', () => {
    const ks = checkLowering(train, { seed: 7 }).entries[0]!.kernels;
    for (const [rows, gates] of [
      [features, 4 * u1],
      [u1, 4 * u2],
    ]) {
      const grads = ks.filter((k) => k.kind === 'contraction' && k.m === rows && k.n === gates);
      expect(grads.map((k) => k.kind === 'contraction' && [k.batch.length, k.k])).toEqual([[0, batch * time]]);
    }
    expect(
      loops(ks).filter(
        (k) => k.reduce && k.reduce.extents.length === 1 && k.reduce.extents[0] === batch && k.space.length === 3,
      ),
    ).toEqual([]);
  });
});
