// Every op of the registry, compiled alone (compiler/pipeline.ts), runs on every target (TARGETS) and
// gives the reference interpreter's result within 1e-5 relative (1e-4 for the polynomial math ops).
// Shapes end in an extent that is not a multiple of 4, so both the f32x4 body and the scalar tail run.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../ir/builder.ts';
import { OPS, OP_NAMES } from '../../ir/ops/index.ts';
import type { DType } from '../../ir/types.ts';
import type { Value } from '../../ir/graph.ts';
import { checkTarget } from './targets.ts';
import { TARGETS } from './list.ts';
import { checkWasm, type WasmCheck } from './wasm-helpers.ts';

type In = readonly [DType, readonly number[]];
interface Case {
  readonly ins: readonly In[];
  readonly attrs?: Record<string, unknown>;
  readonly opts?: WasmCheck;
  readonly label?: string;
  /** The op's node, when it should feed another op (a constant table must be read by a kernel). */
  readonly use?: (b: GraphBuilder, y: Value) => Value;
}

const X: In = ['f32', [3, 37]];
const ROW: In = ['f32', [37]];
const POSITIVE: WasmCheck = { lo: 0.05, hi: 3 };
const MATH = new Set(['exp', 'log', 'tanh', 'sigmoid', 'sin', 'cos', 'pow']);

/** Elementwise cases come from the registry (arity and kind); the others are listed. */
function elementwiseCases(op: string): Case[] {
  const def = OPS[op as keyof typeof OPS];
  const opts: WasmCheck = {
    ...(['log', 'sqrt', 'rsqrt', 'pow'].includes(op) ? POSITIVE : {}),
    tol: MATH.has(op) ? 1e-4 : 1e-5,
  };
  if (op === 'cast')
    return [
      ['f32', 'i32'],
      ['i32', 'f32'],
      ['bool', 'f32'],
      ['f32', 'bool'],
      ['i32', 'bool'],
      ['bool', 'i32'],
    ].map(([a, b]) => ({
      ins: [[a as DType, [3, 37]]],
      attrs: { dtype: b },
      opts: { lo: -4, hi: 4, intHi: 5 },
      label: `${a} -> ${b}`,
    }));
  if (op === 'where')
    return [
      { ins: [['bool', [3, 37]], X, ROW] },
      {
        ins: [
          ['bool', [3, 1]],
          ['i32', [3, 37]],
          ['i32', [37]],
        ],
        label: 'i32',
      },
    ];
  if (def.arity === 1) {
    const cs: Case[] = [{ ins: [X], opts: { lo: -3, hi: 3, ...opts } }];
    if (['neg', 'abs', 'sign', 'relu'].includes(op))
      cs.push({ ins: [['i32', [3, 37]]], opts: { intHi: 7 }, label: 'i32' });
    return cs;
  }
  const cs: Case[] = [
    { ins: [X, ROW], opts },
    { ins: [['f32', [3, 1]], X], opts, label: 'broadcast column' },
  ];
  if (!['pow'].includes(op))
    cs.push({
      ins: [
        ['i32', [2, 37]],
        ['i32', [37]],
      ],
      opts: { intHi: 5 },
      label: 'i32',
    });
  return cs;
}

