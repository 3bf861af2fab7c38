// The products of an unrolled recurrence's gradient, on every target against the interpreter:
// each step's cotangent times the transposed recurrent kernel (dz_t · Uᵀ: Uᵀ copied once by the
// hoistTransposes kernel pass, then read in place), and the kernel's gradient as a sum over steps of
// h_tᵀ · dz_t (each product's epilogue adds the sum so far; the transposed A packed by columns).
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../ir/builder.ts';
import type { Graph, Value } from '../../ir/graph.ts';
import type { ContractionKernel, Kernel } from '../../ir/kernel.ts';
import { readsOf } from '../../ir/kernel-walk.ts';
import { compileProgram } from '../../compiler/pipeline.ts';
import { checkTarget } from './targets.ts';
import { TARGETS } from './list.ts';

/** `steps` steps of batch 8, units 16, gates 32 (m a multiple of 4, n of 8: the fast paths). */
function recurrenceGradient(steps: number, batch = 8): Graph {
  const b = new GraphBuilder('recurrence');
  const u = b.param('u', 'f32', [16, 32], { name: 'zeros', attrs: {} });
  let dU: Value | undefined, dh: Value | undefined;
  for (let t = 0; t < steps; t++) {
    const dz = b.input(`dz${t}`, 'f32', [batch, 32]),
      h = b.input(`h${t}`, 'f32', [batch, 16]);
    const p = b.op('matmul', [h, dz], { transpose_a: true });
    dU = dU ? b.op('add', [dU, p]) : p;
    const back = b.op('matmul', [dz, u], { transpose_b: true });
    dh = dh ? b.op('add', [b.op('tanh', [dh]), back]) : back;
  }
  b.output('du', dU!);
  b.output('dh', dh!);
  return b.finish();
}

const contractions = (ks: readonly Kernel[]): ContractionKernel[] =>
  ks.filter((k): k is ContractionKernel => k.kind === 'contraction');

describe('the products of a recurrence gradient: how they are compiled', () => {
  const program = compileProgram([{ name: 'main', graph: recurrenceGradient(4) }]);
  const kernels = program.entries[0]!.kernels;

  it('copies Uᵀ once, before the first product reading it, and every dz_t · Uᵀ reads the copy', () => {
    const copies = kernels.filter((k) => k.kind === 'loop' && k.stores.some((s) => s.buf.startsWith('p_u_t')));
    expect(copies).toHaveLength(1);
    const backs = contractions(kernels).filter((k) => k.b.buf.startsWith('p_u_t'));
    expect(backs).toHaveLength(4);
    expect(kernels.indexOf(copies[0]!)).toBeLessThan(kernels.indexOf(backs[0]!));
    expect(contractions(kernels).some((k) => k.b.buf === 'p_u')).toBe(false);
  });

  it('sums the h_tᵀ · dz_t one product at a time: no epilogue reads more than one earlier product', () => {
    const grads = contractions(kernels).filter((k) => k.m === 16 && k.n === 32);
    expect(grads).toHaveLength(4);
    for (const k of grads) expect(k.epilogue ? readsOf(k.epilogue).length : 0).toBeLessThanOrEqual(1);
  });

  it('leaves an operand read by one product alone', () => {
    const one = compileProgram([{ name: 'main', graph: recurrenceGradient(1) }]);
    expect(one.buffers.some((b) => b.name.startsWith('p_u_t'))).toBe(false);
  });
});

for (const t of TARGETS) {
  describe(`${t.target.name}: a recurrence gradient's products against the interpreter`, () => {
    for (const [steps, batch] of [
      [4, 8],
      [3, 6],
      [2, 40],
    ] as const)
      it(`${steps} steps, batch ${batch}`, async () => {
        await checkTarget(t, recurrenceGradient(steps, batch), { tol: 1e-4 });
      });
  });
}
