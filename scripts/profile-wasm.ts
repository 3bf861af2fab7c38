// Per-kernel profile of a model's compiled WebAssembly program, and ms per call of each entry.
//   npx tsx scripts/profile-wasm.ts examples/mnist-cnn.ts [--batch 64] [--reps 10] [--top 25] [--simd] [--min]
// Timings come from compiler/inspect/profile.ts (as `kiln inspect --stats --profile`): the per-kernel
// ones from a profiling build that calls an imported tick(id) before each kernel, the per-call ones
// from the shipped build. Inputs are random (i32 inputs in [0, 2)).
import { pickModel } from '../compiler/dsl/model.ts';
import { compileProgram, modelEntries } from '../compiler/pipeline.ts';
import { median, sampleEntries, sampleKernels } from '../compiler/inspect/profile.ts';
import type { Kernel } from '../ir/kernel.ts';
import { relaxedSimdSupported } from '../runtime/wasm.ts';
import { kernelNames } from '../targets/wasm/index.ts';

const argv = process.argv.slice(2);
const flag = (name: string, d: number): number => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : d;
};
const file = argv.find((a) => a.endsWith('.ts'));
if (!file) throw new Error('usage: profile-wasm.ts <model.ts> [--batch N] [--reps N] [--top N] [--simd]');
const reps = flag('reps', 10),
  top = flag('top', 25);
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
// ms per call, shipped build; per kernel, the profiling build
const perEntry = Object.fromEntries(
  Object.entries(await sampleEntries(program, graphs, relaxed, reps)).map(([e, ts]) => [e, stat(ts)]),
);
const byKernel = await sampleKernels(program, graphs, relaxed, reps);
const names = kernelNames(program).flat();
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
