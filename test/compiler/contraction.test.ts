// conv2d and both its gradients lower to contraction kernels whose operands carry the window (padding
// guards, strides, dilations, the input gradient's divisibility guard), and the Kernel IR interpreter
// computes them from that IR alone: every conv op's registry `eval` throws while it runs, and it must
// still match the graph interpreter. The MNIST CNN's training step has no template conv kernel.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { GraphBuilder } from '../../ir/builder.ts';
import { opDef } from '../../ir/builder.ts';
import type { Value } from '../../ir/graph.ts';
import { interpret } from '../../ir/interpret.ts';
import { interpretProgram } from '../../ir/interpret-kernels.ts';
import type { ContractionKernel } from '../../ir/kernel.ts';
import { inspect } from '../../compiler/cli/inspect.ts';
import { compileProgram } from '../../compiler/pipeline.ts';
import { printKernel } from '../../ir/print-kernels.ts';
import { expectClose, feeds } from './helpers.ts';

type Shape = readonly number[];
interface Case {
  readonly label: string;
  readonly op: 'conv2d' | 'conv2d_input_grad' | 'conv2d_filter_grad';
  readonly ins: readonly [Shape, Shape];
  readonly attrs: Record<string, unknown>;
  /** Text the printed operand A must hold (a guard, a stride, the divisibility test). */
  readonly a: RegExp;
  readonly epi?: boolean;
}

const CASES: Case[] = [
  {
    label: 'padded, C=3, bias + relu',
    op: 'conv2d',
    ins: [
      [2, 6, 5, 3],
      [3, 3, 3, 4],
    ],
    attrs: { pads: [1, 1, 1, 1] },
    a: /0 <= .* < 6/,
    epi: true,
  },
  {
    label: 'stride 2, dilation 2, C=5',
    op: 'conv2d',
    ins: [
      [1, 9, 8, 5],
      [2, 3, 5, 3],
    ],
    attrs: { strides: [2, 2], dilations: [2, 2], pads: [0, 1, 1, 0] },
    a: /v1 \* 2/,
  },
  {
    label: 'unpadded: no guard',
    op: 'conv2d',
    ins: [
      [2, 5, 5, 2],
      [3, 3, 2, 3],
    ],
    attrs: {},
    a: /^a\[2,3,3\] x \[3,3,2\] = [^?]*$/m,
  },
  {
    label: 'stride 1, padded, C=3',
    op: 'conv2d_input_grad',
    ins: [
      [2, 5, 5, 4],
      [3, 3, 3, 4],
    ],
    attrs: { input_shape: [2, 5, 5, 3], pads: [1, 1, 1, 1] },
    a: /0 <= .* < 5/,
    epi: true,
  },
  {
    label: 'stride 2, dilated, C=5: divisibility guard',
    op: 'conv2d_input_grad',
    ins: [
      [2, 4, 4, 3],
      [3, 2, 5, 3],
    ],
    attrs: { input_shape: [2, 9, 8, 5], strides: [2, 2], dilations: [1, 2], pads: [1, 0, 1, 1] },
    a: /% 2\) < 1/,
  },
  {
    label: 'padded, stride 2, C=3',
    op: 'conv2d_filter_grad',
    ins: [
      [2, 7, 7, 3],
      [2, 4, 4, 6],
    ],
    attrs: { filter_shape: [3, 3, 3, 6], strides: [2, 2], pads: [1, 1, 1, 1] },
    a: /0 <= .* < 7/,
    epi: true,
  },
  {
    label: 'dilation 2, C=5',
    op: 'conv2d_filter_grad',
    ins: [
      [1, 8, 9, 5],
      [1, 4, 5, 2],
    ],
    attrs: { filter_shape: [3, 3, 5, 2], dilations: [2, 2], pads: [0, 0, 0, 0] },
    a: /v0 \* 2/,
  },
];

const CONV_OPS = ['conv2d', 'conv2d_input_grad', 'conv2d_filter_grad'] as const;

afterEach(() => vi.restoreAllMocks());

describe('conv kernels are contractions computed from their Kernel IR', () => {
  for (const c of CASES) {
    it(`${c.op}: ${c.label}`, () => {
      const b = new GraphBuilder(c.op);
      const y = b.op(
        c.op,
        c.ins.map((s, i) => b.input(`x${i}`, 'f32', s)),
        c.attrs as never,
      );
      const f = y.type.shape[3]!;
      const out: Value = c.epi ? b.op('relu', [b.op('add', [y, b.input('bias', 'f32', [f])])]) : y;
      b.output('y', out);
      const g = b.finish();
      const { inputs, params } = feeds(g, 3);
      const want = interpret(g, inputs, params);
      const program = compileProgram([{ name: 'main', graph: g }]);
      const kernels = program.entries[0]!.kernels;
      expect(kernels.map((k) => k.kind)).toEqual(['contraction']);
      const k = kernels[0] as ContractionKernel;
      expect(k.epilogue !== undefined).toBe(c.epi === true);
      expect(printKernel(k).split('\n')[1]!.trim()).toMatch(c.a);
      for (const op of CONV_OPS)
        vi.spyOn(opDef(op), 'eval').mockImplementation(() => {
          throw new Error(`${op}: eval called`);
        });
      const got = interpretProgram(program, 'main', inputs, params);
      expectClose(got.outputs.y!, want.outputs.y!, 'y', 1e-4);
    });
  }
});

describe('the MNIST CNN training step', () => {
  it('`kiln inspect --train --stage kernels` shows contraction kernels for every conv, no template conv, at most 66 kernels per step', async () => {
    const text = await inspect('examples/mnist-cnn.ts', { train: true, stage: 'kernels' });
    expect(text).not.toMatch(/template \S+ conv2d/);
    const step = /entry train_step\(.*\): (\d+) kernels/.exec(text);
    // 35 as fused, 8 more for each of the two Winograd convolutions and 13 for the Winograd filter
    // gradient (compiler/lower/winograd.ts), 2 partials kernels of the conv bias gradients
    // (compiler/lower/split-reduce.ts)
    expect(Number(step![1])).toBeLessThanOrEqual(66);
    // patch operands (3 row by 3 column sub-coordinates): 3 convs in infer; 3 convs, 3 filter gradients
    // and 2 input gradients (the first conv's input needs none) in the step; less the middle conv in
    // both entries, its input gradient and its filter gradient, which are Winograd products over 36 points
    expect(text.match(/^ {2}contraction .*\n {4}a\[\d+,\d+,\d+\] x \[\d+,\d+,\d+\]/gm)!.length).toBe(3 + 8 - 4);
    expect(text.match(/^ {2}contraction \S+_wg batch \[36\]/gm)!.length).toBe(4);
  });
});
