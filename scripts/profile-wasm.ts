// Per-kernel profile of a model's compiled WebAssembly program, and ms per call of each entry.
//   npx tsx scripts/profile-wasm.ts examples/mnist-cnn.ts [--batch 64] [--reps 10] [--top 25] [--simd] [--min] [--threads N]
// Timings come from compiler/inspect/profile.ts (as `kiln inspect --stats --profile`): the per-kernel
// ones from a profiling build that calls an imported tick(id) before each kernel, the per-call ones
// from the shipped build. Inputs are random (i32 inputs in [0, 2)). With --threads N (N > 1), each
// kernel's time on one thread and in the threaded build on N threads side by side (its time there
// runs to the end of the barrier after it), its speed-up, whether it runs alone on the first thread,
// and what it loses against a perfect split (time on N threads - time on one / N).
import { setFlagsFromString } from 'node:v8';
import { pickModel } from '../compiler/dsl/model.ts';
import { compileProgram, modelEntries } from '../compiler/pipeline.ts';
import { median, sampleEntries, sampleKernels } from '../compiler/inspect/profile.ts';
import type { Kernel } from '../ir/kernel.ts';
import { relaxedSimdSupported } from '../runtime/wasm.ts';
import { kernelNames, runsAlone } from '../targets/wasm/index.ts';

const argv = process.argv.slice(2);
const flag = (name: string, d: number): number => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : d;
};
const file = argv.find((a) => a.endsWith('.ts'));
if (!file) throw new Error('usage: profile-wasm.ts <model.ts> [--batch N] [--reps N] [--top N] [--simd]');
const reps = flag('reps', 10),
  top = flag('top', 25),
  threads = flag('threads', 1);
// relaxed SIMD on as in the bench (Node 20's V8 needs the flag), unless --simd
if (!argv.includes('--simd')) setFlagsFromString('--experimental-wasm-relaxed-simd');
const relaxed = !argv.includes('--simd') && relaxedSimdSupported();

const model = await pickModel(file, undefined, 'profile');
const batch = flag('batch', model.def.batch);
const t0 = performance.now();
const program = compileProgram(modelEntries(model, { train: true, batch }));
const compileMs = performance.now() - t0;

function describe(k: Kernel): string {
  switch (k.kind) {
    case 'contraction':
      return `contraction ${k.batch.length ? `${k.batch.join('x')}x` : ''}${k.m}x${k.n}x${k.k} [${k.a.rows}]x[${k.a.cols}]${k.epilogue ? ' +epi' : ''}`;
    case 'template':
      return `${k.op} ${k.inputTypes.map((t) => `[${t.shape.join(',')}]`).join(' ')} -> [${k.outType.shape.join(',')}]${k.epilogue ? ' +epi' : ''}`;
    case 'loop':
      return `loop [${k.space.join(',')}]${k.reduce ? ` red [${k.reduce.extents.join(',')}]x${k.reduce.accs.length}` : ''} ${k.stores.length} st`;
  }
}

/** The statistic reported: the median, or with --min the fastest run (steadier on a shared, noisy machine). */
const stat = argv.includes('--min') ? (xs: number[]): number => Math.min(...xs) : median;

const graphs = modelEntries(model, { train: true, batch }).map((e) => e.graph);
const names = kernelNames(program).flat();
if (threads > 1) {
  await compareThreads();
  process.exit(0);
}
// ms per call, shipped build; per kernel, the profiling build
const perEntry = Object.fromEntries(
  Object.entries(await sampleEntries(program, graphs, relaxed, reps)).map(([e, ts]) => [e, stat(ts)]),
);
const byKernel = await sampleKernels(program, graphs, relaxed, reps);
const samples = program.entries.flatMap((e) => e.kernels.map((k) => byKernel.get(k.name)!));

console.log(
  `${program.name}: batch ${batch}, ${relaxed ? 'relaxed' : 'plain'} SIMD, compile ${compileMs.toFixed(0)} ms`,
);
for (const [e, ms] of Object.entries(perEntry))
  console.log(`  ${e}: ${ms.toFixed(2)} ms per call (${argv.includes('--min') ? 'fastest' : 'median'} of ${reps})`);
