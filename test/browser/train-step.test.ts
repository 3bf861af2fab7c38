// A compiled training step in headless Chromium (Debian's /usr/bin/chromium, page on 127.0.0.1):
// the seed models' train_step runs in the page on WebAssembly and on WebGPU (SwiftShader) and both
// agree with the same step run in Node on WebAssembly: the page's wasm bit for bit (same binary, same
// engine family), WebGPU within the case's tolerance.
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileProgram } from '../../compiler/pipeline.ts';
import { toManifest } from '../../compiler/artifact/manifest.ts';
import { renderWasm } from '../../targets/wasm/index.ts';
import { renderWgsl } from '../../targets/wgsl/index.ts';
import { loadWasm, type RuntimeTensor, type TensorData } from '../../runtime/index.ts';
import { SEED_CASES, seedBatch, seedEntries, seedModel, seedParams } from '../compiler/seed-cases.ts';
import { expectClose, runtimeTensor } from '../targets/wasm-helpers.ts';
import { bundle, openPage, type ChromiumPage } from '../../compiler/chromium.ts';
import { closeGpu, testGpu } from '../targets/wgsl-helpers.ts';

const gpu = await testGpu();
let page: ChromiumPage | undefined;
afterAll(async () => {
  await page?.close();
  await closeGpu();
});

async function openStepPage(): Promise<ChromiumPage> {
  if (page) return page;
  page = await openPage(await bundle(join(fileURLToPath(new URL('.', import.meta.url)), 'step-page.ts')));
  await page.page.waitForFunction(() => 'kilnStep' in globalThis);
  return page;
}

type Result = { outputs: Record<string, RuntimeTensor>; params: Record<string, RuntimeTensor>; about: string };

for (const model of ['xor', 'mnist_cnn']) {
  const c = SEED_CASES.find((x) => x.model === model)!;
  describe.skipIf(!gpu.ok)(`${model} train_step (batch ${c.batch}) in headless Chromium`, async () => {
    const entries = seedEntries(await seedModel(c), c);
    const program = compileProgram(entries);
    const train = entries.find((e) => e.name === 'train_step')!;
    const params = seedParams(entries);
    const call = {
      manifest: toManifest(program),
      entry: 'train_step',
      params: Object.fromEntries(program.params.map((p) => [p.name, runtimeTensor(params[p.name]!).data])) as Record<
        string,
        TensorData
      >,
      inputs: Object.fromEntries(
        Object.entries(seedBatch(train.graph, c, 1)).map(([n, t]) => [n, (t as RuntimeTensor).data]),
      ) as Record<string, TensorData>,
    };
    const binary = (await renderWasm(program, { relaxed: false })).binary;
    const node = await loadWasm(binary, call.manifest);
    for (const [n, d] of Object.entries(call.params)) node.writeParam(n, d);
    const want = {
      outputs: node.run('train_step', call.inputs),
      params: Object.fromEntries(program.params.map((p) => [p.name, node.readParam(p.name)])),
    };
    const compare = (got: Result, tol: number, what: string): void => {
      for (const o of train.graph.outputs)
        expectClose(
          got.outputs[o.name]!,
          { type: want.outputs[o.name]!.type, data: Float64Array.from(want.outputs[o.name]!.data) },
          `${what} output ${o.name}`,
          tol,
        );
      for (const p of program.params)
        expectClose(
          got.params[p.name]!,
          { type: want.params[p.name]!.type, data: Float64Array.from(want.params[p.name]!.data) },
          `${what} param ${p.name}`,
          tol,
        );
    };

    it('on WebAssembly in the page: equal to Node', async () => {
      const p = await openStepPage();
      const got = await p.page.evaluate(
        ([b, c]) =>
          (
            globalThis as never as { kilnStep: { onWasm: (b: Uint8Array, c: unknown) => Promise<Result> } }
          ).kilnStep.onWasm(b, c),
        [binary, call] as const,
      );
      compare(got, 0, 'browser wasm');
    }, 120_000);

    it(`on WebGPU in the page: within ${c.tol} of Node's wasm`, async () => {
      const p = await openStepPage();
      const got = await p.page.evaluate(
        ([k, c]) =>
          (
            globalThis as never as { kilnStep: { onWebGpu: (k: unknown, c: unknown) => Promise<Result> } }
          ).kilnStep.onWebGpu(k, c),
        [renderWgsl(program), call] as const,
      );
      expect(got.about).toMatch(/swiftshader|google/i);
      compare(got, c.tol, 'browser WebGPU');
    }, 300_000);
  });
}
