// max_pool2d_grad vectorized over channels (targets/wasm/pool.ts) against the interpreter: channel
// counts with and without a scalar tail, overlapping padded windows, and ties (x rounded to a few
// integers, so the first maximal tap in window order must win, as in the interpreter).
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../ir/builder.ts';
import type { Value } from '../../ir/graph.ts';
import { checkWasm } from './wasm-helpers.ts';

const CASES = [
  { label: '2x2 stride 2, C=8, odd image (uncovered last row)', x: [2, 7, 7, 8], attrs: { window: [2, 2], strides: [2, 2] } },
  { label: '3x3 stride 2 pad 1 (overlapping), C=6', x: [2, 7, 6, 6], attrs: { window: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] } },
  { label: '3x2 stride 1, C=3 (scalar lanes only)', x: [1, 5, 6, 3], attrs: { window: [3, 2], strides: [1, 1], pads: [0, 1, 1, 0] } },
];

describe('wasm: max_pool2d_grad against the interpreter', () => {
  for (const c of CASES) {
    for (const ties of [false, true]) {
      it(`${c.label}${ties ? ', ties' : ''}`, async () => {
        const b = new GraphBuilder('pool_grad');
        let x: Value = b.input('x', 'f32', c.x);
        if (ties) x = b.op('floor', [b.op('mul', [x, b.op('constant', [], { value: [2], shape: [], dtype: 'f32' })])]);
        const y = b.op('max_pool2d', [x], c.attrs as never);
        const dy = b.input('dy', 'f32', y.type.shape);
        b.output('dx', b.op('relu', [b.op('max_pool2d_grad', [x, dy], c.attrs as never)]));
        const p = await checkWasm(b.finish());
        expect(p.entries[0]!.kernels.some((k) => k.kind === 'template' && k.op === 'max_pool2d_grad' && k.epilogue !== undefined)).toBe(true);
      });
    }
  }
});
