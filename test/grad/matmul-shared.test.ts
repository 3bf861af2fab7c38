// A matmul whose right operand is shared by the whole batch (x·W, an RNN's input projection): its
// gradient is one GEMM contracting batch x rows, not batched GEMMs followed by a sum over the batch.
import { describe, expect, it } from 'vitest';
import type { Node, Value } from '../../ir/graph.ts';
import { tensorType, type Shape } from '../../ir/types.ts';
import { checkVjp } from './check-vjp.ts';
import { vjpGraphs } from './vjp-values.ts';

const f = (s: Shape) => tensorType('f32', s);

/** The ops computing a value (its subgraph, inputs excluded). */
function opsOf(v: Value): Node[] {
  const seen = new Set<Node>();
  const walk = (x: Value): void => {
    if (x.kind !== 'node' || seen.has(x)) return;
    seen.add(x);
    x.inputs.forEach(walk);
  };
  walk(v);
  return [...seen];
}

describe('matmul VJP with a shared right operand', () => {
  const cases: [Shape, Shape, boolean][] = [
    [[2, 3, 4], [4, 5], false],
    [[2, 3, 4], [5, 4], true],
    [[2, 3, 3, 4], [4, 5], false],
    [[2, 3, 3, 4], [1, 1, 5, 4], true],
    [[3, 1, 4], [1, 4, 2], false],
  ];
  for (const [a, b, transpose_b] of cases) {
    const name = `[${a}] x [${b}]${transpose_b ? ' (transpose_b)' : ''}`;
    it(`${name}: matches finite differences`, () => {
      checkVjp('matmul', [f(a), f(b)], { transpose_b }, { seed: a.length * 10 + b.length });
    });
    it(`${name}: dB is one unbatched matmul and no reduction`, () => {
      const { cots } = vjpGraphs('matmul', [f(a), f(b)], { transpose_b });
      const ops = opsOf(cots[1]!);
      const mms = ops.filter((n) => n.op === 'matmul');
      expect(mms).toHaveLength(1);
      expect(mms[0]!.type.shape).toHaveLength(2);
      expect(ops.filter((n) => n.op === 'sum')).toEqual([]);
    });
  }

  it('keeps batched matmul + sum where the batch cannot be folded into rows', () => {
    // a transposed A: its rows are not adjacent to the batch; a broadcast A: likewise for dA
    const t = vjpGraphs('matmul', [f([2, 4, 3]), f([4, 5])], { transpose_a: true });
    expect(opsOf(t.cots[1]!).some((n) => n.op === 'sum')).toBe(true);
    checkVjp('matmul', [f([2, 4, 3]), f([4, 5])], { transpose_a: true }, { seed: 11 });
    const s = vjpGraphs('matmul', [f([3, 4]), f([2, 4, 5])], {});
    expect(opsOf(s.cots[0]!).some((n) => n.op === 'sum')).toBe(true);
  });
});
