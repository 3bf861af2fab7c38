// Random graphs of elementwise, view, reduction and matmul ops: the same results before and after
// every pass, and after fusion and lowering (Kernel IR interpreter vs graph interpreter).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../ir/builder.ts';
import type { Graph, Value } from '../../ir/graph.ts';
import { interpret } from '../../ir/interpret.ts';
import { GRAPH_PASSES } from '../../compiler/pipeline.ts';
import { checkLowering, expectClose, feeds } from './helpers.ts';

type Step = [op: number, a: number, b: number];

const UNARY = ['exp', 'tanh', 'relu', 'neg', 'sigmoid', 'abs'];
const BINARY = ['add', 'mul', 'sub', 'maximum'];

/** Builds a graph over x: f32[4,6] from steps; every value keeps shape [4,6] so any two combine. */
function build(steps: readonly Step[]): Graph {
  const b = new GraphBuilder('random');
  const x = b.input('x', 'f32', [4, 6]);
  const w = b.input('w', 'f32', [6, 6]);
  const vals: Value[] = [x];
  const pick = (i: number): Value => vals[i % vals.length]!;
  for (const [op, i, j] of steps) {
    const a = pick(i),
      c = pick(j);
    let v: Value;
    switch (op % 8) {
      case 0:
        v = b.op(UNARY[i % UNARY.length]!, [a]);
        break;
      case 1:
        v = b.op(BINARY[j % BINARY.length]!, [a, c]);
        break;
      case 2:
        v = b.op('reshape', [b.op('transpose', [a], { perm: [1, 0] })], { shape: [4, 6] });
        break;
      case 3:
        v = b.op('sub', [a, b.op('max', [a], { axes: [1], keepdims: true })]);
        break;
      case 4:
        v = b.op('div', [
          a,
          b.op('add', [
            b.op('sum', [b.op('exp', [a])], { axes: [0], keepdims: true }),
            b.op('constant', [], { value: [1], shape: [], dtype: 'f32' }),
          ]),
        ]);
        break;
      case 5:
        v = b.op('matmul', [a, w]);
        break;
      case 6:
        v = b.op(
          'concat',
          [
            b.op('slice', [a], { start: [0, 0], end: [4, 3], step: [1, 1] }),
            b.op('slice', [c], { start: [0, 3], end: [4, 6], step: [1, 1] }),
          ],
          { axis: 1 },
        );
        break;
      default:
        v = b.op('mul', [a, b.op('constant', [], { value: [1], shape: [], dtype: 'f32' })]);
        break;
    }
    vals.push(v);
  }
  b.output('y', vals[vals.length - 1]!);
  if (vals.length > 2) b.output('z', b.op('mean', [vals[1]!], { axes: [] }));
  return b.finish();
}

const steps = fc.array(fc.tuple(fc.nat(7), fc.nat(20), fc.nat(20)), { minLength: 1, maxLength: 10 });

describe('random graphs', () => {
  it('every graph pass preserves the results', () => {
    fc.assert(
      fc.property(steps, (s) => {
        let g = build(s);
        const { inputs } = feeds(g, 5);
        const want = interpret(g, inputs);
        for (const p of GRAPH_PASSES) {
          g = p.run(g);
          const got = interpret(g, inputs);
          for (const o of g.outputs)
            expectClose(got.outputs[o.name]!, want.outputs[o.name]!, `${p.name}: ${o.name}`, 1e-5);
        }
        expect(g.outputs.length).toBe(want.outputs.z ? 2 : 1);
      }),
      { numRuns: 60 },
    );
  });

  it('lowered kernels give the graph interpreter results', () => {
    fc.assert(
      fc.property(steps, (s) => {
        checkLowering(build(s), { tol: 1e-4 });
      }),
      { numRuns: 60 },
    );
  });
});
