// Winograd convolutions (compiler/lower/winograd.ts) on every target of TARGETS against the graph
// interpreter: tiles that overhang the output, padding on every side, channel counts off the vector
// and panel widths, the input gradient, the filter gradient, and epilogues (bias + relu, a term that reads the output's
// leading coordinate), run with the default F(4x4, 3x3) (batches of at least 64 tiles, so it applies). Each case checks that the pass did rewrite its convolution.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../ir/builder.ts';
import type { Attrs, Value } from '../../ir/graph.ts';
import { checkTarget } from './targets.ts';
import { TARGETS } from './list.ts';

type Shape = readonly number[];
interface Case {
  readonly label: string;
  readonly op: 'conv2d' | 'conv2d_input_grad' | 'conv2d_filter_grad';
  readonly ins: readonly [Shape, Shape];
  readonly attrs?: Attrs;
  readonly epi?: (b: GraphBuilder, y: Value) => Value;
}

const CASES: Case[] = [
  {
    label: 'valid, 11x11 out (overhanging tiles), C=16, F=20, bias + relu',
    op: 'conv2d',
    ins: [
      [8, 13, 13, 16],
      [3, 3, 16, 20],
    ],
    epi: (b, y) => b.op('relu', [b.op('add', [y, b.input('bias', 'f32', [20])])]),
  },
  {
    label: 'same padding, 12x10, C=20, F=16, epilogue reads the image index',
    op: 'conv2d',
    ins: [
      [8, 12, 10, 20],
      [3, 3, 20, 16],
    ],
    attrs: { pads: [1, 1, 1, 1] },
    epi: (b, y) => b.op('mul', [y, b.input('s', 'f32', [8, 1, 1, 1])]),
  },
  {
    label: 'input gradient, 13x13 from 11x11, C=18, F=16, relu',
    op: 'conv2d_input_grad',
    ins: [
      [4, 11, 11, 16],
      [3, 3, 18, 16],
    ],
    attrs: { input_shape: [4, 13, 13, 18] },
    epi: (b, y) => b.op('relu', [y]),
  },
  {
    label: 'filter gradient, 11x11 dy (overhanging tiles), C=18, F=20, epilogue reads the output channel',
    op: 'conv2d_filter_grad',
    ins: [
      [8, 13, 13, 18],
      [8, 11, 11, 20],
    ],
    attrs: { filter_shape: [3, 3, 18, 20] },
    epi: (b, y) => b.op('mul', [y, b.input('s', 'f32', [20])]),
  },
  {
    label: 'filter gradient, same padding, 12x10, C=16, F=16',
    op: 'conv2d_filter_grad',
    ins: [
      [8, 12, 10, 16],
      [8, 12, 10, 16],
    ],
    attrs: { filter_shape: [3, 3, 16, 16], pads: [1, 1, 1, 1] },
  },
];

/** The kernels replacing each kind of convolution (their names after the original's). */
const rows = [0, 1, 2, 3, 4, 5];
const KERNELS: Record<Case['op'], string[]> = {
  conv2d: ['wf', ...rows.map((r) => `wi${r}`), 'wg', 'wo'],
  conv2d_input_grad: ['wf', ...rows.map((r) => `wi${r}`), 'wg', 'wo'],
  conv2d_filter_grad: [...rows.map((r) => `wi${r}`), ...rows.map((r) => `wd${r}`), 'wg', 'wo'],
};

for (const t of TARGETS) {
  describe(`${t.target.name}: Winograd convolutions against the interpreter`, () => {
    for (const c of CASES) {
      it(`${c.op}: ${c.label}`, { timeout: 180_000 }, async () => {
        const b = new GraphBuilder(c.op);
        const y = b.op(
          c.op,
          c.ins.map((s, i) => b.input(`x${i}`, 'f32', s)),
          c.attrs ?? {},
        );
        b.output('y', c.epi ? c.epi(b, y) : y);
        const program = await checkTarget(t, b.finish(), { tol: 1e-4 });
        const names = program.entries[0]!.kernels.map((k) => k.name.replace(/^main_k\d+_/, ''));
        expect(names).toEqual(KERNELS[c.op]);
      });
    }
  });
}
