// Single ops and small fused graphs: lowered kernels, run by the Kernel IR interpreter, give the
// graph interpreter's results.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../ir/builder.ts';
import type { Value } from '../../ir/graph.ts';
import { checkLowering } from './helpers.ts';

const zeros = { name: 'zeros', attrs: {} };

function one(op: string, types: [string, number[]][], attrs = {}, dtype: 'f32' | 'i32' = 'f32') {
  const b = new GraphBuilder(op);
  const ins = types.map(([n, s]) => b.input(n, n.startsWith('i') ? 'i32' : dtype, s));
  b.output('y', b.op(op, ins, attrs));
  return b.finish();
}

describe('single ops lower to one kernel each', () => {
  const cases: [string, [string, number[]][], Record<string, unknown>][] = [
    ['exp', [['x', [2, 3]]], {}],
    [
      'add',
      [
        ['x', [2, 3]],
        ['y', [3]],
      ],
      {},
    ],
    ['sum', [['x', [2, 3, 4]]], { axes: [1] }],
    ['max', [['x', [2, 3, 4]]], { axes: [0, 2], keepdims: true }],
    ['mean', [['x', [2, 3]]], { axes: [] }],
    ['argmax', [['x', [4, 5]]], { axis: 1 }],
    ['reshape', [['x', [2, 6]]], { shape: [3, 4] }],
    ['transpose', [['x', [2, 3, 4]]], { perm: [2, 0, 1] }],
    ['broadcast_to', [['x', [3, 1]]], { shape: [2, 3, 4] }],
    ['slice', [['x', [5, 6]]], { start: [1, -5], end: [5, 6], step: [2, 2] }],
    ['pad', [['x', [2, 3]]], { lo: [1, 0], hi: [0, 2], value: 0.5 }],
    [
      'concat',
      [
        ['x', [2, 3]],
        ['y', [2, 1]],
      ],
      { axis: 1 },
    ],
    [
      'matmul',
      [
        ['x', [2, 3, 4]],
        ['y', [4, 5]],
      ],
      {},
    ],
    [
      'matmul',
      [
        ['x', [4, 3]],
        ['y', [5, 4]],
      ],
      { transpose_a: true, transpose_b: true },
    ],
    [
      'gather',
      [
        ['x', [5, 3]],
        ['ind', [2, 2]],
      ],
      { axis: 0 },
    ],
    ['one_hot', [['ind', [4]]], { depth: 3 }],
    [
      'conv2d',
      [
        ['x', [1, 5, 5, 2]],
        ['y', [3, 3, 2, 4]],
      ],
      { pads: [1, 1, 1, 1] },
    ],
    ['max_pool2d', [['x', [1, 4, 4, 2]]], { window: [2, 2], strides: [2, 2] }],
    [
      'scatter_add',
      [
        ['ind', [4]],
        ['x', [4, 3]],
      ],
      { size: 3 },
    ],
  ];
  for (const [op, types, attrs] of cases) {
    it(`${op} ${JSON.stringify(attrs)}`, () => {
      const p = checkLowering(one(op, types, attrs as never));
      expect(p.entries[0]!.kernels.length).toBe(1);
    });
  }
});

describe('fusion', () => {
  it('where over a comparison is one kernel', () => {
    const b = new GraphBuilder('where');
    const x = b.input('x', 'f32', [2, 3]);
    const y = b.input('y', 'f32', [3]);
    b.output('z', b.op('where', [b.op('less', [x, y]), x, b.op('neg', [y])]));
    expect(checkLowering(b.finish()).entries[0]!.kernels.length).toBe(1);
  });

  it('matmul + bias + relu is one matmul kernel with an epilogue', () => {
    const b = new GraphBuilder('dense');
    const x = b.input('x', 'f32', [4, 3]);
    const w = b.param('w', 'f32', [3, 5], zeros);
    const bias = b.param('b', 'f32', [5], zeros);
    b.output('y', b.op('relu', [b.op('add', [b.op('matmul', [x, w]), bias])]));
    const p = checkLowering(b.finish());
    expect(p.entries[0]!.kernels.map((k) => k.kind)).toEqual(['contraction']);
  });

  it('softmax is two kernels: row statistics, then normalize', () => {
    const b = new GraphBuilder('softmax');
    const x = b.input('x', 'f32', [3, 7]);
    const m = b.op('max', [x], { axes: [1], keepdims: true });
    const e = b.op('exp', [b.op('sub', [x, m])]);
    const s = b.op('sum', [e], { axes: [1], keepdims: true });
    b.output('y', b.op('div', [e, s]));
    const p = checkLowering(b.finish());
    expect(p.entries[0]!.kernels.length).toBe(2);
  });

  it('an update of a param and its slot is one kernel, in place', () => {
    const b = new GraphBuilder('momentum');
    const g = b.input('g', 'f32', [6]);
    const w = b.param('w', 'f32', [6], zeros);
    const v = b.param('v', 'f32', [6], zeros);
    const k = (c: number): Value => b.op('constant', [], { value: [c], shape: [], dtype: 'f32' });
    const v2 = b.op('add', [b.op('mul', [v, k(0.9)]), g]);
    const w2 = b.op('sub', [w, b.op('mul', [v2, k(0.1)])]);
    b.assign(w, w2);
    b.assign(v, v2);
    b.output('norm', b.op('sum', [b.op('mul', [w2, w2])], { axes: [] }));
    const p = checkLowering(b.finish());
    const ks = p.entries[0]!.kernels;
    expect(ks.length).toBe(2);
    const first = ks[0]!;
    expect(first.kind === 'loop' ? first.stores.map((s) => s.buf) : []).toEqual(['p_v', 'p_w']);
  });
});
