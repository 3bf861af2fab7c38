// kiln's WGSL matmul on a WebGPU device: GFLOP/s at the given sizes, with dispatches and submits per
// call. `npx tsx bench/webgpu-matmul.ts [--host node|chromium] [n ...]` (default: node, 1024 2048 4096).
// --host node: the `webgpu` package (Dawn) on this machine's adapter (a real GPU, or SwiftShader
// with VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json); --host chromium: headless
// Chromium's WebGPU on SwiftShader. The operands are params (written once), so a call moves no data
// in; calls are queued without reading back, and the last one reads the result, which ends the timing.
// Each size runs with vec4 tile loads and with scalar loads (WgslOptions.vec4), timed in alternating
// blocks of calls, and prints each one's median and their ratio; so does a loop kernel, relu(a + b)
// over the same n x n operands (one invocation per vec4 or per element).
import { GraphBuilder } from '../ir/builder.ts';
import { compileProgram } from '../compiler/pipeline.ts';
import { loadOnWebGpu } from '../compiler/webgpu.ts';
import type { Transport } from '../runtime/webgpu-node.ts';

const args = process.argv.slice(2);
const host = args.includes('--host') ? args[args.indexOf('--host') + 1] : 'node';
const sizes = args.filter((a, i) => /^\d+$/.test(a) && args[i - 1] !== '--host').map(Number);
let transport: (Transport & { close(): Promise<void> }) | undefined;
if (host === 'chromium') transport = await (await import('../compiler/chromium.ts')).chromiumGpu();

type Op = 'matmul' | 'relu-add';
type Exe = Awaited<ReturnType<typeof loadOnWebGpu>>;

/** kiln's n x n matmul (or relu(a + b)) loaded with loads by vec4 or by scalars, operands written. */
async function load(op: Op, n: number, vec4: boolean): Promise<{ exe: Exe; kernels: number }> {
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
  return { exe, kernels: program.entries[0]!.kernels.length };
}

/** ms per call over a block of calls of about `ms` milliseconds, ended by reading the result back. */
async function block(exe: Exe, ms: number): Promise<{ ms: number; calls: number }> {
  let calls = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms || calls < 2) {
    await exe.run('main', {}, []);
    calls++;
  }
  await exe.run('main', {}, ['y']);
  calls++;
  return { ms: (performance.now() - t0) / calls, calls };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** vec4 and scalar loads timed in alternating rounds (so load changes on the machine hit both), one
 *  executor alive at a time, each variant's median printed, then their ratio. */
async function compare(op: Op, n: number, rounds = 3): Promise<void> {
  const times: Record<'vec4' | 'scalar', number[]> = { vec4: [], scalar: [] };
  const flops = op === 'matmul' ? 2 * n ** 3 : 2 * n * n;
  for (let r = 0; r < rounds; r++)
    for (const loads of ['vec4', 'scalar'] as const) {
      const { exe, kernels } = await load(op, n, loads === 'vec4');
      const before = await exe.stats();
      const { ms, calls } = await block(exe, 1000);
      const after = await exe.stats();
      times[loads].push(ms);
      if (r === 0)
        console.log(
          JSON.stringify({
            case: `${op} ${n}`,
            loads,
            adapter: exe.about,
            kernels,
            dispatchesPerCall: (after.dispatches - before.dispatches) / calls,
            submitsPerCall: (after.submits - before.submits) / calls,
          }),
        );
      await exe.destroy();
    }
  for (const loads of ['vec4', 'scalar'] as const) {
    const ms = median(times[loads]);
    console.log(
      JSON.stringify({ case: `${op} ${n}`, loads, msPerCall: +ms.toFixed(3), gflops: +(flops / ms / 1e6).toFixed(3) }),
    );
  }
  console.log(
    JSON.stringify({ case: `${op} ${n}`, vec4OverScalar: +(median(times.vec4) / median(times.scalar)).toFixed(3) }),
  );
}

for (const n of sizes.length ? sizes : [1024, 2048, 4096])
  for (const op of ['matmul', 'relu-add'] as const) await compare(op, n);
await transport?.close();
process.exit(0);
