// The Winograd pass (compiler/lower/winograd.ts): which convolution contractions it recognizes and
// rewrites, the kernels it makes, its option, and its error against direct convolution on realistic
// magnitudes (the MNIST CNN's middle layer: post-ReLU activations in [0, 1), He-uniform filters),
// measured with the Kernel IR interpreter in f32 against the graph interpreter in float64.
// docs/winograd.md states the numbers these bounds hold.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../ir/builder.ts';
import type { Attrs, Graph } from '../../ir/graph.ts';
import { interpret } from '../../ir/interpret.ts';
import { interpretProgram } from '../../ir/interpret-kernels.ts';
import type { ContractionKernel, LoopKernel, Program } from '../../ir/kernel.ts';
import type { Tensor } from '../../ir/types.ts';
import { compileModel, compileProgram, type CompileOptions } from '../../compiler/pipeline.ts';
import { convOf, F2, F4, filterGradOf, winograd } from '../../compiler/lower/winograd.ts';
import { rng } from '../grad/check-vjp.ts';
import mnistCnn from '../../examples/mnist-cnn.ts';

type Shape = readonly number[];

/** One conv op over fed (x, w), as `op` with `attrs`. */
function convGraph(op: string, xs: Shape, ws: Shape, attrs: Attrs = {}): Graph {
  const b = new GraphBuilder('conv');
  b.output('y', b.op(op, [b.input('x', 'f32', xs), b.input('w', 'f32', ws)], attrs));
  return b.finish();
}

const tensor = (shape: Shape, next: () => number, lo: number, hi: number): Tensor => {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1)).map(() => lo + (hi - lo) * next());
  return { type: { dtype: 'f32', shape: [...shape] }, data };
};

const kernelsOf = (p: Program): string[] => p.entries.flatMap((e) => e.kernels.map((k) => k.name));
const compile = (g: Graph, opts: CompileOptions = {}): Program =>
  compileProgram([{ name: 'main', graph: g }], { verifyEach: true, ...opts });

/** The first contraction of a program compiled without the pass. */
const directContraction = (g: Graph): ContractionKernel =>
  compile(g, { winograd: false }).entries[0]!.kernels.find((k) => k.kind === 'contraction') as ContractionKernel;

/** Max abs error and max error relative to the largest |y| of the program's output y against float64. */
function errorOf(g: Graph, p: Program, feed: Record<string, Tensor>): { abs: number; rel: number } {
  const want = interpret(g, feed, {}, { float64: true }).outputs.y!.data;
  const got = interpretProgram(p, 'main', feed).outputs.y!.data;
  let abs = 0,
    top = 0;
  want.forEach((w, i) => {
    abs = Math.max(abs, Math.abs(got[i]! - w));
    top = Math.max(top, Math.abs(w));
  });
  return { abs, rel: abs / top };
}

describe('winograd: recognition', () => {
  it('finds a stride-1 3x3 conv2d and its input gradient, with their geometry', () => {
    expect(convOf(directContraction(convGraph('conv2d', [2, 13, 13, 32], [3, 3, 32, 64])))).toEqual({
      image: expect.any(String),
      shape: [2, 13, 13, 32],
      out: [11, 11],
      pads: [0, 0],
      F: 64,
    });
    const same = convOf(directContraction(convGraph('conv2d', [1, 9, 7, 16], [3, 3, 16, 8], { pads: [1, 1, 1, 1] })));
    expect(same).toMatchObject({ shape: [1, 9, 7, 16], out: [9, 7], pads: [1, 1] });
    // dx = conv of dy (padded by 2) with the turned filter: C and F swap
    const ig = convOf(
      directContraction(
        convGraph('conv2d_input_grad', [2, 11, 11, 64], [3, 3, 32, 64], { input_shape: [2, 13, 13, 32] }),
      ),
    );
    expect(ig).toMatchObject({ shape: [2, 11, 11, 64], out: [13, 13], pads: [2, 2], F: 32 });
  });

  it('leaves strided, dilated, non-3x3 convs and the filter gradient alone', () => {
    const none = [
      convGraph('conv2d', [1, 13, 13, 16], [3, 3, 16, 16], { strides: [2, 2] }),
      convGraph('conv2d', [1, 13, 13, 16], [3, 3, 16, 16], { dilations: [2, 2] }),
      convGraph('conv2d', [1, 13, 13, 16], [5, 5, 16, 16]),
      convGraph('conv2d_filter_grad', [1, 13, 13, 16], [1, 11, 11, 16], { filter_shape: [3, 3, 16, 16] }),
      convGraph('conv2d_input_grad', [1, 6, 6, 16], [3, 3, 16, 16], { input_shape: [1, 13, 13, 16], strides: [2, 2] }),
    ];
    for (const g of none) expect(convOf(directContraction(g))).toBeNull();
  });

  it('finds a stride-1 3x3 filter gradient (x, dy) and nothing else as one', () => {
    const fg = (xs: Shape, dys: Shape, attrs: Attrs = {}): ContractionKernel =>
      directContraction(convGraph('conv2d_filter_grad', xs, dys, { filter_shape: [3, 3, xs[3]!, dys[3]!], ...attrs }));
    expect(filterGradOf(fg([2, 13, 13, 32], [2, 11, 11, 64]))).toEqual({
      image: expect.any(String),
      shape: [2, 13, 13, 32],
      out: [11, 11],
      pads: [0, 0],
      F: 64,
    });
    expect(filterGradOf(fg([1, 9, 7, 16], [1, 9, 7, 8], { pads: [1, 1, 1, 1] }))).toMatchObject({
      out: [9, 7],
      pads: [1, 1],
    });
    expect(filterGradOf(fg([1, 13, 13, 16], [1, 6, 6, 16], { strides: [2, 2] }))).toBeNull();
    expect(filterGradOf(directContraction(convGraph('conv2d', [2, 13, 13, 32], [3, 3, 32, 64])))).toBeNull();
  });
});

