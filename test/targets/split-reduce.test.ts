// The two-pass split of long, narrow reductions (compiler/lower/split-reduce.ts): which kernels it
// splits, the Kernel IR interpreter against the graph interpreter (so the pass is checked without a
// target), then every target of TARGETS against the graph interpreter, twice, with the same bits
// both times (the partials and their combination run in a fixed order). Tolerance 1e-5 relative
// (|got - want| / (1 + |want|)): sums of a few thousand values in [-1, 1) in a different order.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../ir/builder.ts';
import type { Graph } from '../../ir/graph.ts';
import { interpret } from '../../ir/interpret.ts';
import { interpretProgram } from '../../ir/interpret-kernels.ts';
import type { Tensor } from '../../ir/types.ts';
import { compileProgram } from '../../compiler/pipeline.ts';
import { sliceLength } from '../../compiler/lower/split-reduce.ts';
import type { RuntimeTensor } from '../../runtime/index.ts';
import { rng } from '../grad/check-vjp.ts';
import { TARGETS } from './list.ts';
import { expectClose, randomFeed } from './wasm-helpers.ts';

type Shape = readonly number[];
const TOL = 1e-5;

/** y = op(x) over `axes`, then `then` (an epilogue reading the reduction). */
function reduction(op: string, shape: Shape, axes: readonly number[], then?: 'relu'): Graph {
  const b = new GraphBuilder(op);
  const r = b.op(op, [b.input('x', 'f32', shape)], { axes: [...axes] });
  b.output('y', then ? b.op(then, [r]) : r);
  return b.finish();
}

const CASES: { label: string; g: Graph; parts: number }[] = [
  // a bias gradient: per channel over batch x pixels (6144 = 16 x 384: slices of 16 x 24)
  { label: 'sum over batch x pixels, 8 channels', g: reduction('sum', [16, 16, 24, 8], [0, 1, 2]), parts: 1 },
  // a loss mean over a flat 5000 (sliced by a divisor: 5 x 1000), relu after it
  { label: 'mean over a flat 5000, relu after', g: reduction('mean', [5000], [0], 'relu'), parts: 1 },
  { label: 'max over 4608 rows, 4 columns', g: reduction('max', [4608, 4], [0]), parts: 1 },
  // short or wide reductions stay one kernel
  { label: 'sum over 512 (too short)', g: reduction('sum', [512, 8], [0]), parts: 0 },
  { label: 'sum over 4096 rows for 512 outputs (too wide)', g: reduction('sum', [4096, 512], [0]), parts: 0 },
];

// the Kernel IR verifier after every pass (bounds of every access, in-place safety)
const compiled = (g: Graph) => compileProgram([{ name: 'main', graph: g }], { verifyEach: true });
const partsOf = (g: Graph): number => compiled(g).entries[0]!.kernels.filter((k) => k.name.endsWith('_part')).length;

const feedOf = (g: Graph): Record<string, Tensor> => {
  const next = rng(3);
  return Object.fromEntries(g.inputs.map((i) => [i.name, randomFeed(i.type, next)]));
};

describe('split-reduce: the pass', () => {
  it('slices at a suffix of the reduction extents, else at a divisor, else not at all', () => {
    expect(sliceLength([16, 16, 24])).toBe(384);
    expect(sliceLength([5000])).toBe(1000);
    expect(sliceLength([4099])).toBeUndefined(); // a prime
  });
  for (const c of CASES)
    it(`${c.label}: ${c.parts ? 'split' : 'not split'}; Kernel IR interpreter against the graph interpreter`, () => {
      expect(partsOf(c.g)).toBe(c.parts);
      const inputs = feedOf(c.g);
      const got = interpretProgram(compiled(c.g), 'main', inputs).outputs;
      expectClose(got.y!, interpret(c.g, inputs, {}).outputs.y!, 'y', TOL);
    });
});

for (const t of TARGETS) {
  describe(`${t.target.name}: split reductions against the interpreter`, () => {
    for (const c of CASES.filter((x) => x.parts)) {
      it(`${c.label}: within ${TOL}, the same bits twice`, { timeout: 120_000 }, async () => {
        const inputs = feedOf(c.g);
        const exe = await t.load(compileProgram([{ name: 'main', graph: c.g }], { limits: t.target.limits }));
        try {
          const first = await exe.run('main', inputs as Record<string, RuntimeTensor>);
          expectClose(first.y!, interpret(c.g, inputs, {}).outputs.y!, `${t.target.name} y`, TOL);
          const again = await exe.run('main', inputs as Record<string, RuntimeTensor>);
          expect([...again.y!.data]).toEqual([...first.y!.data]);
        } finally {
          await exe.destroy?.();
        }
      });
    }
  });
}
