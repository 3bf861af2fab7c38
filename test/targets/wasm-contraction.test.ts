// The wasm target's ways of packing contraction operands (targets/wasm/matmul.ts `plan`, conv.ts) on
// hand-built kernels, each against the Kernel IR interpreter: operands that are neither strided views
// nor patches (packed element by element, A per row block, B into panels), an upsampled window too
// small to gather (im2col through the index expression, per tap), a batch with such operands, and the
// patch forms that lowering builds, checked by the code path they take.
import { describe, expect, it } from 'vitest';
import { affineExpr, flippedFilterOperand, viewOperand, windowOperand } from '../../ir/contraction.ts';
import { interpretProgram } from '../../ir/interpret-kernels.ts';
import type { ContractionKernel, Operand, Program } from '../../ir/kernel.ts';
import type { Tensor } from '../../ir/types.ts';
import { toManifest } from '../../compiler/artifact/manifest.ts';
import { planMemory } from '../../compiler/passes/memory.ts';
import { programWat, renderWasm } from '../../targets/wasm/index.ts';
import { loadWasm, type RuntimeTensor } from '../../runtime/index.ts';
import { rng } from '../grad/check-vjp.ts';
import { expectClose } from './wasm-helpers.ts';

/** A one-kernel program: inputs a and b (f32, `sizes`), output y. */
function program(k: Omit<ContractionKernel, 'kind' | 'name' | 'out'>, sizes: { a: number; b: number }): Program {
  const y = k.batch.reduce((s, d) => s * d, 1) * k.m * k.n;
  const kernel: ContractionKernel = { kind: 'contraction', name: 'k', out: 'y', ...k };
  const base = {
    name: 'hand',
    buffers: [
      { name: 'a', dtype: 'f32' as const, size: sizes.a, role: 'input' as const },
      { name: 'b', dtype: 'f32' as const, size: sizes.b, role: 'input' as const },
      { name: 'y', dtype: 'f32' as const, size: y, role: 'output' as const },
    ],
    params: [],
    entries: [
      {
        name: 'main',
        inputs: [
          { name: 'a', buf: 'a', type: { dtype: 'f32' as const, shape: [sizes.a] } },
          { name: 'b', buf: 'b', type: { dtype: 'f32' as const, shape: [sizes.b] } },
        ],
        outputs: [{ name: 'y', buf: 'y', type: { dtype: 'f32' as const, shape: [y] } }],
        kernels: [kernel],
      },
    ],
  };
  return { ...base, memory: planMemory(base) };
}

/** Runs the program on wasm and on the Kernel IR interpreter; returns the module's text. */
async function check(p: Program): Promise<string> {
  const next = rng(7);
  const feed = (n: number): Tensor => ({
    type: { dtype: 'f32', shape: [n] },
    data: Float32Array.from({ length: n }, () => next() * 2 - 1),
  });
  const [sa, sb] = p.buffers.map((b) => b.size) as [number, number];
  const inputs = { a: feed(sa), b: feed(sb) };
  const want = interpretProgram(p, 'main', inputs).outputs.y!;
  const bins = await renderWasm(p);
  const got = (await loadWasm(bins.binary, toManifest(p))).run('main', inputs as Record<string, RuntimeTensor>).y!;
  expectClose(got, want, 'y', 1e-5);
  return programWat(p);
}

const image = [2, 6, 7, 5];
const win = { image, out: [6, 7], kernel: [3, 3], strides: [1, 1], dilations: [1, 1], pads: [1, 1] };

