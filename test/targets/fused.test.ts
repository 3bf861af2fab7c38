// Random fused graphs (fast-check): chains of elementwise ops over broadcast shapes, optionally
// ending in a reduction or feeding a matmul / conv epilogue, compiled and run on wasm, agree with the
// interpreter within 1e-4 relative.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { GraphBuilder } from '../../ir/builder.ts';
import type { Value } from '../../ir/graph.ts';
import { checkTarget } from './targets.ts';
import { TARGETS } from './list.ts';

const UNARY = ['neg', 'exp', 'tanh', 'sigmoid', 'relu', 'abs', 'sin', 'floor'] as const;
const BINARY = ['add', 'sub', 'mul', 'maximum', 'minimum'] as const;

const step = fc.oneof(
  fc.record({ kind: fc.constant('unary' as const), op: fc.constantFrom(...UNARY) }),
  fc.record({
    kind: fc.constant('binary' as const),
    op: fc.constantFrom(...BINARY),
    bcast: fc.constantFrom('full', 'row', 'col'),
  }),
  fc.record({ kind: fc.constant('where' as const) }),
);

const graphSpec = fc.record({
  rows: fc.integer({ min: 1, max: 6 }),
  cols: fc.integer({ min: 1, max: 19 }),
  steps: fc.array(step, { minLength: 1, maxLength: 6 }),
  tail: fc.constantFrom('none', 'sum-rows', 'max-cols', 'mean-all', 'matmul', 'conv'),
  seed: fc.integer({ min: 1, max: 1000 }),
});

type Spec = typeof graphSpec extends fc.Arbitrary<infer T> ? T : never;

function build(s: Spec) {
  const b = new GraphBuilder('fused');
  let x: Value = b.input('x', 'f32', [s.rows, s.cols]);
  if (s.tail === 'matmul') x = b.op('matmul', [x, b.input('w', 'f32', [s.cols, 5])]);
  if (s.tail === 'conv')
    x = b.op(
      'reshape',
      [b.op('conv2d', [b.input('img', 'f32', [1, s.rows + 2, s.cols + 2, 2]), b.input('k', 'f32', [3, 3, 2, 1])])],
      { shape: [s.rows, s.cols] },
    );
  const shape = x.type.shape as number[];
  s.steps.forEach((st, i) => {
    if (st.kind === 'unary') x = b.op(st.op, [x]);
    else if (st.kind === 'where')
      x = b.op('where', [b.op('less', [x, b.input(`t${i}`, 'f32', [shape[1]!])]), x, b.op('neg', [x])]);
    else {
      const other = st.bcast === 'full' ? shape : st.bcast === 'row' ? [shape[1]!] : [shape[0]!, 1];
      x = b.op(st.op, [x, b.input(`y${i}`, 'f32', other)]);
    }
  });
  if (s.tail === 'sum-rows') x = b.op('sum', [x], { axes: [0] });
  if (s.tail === 'max-cols') x = b.op('max', [x], { axes: [1], keepdims: true });
  if (s.tail === 'mean-all') x = b.op('mean', [x], { axes: [] });
  b.output('out', x);
  return b.finish();
}

for (const t of TARGETS) {
  describe(`${t.target.name}: random fused graphs against the interpreter`, () => {
    it('agree within 1e-4', async () => {
      await fc.assert(
        fc.asyncProperty(graphSpec, async (s) => {
          await checkTarget(t, build(s), { seed: s.seed, tol: 1e-4 });
        }),
        { numRuns: 60, seed: 42 },
      );
    });
  });
}
