// Loop specialization (compiler/lower/specialize.ts marks, ir/specialize.ts folds): kernels whose loads are guarded by one outer
// variable (concat, sums of padded slices as an unrolled recurrence's gradient builds them) are
// unrolled over it with the guards folded, and still agree with the interpreter.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../ir/builder.ts';
import type { Value } from '../../ir/graph.ts';
import type { LoopKernel, SExpr } from '../../ir/kernel.ts';
import { guardVar } from '../../compiler/lower/specialize.ts';
import { foldExpr } from '../../ir/specialize.ts';
import { checkWasm } from './wasm-helpers.ts';

const loopsOf = (p: Awaited<ReturnType<typeof checkWasm>>): LoopKernel[] =>
  p.entries[0]!.kernels.filter((k): k is LoopKernel => k.kind === 'loop');

describe('wasm: loop specialization on a guarded variable', () => {
  it('concat of 5 pieces along axis 1, then tanh', async () => {
    const b = new GraphBuilder('concat5');
    const parts = [1, 2, 1, 3, 1].map((n, i) => b.input(`x${i}`, 'f32', [3, n, 9]));
    b.output('y', b.op('tanh', [b.op('concat', parts, { axis: 1 })]));
    const p = await checkWasm(b.finish());
    const [k] = loopsOf(p);
    expect(guardVar(k!)).toBe(1);
    expect(k!.specialize).toBe(1);
  });

  it('a sum of 6 padded one-step slices (a recurrence gradient stacked over time)', async () => {
    const b = new GraphBuilder('stack6');
    const T = 6;
    let acc: Value = b.input('base', 'f32', [2, T, 7]);
    for (let t = 0; t < T; t++)
      acc = b.op('add', [
        acc,
        b.op('pad', [b.input(`g${t}`, 'f32', [2, 1, 7])], { lo: [0, t, 0], hi: [0, T - 1 - t, 0], value: 0 }),
      ]);
    b.output('y', acc);
    const p = await checkWasm(b.finish());
    expect(loopsOf(p).some((k) => k.specialize === 1)).toBe(true);
  });

  it('folds guards decided by the constant and drops the zero terms', () => {
    const v1 = { k: 'var' as const, i: 1 },
      v2 = { k: 'var' as const, i: 2 };
    const piece = (t: number): SExpr => ({
      k: 'load',
      buf: `g${t}`,
      at: v2,
      guard: [{ e: { k: 'sub', a: v1, b: { k: 'int', v: t } }, lo: 0, hi: 1 }],
      otherwise: 0,
    });
    const sum: SExpr = {
      k: 'op',
      op: 'add',
      dtype: 'f32',
      args: [{ k: 'op', op: 'add', dtype: 'f32', args: [piece(0), piece(1)] }, piece(2)],
    };
    expect(foldExpr(sum, 1, 1, () => 'f32')).toEqual({ k: 'load', buf: 'g1', at: v2 });
    expect(foldExpr(sum, 1, 5, () => 'f32')).toEqual({ k: 'const', v: 0, dtype: 'f32' });
  });
});