let off = 0;
for (const e of program.entries) {
  const rows = e.kernels.map((k, i) => ({
    i: off + i,
    name: names[off + i]!,
    ms: stat(samples[off + i]!),
    what: describe(k),
  }));
  off += e.kernels.length;
  const total = rows.reduce((a, r) => a + r.ms, 0);
  console.log(`\n${e.name}: ${rows.length} kernels, ${total.toFixed(2)} ms in kernels`);
  for (const r of [...rows].sort((a, b) => b.ms - a.ms).slice(0, top)) {
    const xs = samples[r.i]!;
    const spread = `[${Math.min(...xs).toFixed(2)}..${Math.max(...xs).toFixed(2)}]`;
    console.log(
      `  ${r.ms.toFixed(3).padStart(8)} ms ${((100 * r.ms) / total).toFixed(1).padStart(5)}% ${spread.padStart(14)}  ${r.name.padEnd(40)} ${r.what}`,
    );
  }
  // kernels of the same shape together (an unrolled recurrence repeats each step's kernels)
  const groups = new Map<string, { n: number; ms: number }>();
  for (const r of rows) {
    const g = groups.get(r.what) ?? { n: 0, ms: 0 };
    groups.set(r.what, { n: g.n + 1, ms: g.ms + r.ms });
  }
  if (groups.size < rows.length) {
    console.log(`  by shape:`);
    for (const [what, g] of [...groups].sort((a, b) => b[1].ms - a[1].ms).slice(0, top)) {
      console.log(
        `  ${g.ms.toFixed(3).padStart(8)} ms ${((100 * g.ms) / total).toFixed(1).padStart(5)}%  ${String(g.n).padStart(4)}x  ${what}`,
      );
    }
  }
}

/** Each kernel on one thread and on `threads`, side by side, with what the split loses. */
async function compareThreads(): Promise<void> {
  const calls = [
    await sampleEntries(program, graphs, relaxed, reps, 1),
    await sampleEntries(program, graphs, relaxed, reps, threads),
  ];
  const one = await sampleKernels(program, graphs, relaxed, reps, 1);
  const many = await sampleKernels(program, graphs, relaxed, reps, threads);
  console.log(`${program.name}: batch ${batch}, ${relaxed ? 'relaxed' : 'plain'} SIMD, 1 and ${threads} threads`);
  for (const [e, ts] of Object.entries(calls[0])) {
    const a = stat(ts),
      b = stat(calls[1][e]!);
    console.log(
      `  ${e}: ${a.toFixed(2)} ms per call on 1 thread, ${b.toFixed(2)} on ${threads}: ${(a / b).toFixed(2)}x`,
    );
  }
  let off = 0;
  for (const e of program.entries) {
    const rows = e.kernels.map((k, i) => {
      const name = names[off + i]!;
      const t1 = stat(one.get(k.name)!),
        tn = stat(many.get(k.name)!);
      return { name, t1, tn, alone: runsAlone(k), lost: tn - t1 / threads, what: describe(k) };
    });
    off += e.kernels.length;
    const sum = (rs: typeof rows, f: (r: (typeof rows)[number]) => number): number => rs.reduce((a, r) => a + f(r), 0);
    const t1 = sum(rows, (r) => r.t1),
      tn = sum(rows, (r) => r.tn),
      lost = sum(rows, (r) => r.lost);
    console.log(
      `\n${e.name}: ${rows.length} kernels, ${t1.toFixed(2)} ms on 1 thread, ${tn.toFixed(2)} on ${threads} (${(t1 / tn).toFixed(2)}x); ${lost.toFixed(2)} ms lost against a perfect split`,
    );
    const alone = rows.filter((r) => r.alone);
    console.log(
      `  ${alone.length} kernels alone: ${sum(alone, (r) => r.t1).toFixed(2)} ms on 1 thread, ${sum(alone, (r) => r.tn).toFixed(2)} on ${threads}, ${sum(alone, (r) => r.lost).toFixed(2)} ms lost`,
    );
    console.log(`  ${'1 thr'.padStart(8)} ${`${threads} thr`.padStart(8)}  speed-up    lost  kernel (by ms lost)`);
    for (const r of [...rows].sort((a, b) => b.lost - a.lost).slice(0, top))
      console.log(
        `  ${r.t1.toFixed(3).padStart(8)} ${r.tn.toFixed(3).padStart(8)}  ${`${(r.t1 / r.tn).toFixed(2)}x`.padStart(8)} ${r.lost.toFixed(3).padStart(7)}  ${r.alone ? 'alone ' : ''}${r.name} ${r.what}`,
      );
  }
}
