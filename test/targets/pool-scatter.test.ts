// Pooling, pooling gradients and scatter_add as loop kernels (compiler/lower/pool.ts), on the Kernel IR
// interpreter and on wasm against the graph interpreter: windows that tile x, abut with an uncovered
// margin, overlap with padding, or leave gaps; channel counts with and without a scalar tail; ties (x
// rounded to a few integers, so the first maximal tap in window order must win, as in the reference);
// a fused epilogue on every kernel (the gradient's reads another tensor at dx's coordinates); scatter_add with repeated indices.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../ir/builder.ts';
import type { Value } from '../../ir/graph.ts';
import type { Kernel } from '../../ir/kernel.ts';
import { printKernel } from '../../ir/print-kernels.ts';
import { checkLowering } from '../compiler/helpers.ts';
import { checkWasm } from './wasm-helpers.ts';

const CASES = [
  { label: '2x2 stride 2, C=8, even image (tiles x)', x: [2, 8, 6, 8], attrs: { window: [2, 2], strides: [2, 2] } },
  {
    label: '2x2 stride 2, C=8, odd image (uncovered last row)',
    x: [2, 7, 7, 8],
    attrs: { window: [2, 2], strides: [2, 2] },
  },
  {
    label: '3x3 stride 2 pad 1 (overlapping), C=6',
    x: [2, 7, 6, 6],
    attrs: { window: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] },
  },
  {
    label: '3x2 stride 1, C=3 (scalar lanes only)',
    x: [1, 5, 6, 3],
    attrs: { window: [3, 2], strides: [1, 1], pads: [0, 1, 1, 0] },
  },
  { label: '2x2 stride 3 (gaps), C=5', x: [1, 8, 7, 5], attrs: { window: [2, 2], strides: [3, 3] } },
  { label: '3x2 windows tiling x, C=4, 2 images', x: [2, 9, 4, 4], attrs: { window: [3, 2], strides: [3, 2] } },
  {
    label: '2x2 stride 2, uncovered last row and column, C=9',
    x: [1, 7, 5, 9],
    attrs: { window: [2, 2], strides: [2, 2] },
  },
  {
    label: '2x2 stride 2 into the padding, C=5',
    x: [2, 6, 5, 5],
    attrs: { window: [2, 2], strides: [2, 2], pads: [1, 1, 1, 0] },
  },
  { label: '3x3 stride 1 (overlapping), C=8', x: [1, 6, 6, 8], attrs: { window: [3, 3], strides: [1, 1] } },
];

const loops = (ks: readonly Kernel[]): void => {
  for (const k of ks) expect(k.kind, printKernel(k)).toBe('loop');
};

function poolGraph(c: (typeof CASES)[number], op: 'max' | 'avg', ties: boolean) {
  const b = new GraphBuilder('pool');
  let x: Value = b.input('x', 'f32', c.x);
  if (ties) x = b.op('floor', [b.op('mul', [x, b.op('constant', [], { value: [2], shape: [], dtype: 'f32' })])]);
  const y = b.op(`${op}_pool2d`, [x], c.attrs as never);
  const dy = b.input('dy', 'f32', y.type.shape);
  b.output('y', b.op('relu', [y]));
  const grad =
    op === 'max'
      ? b.op('max_pool2d_grad', [x, dy], c.attrs as never)
      : b.op('avg_pool2d_grad', [dy], { ...c.attrs, input_shape: c.x } as never);
  // an epilogue reading another tensor at dx's coordinates (as relu's gradient does), nonzero where dx is 0
  const mask = b.input('mask', 'f32', c.x);
  b.output('dx', b.op('add', [b.op('mul', [grad, mask]), mask]));
  return b.finish();
}

describe('pooling as loop kernels', () => {
  for (const c of CASES) {
    for (const op of ['max', 'avg'] as const) {
      for (const ties of op === 'max' ? [false, true] : [false]) {
        it(`${op}: ${c.label}${ties ? ', ties' : ''}`, async () => {
          const g = poolGraph(c, op, ties);
          const kernels = checkLowering(g, { tol: 1e-5 }).entries[0]!.kernels;
          loops(kernels);
          // pooling and its gradient each one kernel, their epilogues fused (plus the tie-rounding kernel)
          expect(kernels.length).toBe(ties ? 3 : 2);
          await checkWasm(g);
        });
      }
    }
  }
});

describe('scatter_add as a loop kernel', () => {
  for (const [label, upd, axis, size, epilogue] of [
    ['rows of a table (embedding gradient)', [6, 5, 8], 0, 4, false],
    ['axis 1 with an epilogue', [3, 7, 2], 1, 3, true],
  ] as const) {
    it(label, async () => {
      const b = new GraphBuilder('scatter');
      const ind = b.input('ind', 'i32', axis === 0 ? [upd[0], upd[1]] : [upd[1]]);
      const u = b.input('u', 'f32', [...upd]);
      const s = b.op('scatter_add', [ind, u], { axis, size });
      b.output('out', epilogue ? b.op('relu', [s]) : s);
      const g = b.finish();
      loops(checkLowering(g, { tol: 1e-5 }).entries[0]!.kernels);
      await checkWasm(g, { intHi: size });
    });
  }
});