describe('wasm: contraction operands packed by their form', () => {
  it('A neither a view nor a patch (a guard on the row), B with a guard: element by element', async () => {
    const a: Operand = {
      buf: 'a',
      rows: [10],
      cols: [12],
      at: affineExpr(0, [1, 10]),
      guard: [{ e: { k: 'mod', a: { k: 'var', i: 0 }, b: { k: 'int', v: 3 } }, lo: 0, hi: 2 }],
    };
    const b: Operand = {
      buf: 'b',
      rows: [12],
      cols: [9],
      at: affineExpr(0, [9, 1]),
      guard: [{ e: { k: 'var', i: 1 }, lo: 2, hi: 9 }],
    };
    const wat = await check(program({ batch: [], m: 10, n: 9, k: 12, a, b }, { a: 120, b: 108 }));
    expect(wat).toContain('$Lfear'); // A's rows, element by element
    expect(wat).toContain('$Lfebr'); // B into panels
  });

  it('an upsampled window with fewer rows than image pixels: im2col through the index, per tap', async () => {
    const up = windowOperand(
      'a',
      {
        image: [1, 8, 8, 4],
        out: [3, 3],
        kernel: [3, 3],
        strides: [1, 1],
        dilations: [1, 1],
        pads: [1, 1],
        upsample: [2, 2],
      },
      'rows',
    );
    const wat = await check(
      program({ batch: [], m: 9, n: 6, k: 36, a: up, b: viewOperand('b', 0, [6, 1], 36, 6) }, { a: 256, b: 216 }),
    );
    expect(wat).toContain('$Lpxic');
    expect(wat).not.toContain('$Lpxgs');
  });

  it('a batch of patch operands is packed element by element, per batch', async () => {
    const w = windowOperand('a', win, 'rows');
    // the window's image index n (var 0) as the batch
    const a: Operand = { ...w, rows: [6, 7] };
    const wat = await check(
      program({ batch: [2], m: 42, n: 4, k: 45, a, b: viewOperand('b', 0, [0, 4, 1], 45, 4) }, { a: 420, b: 180 }),
    );
    expect(wat).toContain('$Lfear');
  });

  it('windows as lowering builds them: im2col (conv2d), gathered (input gradient), transposed slices (filter gradient)', async () => {
    const conv = await check(
      program(
        { batch: [], m: 84, n: 3, k: 45, a: windowOperand('a', win, 'rows'), b: viewOperand('b', 0, [3, 1], 45, 3) },
        { a: 420, b: 135 },
      ),
    );
    expect(conv).toContain('$Lpxic');
    const grad = windowOperand(
      'a',
      {
        image: [2, 3, 4, 5],
        out: [7, 9],
        kernel: [3, 3],
        strides: [1, 1],
        dilations: [1, 1],
        pads: [1, 2],
        upsample: [2, 2],
      },
      'rows',
    );
    const gathered = await check(
      program(
        { batch: [], m: 126, n: 6, k: 45, a: grad, b: flippedFilterOperand('b', [3, 3, 6, 5]) },
        { a: 120, b: 270 },
      ),
    );
    expect(gathered).toContain('$Lph0q0'); // per output pixel phase (y mod 2, x mod 2), affine in each
    expect(gathered).not.toContain('$Lpxgs');
    // strides 3 and 2, a dilated window: 6 phases, some taps reading no image pixel in some phases
    const odd = windowOperand(
      'a',
      {
        image: [2, 3, 4, 5],
        out: [8, 7],
        kernel: [3, 2],
        strides: [1, 1],
        dilations: [2, 1],
        pads: [2, 1],
        upsample: [3, 2],
      },
      'rows',
    );
    const phased = await check(
      program(
        { batch: [], m: 112, n: 6, k: 30, a: odd, b: flippedFilterOperand('b', [3, 2, 6, 5]) },
        { a: 120, b: 180 },
      ),
    );
    expect(phased).toContain('$Lph5q0');
    const filter = await check(
      program(
        { batch: [], m: 45, n: 8, k: 84, a: windowOperand('a', win, 'cols'), b: viewOperand('b', 0, [8, 1], 84, 8) },
        { a: 420, b: 672 },
      ),
    );
    expect(filter).toContain('$Lpxpt');
  });
});
