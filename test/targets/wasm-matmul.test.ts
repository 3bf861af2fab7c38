// The GEMM micro-kernel's blocking (targets/wasm/matmul.ts) against the interpreter: reductions longer
// than one k block (partial sums kept between blocks, the last block shorter), several row blocks, edge
// tiles on both axes, a fused epilogue on the last k block, and a transposed (packed) A.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../ir/builder.ts';
import { viewOperand } from '../../ir/contraction.ts';
import type { ContractionKernel } from '../../ir/kernel.ts';
import { mergeBatch } from '../../compiler/lower/contraction.ts';
import { checkWasm } from './wasm-helpers.ts';

const CASES = [
  { label: 'k = 600 (3 k blocks), m = 70, n = 21', a: [70, 600], b: [600, 21] },
  { label: 'k = 512 (2 whole k blocks), batched', a: [2, 9, 512], b: [512, 16] },
  { label: 'k = 300, transposed A', a: [300, 13], b: [300, 11], attrs: { transpose_a: true } },
];

describe('wasm: a batched matmul with a shared B runs as one GEMM over batch * m rows', () => {
  it('[3, 5, 24] x [24, 10], the epilogue reads the batch and row coordinates', async () => {
    const b = new GraphBuilder('merged');
    const y = b.op('matmul', [b.input('a', 'f32', [3, 5, 24]), b.input('b', 'f32', [24, 10])]);
    const perBatch = b.input('s', 'f32', [3, 1, 1]),
      perRow = b.input('r', 'f32', [5, 1]);
    b.output('y', b.op('mul', [b.op('add', [y, perRow]), perBatch]));
    const p = await checkWasm(b.finish(), { tol: 1e-5 });
    const [k] = p.entries[0]!.kernels;
    expect(k).toMatchObject({ kind: 'contraction', batch: [], m: 15 });
  });
  it('a B that differs per batch is not merged', () => {
    const k: ContractionKernel = {
      kind: 'contraction',
      name: 'k',
      batch: [2],
      m: 3,
      n: 4,
      k: 5,
      a: viewOperand('a', 0, [15, 5, 1], 3, 5),
      b: viewOperand('b', 0, [20, 4, 1], 5, 4),
      out: 'y',
    };
    expect(mergeBatch(k)).toBe(k);
  });
});

describe('wasm: blocked GEMM against the interpreter', () => {
  for (const c of CASES) {
    it(c.label, async () => {
      const b = new GraphBuilder('gemm');
      const y = b.op('matmul', [b.input('a', 'f32', c.a), b.input('b', 'f32', c.b)], c.attrs ?? {});
      const n = c.b[c.b.length - 1]!;
      b.output('y', b.op('tanh', [b.op('add', [y, b.input('bias', 'f32', [n])])]));
      const p = await checkWasm(b.finish(), { tol: 1e-5 });
      expect(p.entries[0]!.kernels.map((k) => k.kind)).toEqual(['contraction']);
    });
  }
});
