// kiln's WGSL matmul on a WebGPU device: GFLOP/s at the given sizes, with dispatches and submits per
// call. `npx tsx bench/webgpu-matmul.ts [--host node|chromium] [n ...]` (default: node, 1024 2048 4096).
// --host node: the `webgpu` package (Dawn) on this machine's adapter (a real GPU, or SwiftShader
// with VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json); --host chromium: headless
// Chromium's WebGPU on SwiftShader. The operands are params (written once), so a call moves no data
// in; calls are queued without reading back, and the last one reads the result, which ends the timing.
// Each size runs twice in one process, with vec4 tile loads and with scalar loads (WgslOptions.vec4),
// and prints the ratio of their times; so does a loop kernel, relu(a + b) over the same n x n
// operands (4 n^2 bytes per operand and result: one invocation per vec4 or per element).
import { GraphBuilder } from '../ir/builder.ts';
import { compileProgram } from '../compiler/pipeline.ts';
import { loadOnWebGpu } from '../compiler/webgpu.ts';
import type { Transport } from '../runtime/webgpu-node.ts';

const args = process.argv.slice(2);
const host = args.includes('--host') ? args[args.indexOf('--host') + 1] : 'node';
const sizes = args.filter((a, i) => /^\d+$/.test(a) && args[i - 1] !== '--host').map(Number);
let transport: (Transport & { close(): Promise<void> }) | undefined;
if (host === 'chromium') transport = await (await import('../compiler/chromium.ts')).chromiumGpu();

/** GFLOP/s and ms per call of kiln's n x n matmul (or relu(a + b)), loads by vec4 or by scalars. */
async function measure(op: 'matmul' | 'relu-add', n: number, vec4: boolean): Promise<number> {
  const b = new GraphBuilder(`${op}${n}`);
  const x = b.param('a', 'f32', [n, n], { name: 'zeros', attrs: {} });
  const w = b.param('b', 'f32', [n, n], { name: 'zeros', attrs: {} });
  b.output('y', op === 'matmul' ? b.op('matmul', [x, w]) : b.op('relu', [b.op('add', [x, w])]));
  const program = compileProgram([{ name: 'main', graph: b.finish() }]);
  const exe = await loadOnWebGpu(program, { vec4, ...(transport ? { transport } : {}) });
  const fill = (seed: number): Float32Array =>
    Float32Array.from({ length: n * n }, (_, i) => ((i * 7919 + seed) % 1000) / 1000 - 0.5);
  await exe.writeParam('a', fill(1));
  await exe.writeParam('b', fill(2));
  await exe.run('main', {}, ['y']); // warm-up (first dispatch)
  const before = await exe.stats();
  let calls = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 2000 || calls < 3) {
    await exe.run('main', {}, []);
    calls++;
  }
  await exe.run('main', {}, ['y']);
  calls++;
  const secs = (performance.now() - t0) / 1000;
  const after = await exe.stats();
  const ms = (1000 * secs) / calls;
  console.log(
    JSON.stringify({
      case: `${op} ${n}`,
      loads: vec4 ? 'vec4' : 'scalar',
      adapter: exe.about,
      gflops: +(((op === 'matmul' ? 2 * n ** 3 : 2 * n * n) * calls) / secs / 1e9).toFixed(3),
      msPerCall: +ms.toFixed(3),
      dispatchesPerCall: (after.dispatches - before.dispatches) / calls,
      submitsPerCall: (after.submits - before.submits) / calls,
      kernels: program.entries[0]!.kernels.length,
    }),
  );
  await exe.destroy();
  return ms;
}

for (const n of sizes.length ? sizes : [1024, 2048, 4096]) {
  for (const op of ['matmul', 'relu-add'] as const) {
    const vec4 = await measure(op, n, true);
    const scalar = await measure(op, n, false);
    console.log(JSON.stringify({ case: `${op} ${n}`, vec4OverScalar: +(vec4 / scalar).toFixed(3) }));
  }
}
await transport?.close();
process.exit(0);
