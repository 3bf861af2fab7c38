// Convolutions as GEMMs (targets/wasm/conv.ts) against the interpreter: several row blocks, channel
// counts off the vector width, filters off the panel width, strides, dilations, padding wider than the
// window, and fused epilogues (bias + relu, a scale, terms that read the output's leading coordinates).
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../ir/builder.ts';
import type { Value } from '../../ir/graph.ts';
import { checkWasm } from './wasm-helpers.ts';

type Shape = readonly number[];
interface Case {
  readonly label: string;
  readonly op: 'conv2d' | 'conv2d_input_grad' | 'conv2d_filter_grad';
  readonly ins: readonly [Shape, Shape];
  readonly attrs: Record<string, unknown>;
  /** An epilogue on the conv's result (it must fuse: the program is one template kernel). */
  readonly epi?: (b: GraphBuilder, y: Value) => Value;
}

const biasRelu =
  (f: number) =>
  (b: GraphBuilder, y: Value): Value =>
    b.op('relu', [b.op('add', [y, b.input('bias', 'f32', [f])])]);

const CASES: Case[] = [
  {
    label: '3 row blocks, C=5, F=13, bias + relu',
    op: 'conv2d',
    ins: [
      [2, 9, 10, 5],
      [3, 3, 5, 13],
    ],
    attrs: { pads: [1, 1, 1, 1] },
    epi: biasRelu(13),
  },
  {
    label: 'C=1 (first layer), F=32',
    op: 'conv2d',
    ins: [
      [3, 12, 11, 1],
      [3, 3, 1, 32],
    ],
    attrs: {},
    epi: biasRelu(32),
  },
  {
    label: 'C=70 (copy loop), strided dilated',
    op: 'conv2d',
    ins: [
      [1, 9, 9, 70],
      [2, 3, 70, 3],
    ],
    attrs: { strides: [2, 1], dilations: [2, 2], pads: [0, 1, 2, 0] },
  },
  {
    label: 'epilogue reads the batch coordinate',
    op: 'conv2d',
    ins: [
      [3, 6, 6, 4],
      [3, 3, 4, 8],
    ],
    attrs: { pads: [1, 1, 1, 1] },
    epi: (b, y) => b.op('mul', [y, b.input('s', 'f32', [3, 1, 1, 1])]),
  },
  {
    label: 'stride 1, dilated, uneven pads',
    op: 'conv2d_input_grad',
    ins: [
      [2, 6, 7, 7],
      [3, 3, 5, 7],
    ],
    attrs: { input_shape: [2, 8, 7, 5], dilations: [2, 1], pads: [1, 1, 0, 2] },
  },
  {
    label: 'stride 1, pads wider than the window',
    op: 'conv2d_input_grad',
    ins: [
      [1, 9, 9, 3],
      [2, 2, 4, 3],
    ],
    attrs: { input_shape: [1, 4, 4, 4], pads: [3, 3, 3, 3] },
  },
  {
    label: 'strided, dilated, C=6, bias + relu',
    op: 'conv2d_input_grad',
    ins: [
      [2, 5, 5, 10],
      [3, 2, 6, 10],
    ],
    attrs: { input_shape: [2, 11, 9, 6], strides: [2, 2], dilations: [1, 2], pads: [1, 0, 1, 1] },
    epi: biasRelu(6),
  },
  {
    label: 'stride 1, many rows, relu',
    op: 'conv2d_input_grad',
    ins: [
      [2, 11, 11, 16],
      [3, 3, 9, 16],
    ],
    attrs: { input_shape: [2, 13, 13, 9] },
    epi: (b, y) => b.op('relu', [y]),
  },
  {
    label: 'stride 1, dilated, uneven pads',
    op: 'conv2d_filter_grad',
    ins: [
      [2, 8, 7, 5],
      [2, 6, 7, 7],
    ],
    attrs: { filter_shape: [3, 3, 5, 7], dilations: [2, 1], pads: [1, 1, 0, 2] },
  },
  {
    label: 'strided, scaled',
    op: 'conv2d_filter_grad',
    ins: [
      [2, 9, 9, 6],
      [2, 5, 5, 9],
    ],
    attrs: { filter_shape: [3, 3, 6, 9], strides: [2, 2], pads: [1, 1, 1, 1] },
    epi: (b, y) => b.op('mul', [y, b.input('s', 'f32', [9])]),
  },
  {
    label: 'C=1, long reduction',
    op: 'conv2d_filter_grad',
    ins: [
      [4, 14, 14, 1],
      [4, 12, 12, 32],
    ],
    attrs: { filter_shape: [3, 3, 1, 32] },
  },
];

describe('wasm: convolutions as GEMMs against the interpreter', () => {
  for (const c of CASES) {
    it(`${c.op}: ${c.label}`, async () => {
      const b = new GraphBuilder(c.op);
      const y = b.op(
        c.op,
        c.ins.map((s, i) => b.input(`x${i}`, 'f32', s)),
        c.attrs as never,
      );
      b.output('y', c.epi ? c.epi(b, y) : y);
      const p = await checkWasm(b.finish(), { tol: 1e-5 });
      expect(p.entries[0]!.kernels.map((k) => k.kind)).toEqual(['contraction']);
    });
  }
});
