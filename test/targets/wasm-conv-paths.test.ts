// The code paths of the wasm conv templates chosen by shape (targets/wasm/conv.ts) against the
// interpreter: the filter grad's per-pixel patch build (C a multiple of 4: one v128 per 4
// channels, unrolled or looped over wide C; other C: scalars), dy read in place (F a multiple of 8) or
// packed, several k blocks of pixels, k split into slices (many k blocks), and padding, strides and
// dilations on each path.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../ir/builder.ts';
import type { Value } from '../../ir/graph.ts';
import { programWat } from '../../targets/wasm/index.ts';
import { checkWasm } from './wasm-helpers.ts';

type Shape = readonly number[];
interface Case {
  readonly label: string;
  readonly op: string;
  readonly ins: readonly Shape[];
  readonly attrs: Record<string, unknown>;
  readonly epi?: (b: GraphBuilder, y: Value) => Value;
  /** k split into slices (matmul.ts SLICES): sums of 8,000 and more products, checked within 1e-4 (f32
   *  rounding of so long a sum; one k block at a time, without slices, misses 1e-5 too) */
  readonly sliced?: boolean;
}

const CASES: Case[] = [
  {
    label: 'C=8 (v128 taps), F=16 in place, 2 k blocks',
    op: 'conv2d_filter_grad',
    ins: [
      [3, 12, 12, 8],
      [3, 10, 10, 16],
    ],
    attrs: { filter_shape: [3, 3, 8, 16] },
  },
  {
    label: 'C=4, F=8 in place, padded, strided',
    op: 'conv2d_filter_grad',
    ins: [
      [2, 9, 8, 4],
      [2, 5, 4, 8],
    ],
    attrs: { filter_shape: [3, 3, 4, 8], strides: [2, 2], pads: [1, 1, 1, 1] },
  },
  {
    label: 'C=72 (looped v128 taps), F=12 packed, dilated',
    op: 'conv2d_filter_grad',
    ins: [
      [2, 8, 9, 72],
      [2, 7, 6, 12],
    ],
    attrs: { filter_shape: [2, 3, 72, 12], dilations: [2, 2], pads: [0, 1, 0, 1] },
  },
  {
    label: 'C=70 (looped scalar taps), 3 k blocks',
    op: 'conv2d_filter_grad',
    ins: [
      [3, 9, 9, 70],
      [3, 7, 7, 8],
    ],
    attrs: { filter_shape: [3, 3, 70, 8] },
  },
  {
    label: 'C=3, F=24 in place, padding wider than the window',
    op: 'conv2d_filter_grad',
    ins: [
      [2, 5, 5, 3],
      [2, 10, 10, 24],
    ],
    attrs: { filter_shape: [2, 2, 3, 24], pads: [3, 3, 3, 3] },
  },
  {
    label: 'C=1, F=32, scaled',
    op: 'conv2d_filter_grad',
    ins: [
      [5, 14, 13, 1],
      [5, 12, 11, 32],
    ],
    attrs: { filter_shape: [3, 3, 1, 32] },
    epi: (b, y) => b.op('mul', [y, b.input('s', 'f32', [32])]),
  },
  {
    label: 'C=1, F=32 in place, 42 k blocks: k split into slices, scaled',
    op: 'conv2d_filter_grad',
    ins: [
      [16, 28, 28, 1],
      [16, 26, 26, 32],
    ],
    attrs: { filter_shape: [3, 3, 1, 32] },
    epi: (b, y) => b.op('mul', [y, b.input('s', 'f32', [32])]),
    sliced: true,
  },
  {
    label: 'C=3, F=6 packed (a 2-column tail), 32 k blocks: k split into slices',
    op: 'conv2d_filter_grad',
    ins: [
      [8, 34, 34, 3],
      [8, 32, 32, 6],
    ],
    attrs: { filter_shape: [3, 3, 3, 6] },
    sliced: true,
  },
];

describe('wasm: conv template paths against the interpreter', () => {
  for (const c of CASES) {
    for (const relaxed of [false, true]) {
      it(`${c.op}: ${c.label}${relaxed ? ' (relaxed)' : ''}`, async () => {
        const b = new GraphBuilder(c.op);
        const y = b.op(
          c.op as never,
          c.ins.map((s, i) => b.input(`x${i}`, 'f32', s)),
          c.attrs as never,
        );
        b.output('y', c.epi ? c.epi(b, y) : y);
        const p = await checkWasm(b.finish(), { tol: c.sliced ? 1e-4 : 1e-5, relaxed });
        expect(p.entries[0]!.kernels.map((k) => k.kind)).toEqual(['contraction']);
        expect(programWat(p).includes('$Lgs'), 'k split into slices').toBe(c.sliced === true);
      });
    }
  }
});