describe('winograd: the rewrite', () => {
  const g = convGraph('conv2d', [8, 13, 13, 32], [3, 3, 32, 64]);

  it('replaces the contraction by filter, input (one per row of BT d), batched product and output kernels', () => {
    const p = compile(g);
    const input = [0, 1, 2, 3, 4, 5].map((xi) => `main_k0_wi${xi}`);
    expect(kernelsOf(p)).toEqual(['main_k0_wf', ...input, 'main_k0_wg', 'main_k0_wo']);
    const product = p.entries[0]!.kernels.find((k) => k.kind === 'contraction') as ContractionKernel;
    // F(4x4, 3x3): 36 points, 8 * 3 * 3 tiles (and a spare row), 32 channels in, 64 out
    expect([product.batch, product.m, product.k, product.n]).toEqual([[36], 8 * 9 + 1, 32, 64]);
  });

  it('is off with winograd: false, and off where the multiplies do not drop enough, channels are few or tiles under 64', () => {
    expect(kernelsOf(compile(g, { winograd: false }))).toEqual(['main_k0']);
    expect(kernelsOf(compile(convGraph('conv2d', [4, 5, 5, 64], [3, 3, 64, 64])))).toEqual(['main_k0']);
    expect(kernelsOf(compile(convGraph('conv2d', [8, 13, 13, 8], [3, 3, 8, 64])))).toEqual(['main_k0']);
    expect(kernelsOf(compile(convGraph('conv2d', [7, 13, 13, 32], [3, 3, 32, 64])))).toEqual(['main_k0']); // 63 tiles
    expect(kernelsOf(compileModel(mnistCnn, { batch: 2 }))).toHaveLength(10); // as the seed-model tests run it
    expect(kernelsOf(compile(g, { winograd: { transform: F2 } }))).toEqual(['main_k0']); // F2 saves under 0.4
    expect(kernelsOf(compile(g, { winograd: { transform: F2, maxRatio: 0.6 } }))).toHaveLength(7); // 4 input kernels
  });

  it('rewrites the MNIST CNN step: the middle conv, its input gradient and its filter gradient (37 kernels with the split reductions -> 60)', () => {
    const names = kernelsOf(compileModel(mnistCnn, { train: true })).filter((n) => n.startsWith('train_step'));
    expect(names.filter((n) => n.endsWith('_wg'))).toHaveLength(3);
    // the filter gradient reads the convolution's transformed input: 6 dy transforms, product, output
    expect(names.filter((n) => /_w(i|d)\d$/.test(n))).toHaveLength(6 + 6 + 6);
    expect(names).toHaveLength(60);
    expect(
      kernelsOf(compileModel(mnistCnn, { train: true, winograd: false })).filter((n) => n.startsWith('train_step')),
    ).toHaveLength(37);
  });
});