const CASES: Record<string, Case[]> = {
  sum: [
    { ins: [['f32', [5, 6, 37]]], attrs: { axes: [2] } },
    { ins: [['f32', [33, 9]]], attrs: { axes: [0] } },
    { ins: [['f32', [7, 11]]], attrs: { axes: [] } },
  ],
  mean: [
    { ins: [['f32', [5, 37]]], attrs: { axes: [1], keepdims: true } },
    { ins: [['f32', [6, 5, 9]]], attrs: { axes: [0, 2] } },
  ],
  max: [
    { ins: [['f32', [5, 37]]], attrs: { axes: [1] } },
    { ins: [['i32', [9, 6]]], attrs: { axes: [0] }, opts: { intHi: 100 } },
  ],
  min: [
    { ins: [['f32', [5, 37]]], attrs: { axes: [0, 1] } },
    { ins: [['f32', [9, 6]]], attrs: { axes: [0] } },
  ],
  argmax: [
    { ins: [['f32', [5, 37]]], attrs: { axis: 1 } },
    { ins: [['f32', [9, 6]]], attrs: { axis: 0 } },
  ],
  reshape: [{ ins: [['f32', [6, 14]]], attrs: { shape: [4, 21] } }],
  transpose: [{ ins: [['f32', [3, 5, 9]]], attrs: { perm: [2, 0, 1] } }],
  broadcast_to: [{ ins: [['f32', [3, 1]]], attrs: { shape: [2, 3, 9] } }],
  slice: [{ ins: [['f32', [5, 30]]], attrs: { start: [1, -25], end: [5, 30], step: [2, 3] } }],
  pad: [{ ins: [['f32', [2, 13]]], attrs: { lo: [1, 2], hi: [0, 3], value: 0.5 } }],
  concat: [
    {
      ins: [
        ['f32', [2, 13]],
        ['f32', [2, 6]],
      ],
      attrs: { axis: 1 },
    },
  ],
  gather: [
    {
      ins: [
        ['f32', [5, 9]],
        ['i32', [2, 3]],
      ],
      attrs: { axis: 0 },
      opts: { intHi: 5 },
    },
    {
      ins: [
        ['f32', [3, 4, 6]],
        ['i32', [7]],
      ],
      attrs: { axis: 1 },
      opts: { intHi: 4 },
    },
  ],
  scatter_add: [
    {
      ins: [
        ['i32', [6]],
        ['f32', [6, 9]],
      ],
      attrs: { size: 4 },
      opts: { intHi: 4 },
    },
  ],
  one_hot: [{ ins: [['i32', [7]]], attrs: { depth: 9 }, opts: { intHi: 9 } }],
  // (constant tables, buffers with `init`, are covered by wasm-runtime.test.ts on a hand-built program)
  constant: [
    { ins: [], attrs: { value: [7], shape: [3, 5], dtype: 'i32' }, label: 'splat' },
    {
      ins: [],
      attrs: { value: [-2.5], shape: [9], dtype: 'f32' },
      use: (b, y) => b.op('add', [y, b.input('z', 'f32', [9])]),
      label: 'fused',
    },
  ],
  iota: [
    { ins: [], attrs: { shape: [3, 9], axis: 1 } },
    { ins: [], attrs: { shape: [3, 9], axis: 0, dtype: 'f32' }, label: 'f32' },
  ],
  random_uniform: [{ ins: [['i32', []]], attrs: { seed: 7, shape: [4, 9] }, opts: { intHi: 100 } }],
  random_normal: [{ ins: [['i32', []]], attrs: { seed: 7, shape: [4, 9] }, opts: { intHi: 100, tol: 1e-4 } }],
  matmul: [
    {
      ins: [
        ['f32', [2, 13, 11]],
        ['f32', [11, 21]],
      ],
    },
    {
      ins: [
        ['f32', [11, 13]],
        ['f32', [21, 11]],
      ],
      attrs: { transpose_a: true, transpose_b: true },
      label: 'transposed',
    },
    {
      ins: [
        ['f32', [1, 70]],
        ['f32', [70, 10]],
      ],
      label: 'vector-matrix',
    },
  ],
  conv2d: [
    {
      ins: [
        ['f32', [2, 7, 7, 3]],
        ['f32', [3, 3, 3, 10]],
      ],
      attrs: { pads: [1, 1, 1, 1] },
    },
    {
      ins: [
        ['f32', [1, 9, 8, 2]],
        ['f32', [3, 2, 2, 5]],
      ],
      attrs: { strides: [2, 2], dilations: [1, 2], pads: [1, 0, 0, 1] },
      label: 'strided dilated',
    },
  ],
  conv2d_input_grad: [
    {
      ins: [
        ['f32', [2, 4, 4, 6]],
        ['f32', [3, 3, 3, 6]],
      ],
      attrs: { input_shape: [2, 7, 7, 3], strides: [2, 2], pads: [1, 1, 1, 1] },
    },
  ],
  conv2d_filter_grad: [
    {
      ins: [
        ['f32', [2, 7, 7, 3]],
        ['f32', [2, 4, 4, 6]],
      ],
      attrs: { filter_shape: [3, 3, 3, 6], strides: [2, 2], pads: [1, 1, 1, 1] },
    },
  ],
  max_pool2d: [{ ins: [['f32', [2, 7, 7, 6]]], attrs: { window: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] } }],
  avg_pool2d: [{ ins: [['f32', [2, 7, 7, 6]]], attrs: { window: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] } }],
  max_pool2d_grad: [
    {
      ins: [
        ['f32', [2, 6, 6, 5]],
        ['f32', [2, 3, 3, 5]],
      ],
      attrs: { window: [2, 2], strides: [2, 2] },
    },
  ],
  avg_pool2d_grad: [
    {
      ins: [['f32', [2, 3, 3, 5]]],
      attrs: { window: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], input_shape: [2, 6, 6, 5] },
    },
  ],
};

function casesOf(op: string): Case[] {
  return CASES[op] ?? (OPS[op as keyof typeof OPS].kind === 'elementwise' ? elementwiseCases(op) : []);
}

it('every op has cases', () => {
  expect(OP_NAMES.filter((op) => casesOf(op).length === 0)).toEqual([]);
});

for (const t of TARGETS) {
  describe(`${t.target.name}: every registry op against the interpreter`, () => {
    it('every op has a lowering', () => {
      expect(OP_NAMES.filter((op) => !t.target.supports.has(op))).toEqual([]);
    });
    for (const op of OP_NAMES) {
      for (const c of casesOf(op)) {
        it(`${op}${c.label ? ` (${c.label})` : ''} ${c.ins.map(([d, s]) => `${d}[${s.join(',')}]`).join(' ')}`, async () => {
          const b = new GraphBuilder(op);
          const ins = c.ins.map(([d, s], i) => b.input(`x${i}`, d, s));
          const y = b.op(op, ins, (c.attrs ?? {}) as never);
          b.output('y', c.use ? c.use(b, y) : y);
          await checkTarget(t, b.finish(), c.opts);
        });
      }
    }
  });
}

describe('wasm: the relaxed-SIMD binary (fused multiply-adds) agrees too', () => {
  it('matmul + bias + tanh, relaxed', async () => {
    (await import('node:v8')).default.setFlagsFromString('--experimental-wasm-relaxed-simd');
    const b = new GraphBuilder('dense');
    const x = b.input('x', 'f32', [9, 23]);
    const w = b.input('w', 'f32', [23, 18]);
    const bias = b.input('bias', 'f32', [18]);
    b.output('y', b.op('tanh', [b.op('add', [b.op('matmul', [x, w]), bias])]));
    const p = await checkWasm(b.finish(), { relaxed: true, tol: 1e-5 });
    expect(p.entries[0]!.kernels.map((k) => k.kind)).toEqual(['contraction']);
  });
});
