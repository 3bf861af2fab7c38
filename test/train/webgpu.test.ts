// Training on WebGPU (`kiln train --target webgpu`): the MNIST MLP (BatchNorm, Dropout, L2, Adam)
// trained on real digits in the same data order on WebAssembly and on WebGPU (headless Chromium on
// SwiftShader, or Dawn with KILN_WEBGPU=node, through compiler/webgpu.ts's worker thread), step by
// step: each step's loss within 1e-4 relative, the first one included. Without Chromium and outside
// CI the suite skips and says why; with CI=true it runs.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { batches } from '../../compiler/data/dataset.ts';
import { compileModel } from '../../compiler/pipeline.ts';
import { loadOnWebGpu } from '../../compiler/webgpu.ts';
import cnn from '../../examples/mnist-cnn.ts';
import { CHROMIUM } from '../../compiler/chromium.ts';
import { createSession } from '../../compiler/train/session.ts';
import mlp from '../../examples/mnist-mlp.ts';

const gpu = process.env.CI === 'true' || process.env.KILN_WEBGPU === 'node' || existsSync(CHROMIUM);
if (!gpu) console.warn(`WebGPU training test skipped: no ${CHROMIUM} (set KILN_WEBGPU=node to use Dawn)`);

describe.skipIf(!gpu)('training on WebGPU', () => {
  it('the MNIST MLP: the first three steps lose what they lose on WebAssembly, within 1e-4 relative', async () => {
    const data = await mlp.def.dataset!();
    const losses = async (target: 'wasm' | 'webgpu'): Promise<number[]> => {
      const s = await createSession(mlp, { target, batch: 16 });
      const out: number[] = [];
      for (const b of batches(data.train, 16, 1, 1)) {
        out.push(s.step(b));
        if (out.length === 3) break;
      }
      return out;
    };
    const want = await losses('wasm');
    const got = await losses('webgpu');
    expect(want[0]).toBeGreaterThan(1); // about ln(10) before training
    for (const [i, w] of want.entries())
      expect(Math.abs(got[i]! - w) / Math.abs(w), `step ${i + 1}`).toBeLessThan(1e-4);
  }, 300_000);

  it('a training step of the MNIST CNN is one submit of one dispatch per kernel', async () => {
    const program = compileModel(cnn, { train: true, batch: 2 });
    const kernels = program.entries.find((e) => e.name === 'train_step')!.kernels.length;
    const exe = await loadOnWebGpu(program);
    try {
      const x = new Float32Array(2 * 28 * 28).fill(0.5);
      const y = Int32Array.from([3, 7]);
      for (let step = 1; step <= 2; step++) {
        const loss = (await exe.run('train_step', { x, y }, ['loss'])).loss!.data[0]!;
        expect(Number.isFinite(loss)).toBe(true);
        expect(await exe.stats()).toEqual({ submits: step, dispatches: step * kernels });
      }
    } finally {
      await exe.destroy();
    }
  }, 300_000);
});