describe('winograd: the filter gradient', () => {
  const g = convGraph('conv2d_filter_grad', [8, 13, 13, 32], [8, 11, 11, 64], { filter_shape: [3, 3, 32, 64] });

  it('becomes input (one per row of BT d), dy (one per row of A dy), batched product and output kernels', () => {
    const p = compile(g);
    const rows = [0, 1, 2, 3, 4, 5];
    expect(kernelsOf(p)).toEqual([
      ...rows.map((xi) => `main_k0_wi${xi}`),
      ...rows.map((xi) => `main_k0_wd${xi}`),
      'main_k0_wg',
      'main_k0_wo',
    ]);
    const product = p.entries[0]!.kernels.find((k) => k.kind === 'contraction') as ContractionKernel;
    // 36 points; 32 input channels by 64 output channels, summed over 8 * 3 * 3 tiles
    expect([product.batch, product.m, product.k, product.n]).toEqual([[36], 32, 8 * 9, 64]);
    expect(kernelsOf(compile(g, { winograd: false }))).toEqual(['main_k0']);
  });

  it('reads the transformed input of a convolution over the same x, unless x is written in between', () => {
    const b = new GraphBuilder('pair');
    const x = b.input('x', 'f32', [8, 13, 13, 32]);
    b.output('y', b.op('conv2d', [x, b.input('w', 'f32', [3, 3, 32, 64])]));
    b.output(
      'dw',
      b.op('conv2d_filter_grad', [x, b.input('dy', 'f32', [8, 11, 11, 64])], { filter_shape: [3, 3, 32, 64] }),
    );
    const pair = b.finish();
    const p = compile(pair);
    const names = kernelsOf(p);
    expect(names.filter((n) => /_wi\d$/.test(n))).toEqual([0, 1, 2, 3, 4, 5].map((r) => `main_k0_wi${r}`));
    const product = p.entries[0]!.kernels.find((k) => k.name === 'main_k1_wg') as ContractionKernel;
    expect(product.a.buf).toBe('main_k0_wv');
    // a kernel writing x between them: the filter gradient transforms x itself
    const direct = compile(pair, { winograd: false });
    const [conv, grad] = direct.entries[0]!.kernels as ContractionKernel[];
    const write: LoopKernel = {
      kind: 'loop',
      name: 'write_x',
      space: [1],
      stores: [{ buf: conv!.a.buf, at: { k: 'var', i: 0 }, value: { k: 'const', v: 0, dtype: 'f32' } }],
    };
    const split = winograd({ ...direct, entries: [{ ...direct.entries[0]!, kernels: [conv!, write, grad!] }] });
    expect(kernelsOf(split as Program).filter((n) => /_wi\d$/.test(n))).toHaveLength(12);
    const next = rng(5);
    const feed = {
      x: tensor([8, 13, 13, 32], next, 0, 1),
      w: tensor([3, 3, 32, 64], next, -0.2, 0.2),
      dy: tensor([8, 11, 11, 64], next, -1e-3, 1e-3),
    };
    const want = interpret(pair, feed, {}, { float64: true }).outputs;
    const got = interpretProgram(p, 'main', feed).outputs;
    for (const o of ['y', 'dw']) {
      const top = Math.max(...want[o]!.data.map(Math.abs));
      const err = Math.max(...got[o]!.data.map((v, i) => Math.abs(v - want[o]!.data[i]!)));
      expect(err / top, o).toBeLessThan(5e-6);
    }
  });

  // measured (seed 11): relative to max |dw|, direct 5.3e-8, F(2x2) 1.5e-7, F(4x4) 8.0e-7
  it('max error relative to max |dw| under 5e-7 with F(2x2, 3x3), 5e-6 with F(4x4, 3x3)', () => {
    const next = rng(11);
    const feed = { x: tensor([8, 13, 13, 32], next, 0, 1), w: tensor([8, 11, 11, 64], next, -1e-3, 1e-3) };
    const direct = errorOf(g, compile(g, { winograd: false }), feed);
    const f2 = errorOf(g, compile(g, { winograd: { transform: F2, maxRatio: 1 } }), feed);
    const f4 = errorOf(g, compile(g, { winograd: { transform: F4 } }), feed);
    expect(direct.rel).toBeLessThan(2e-7);
    expect(f2.rel).toBeLessThan(5e-7);
    expect(f4.rel).toBeLessThan(5e-6);
    expect(f4.rel).toBeGreaterThan(direct.rel);
  });
});

describe('winograd: error against direct convolution', () => {
  // the MNIST CNN's middle layer at batch 8: x [0, 1) (after ReLU and pooling), He-uniform w
  const fwd = convGraph('conv2d', [8, 13, 13, 32], [3, 3, 32, 64]);
  const grad = convGraph('conv2d_input_grad', [8, 11, 11, 64], [3, 3, 32, 64], { input_shape: [8, 13, 13, 32] });
  const limit = Math.sqrt(6 / (9 * 32));
  const next = rng(7);
  const feedFwd = { x: tensor([8, 13, 13, 32], next, 0, 1), w: tensor([3, 3, 32, 64], next, -limit, limit) };
  const feedGrad = { x: tensor([8, 11, 11, 64], next, -1e-3, 1e-3), w: feedFwd.w };

  // measured (seed 7): relative to max |y|, direct 4.0e-8 / 4.8e-8, F(2x2) 1.5e-7 / 1.5e-7,
  // F(4x4) 9.9e-7 / 1.9e-6 (conv2d / conv2d_input_grad)
  it.each([
    ['conv2d', fwd, feedFwd],
    ['conv2d_input_grad', grad, feedGrad],
  ] as const)('%s: max error relative to max |y| under 5e-7 with F(2x2, 3x3), 5e-6 with F(4x4, 3x3)', (_, g, feed) => {
    const direct = errorOf(g, compile(g, { winograd: false }), feed);
    const f2 = errorOf(g, compile(g, { winograd: { transform: F2, maxRatio: 1 } }), feed);
    const f4 = errorOf(g, compile(g, { winograd: { transform: F4 } }), feed);
    expect(direct.rel).toBeLessThan(2e-7);
    expect(f2.rel).toBeLessThan(5e-7);
    expect(f4.rel).toBeLessThan(5e-6);
    expect(f4.rel).toBeGreaterThan(direct.rel); // the rewrite ran: its sums differ from the direct ones
  });
});
