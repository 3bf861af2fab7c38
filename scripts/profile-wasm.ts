// Per-kernel profile of a model's compiled WebAssembly program, and ms per call of each entry.
//   npx tsx scripts/profile-wasm.ts examples/mnist-cnn.ts [--batch 64] [--reps 10] [--top 25] [--simd] [--min]
// The profile build calls an imported tick(id) before each kernel (targets/wasm/module.ts `profile`);
// the per-call timings come from the shipped build (no ticks). Inputs are random (i32 inputs in [0, 2)).
import { toManifest } from '../compiler/artifact/manifest.ts';
import { pickModel } from '../compiler/dsl/model.ts';
import { compileProgram, modelEntries } from '../compiler/pipeline.ts';
import { toManifest } from '../compiler/artifact/manifest.ts';
import { namedArray } from '../compiler/train/interp-session.ts';
import { initParams } from '../ir/init.ts';
import type { Kernel, Program } from '../ir/kernel.ts';
import { loadWasm, relaxedSimdSupported } from '../runtime/wasm.ts';
import type { TensorData } from '../runtime/wasm.ts';
import { assemble, kernelNames, programWat } from '../targets/wasm/index.ts';

const argv = process.argv.slice(2);
const flag = (name: string, d: number): number => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : d;
};
const file = argv.find((a) => a.endsWith('.ts'));
if (!file) throw new Error('usage: profile-wasm.ts <model.ts> [--batch N] [--reps N] [--top N] [--simd]');
const reps = flag('reps', 10), top = flag('top', 25);
const relaxed = !argv.includes('--simd') && relaxedSimdSupported();

const model = await pickModel(file, undefined, 'profile');
const batch = flag('batch', model.def.batch);
const t0 = performance.now();
const program = compileProgram(modelEntries(model, { train: true, batch }));
const compileMs = performance.now() - t0;

function describe(k: Kernel): string {
  switch (k.kind) {
    case 'contraction': return `contraction ${k.batch.length ? `${k.batch.join('x')}x` : ''}${k.m}x${k.n}x${k.k} [${k.a.rows}]x[${k.a.cols}]${k.epilogue ? ' +epi' : ''}`;
    case 'template': return `${k.op} ${k.inputTypes.map((t) => `[${t.shape.join(',')}]`).join(' ')} -> [${k.outType.shape.join(',')}]${k.epilogue ? ' +epi' : ''}`;
    case 'loop': return `loop [${k.space.join(',')}]${k.reduce ? ` red [${k.reduce.extents.join(',')}]x${k.reduce.accs.length}` : ''} ${k.stores.length} st`;
  }
}

function feeds(p: Program, entry: string, seed: number): Record<string, TensorData> {
  let s = seed;
  const next = (): number => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const e = p.entries.find((x) => x.name === entry)!;
  return Object.fromEntries(e.inputs.map((i) => {
    const n = i.type.shape.reduce((a, b) => a * b, 1);
    const data = i.type.dtype === 'f32' ? Float32Array.from({ length: n }, next) : i.type.dtype === 'i32' ? Int32Array.from({ length: n }, () => (next() < 0.5 ? 0 : 1)) : Uint8Array.from({ length: n }, () => (next() < 0.5 ? 0 : 1));
    return [i.name, data];
  }));
}

async function executor(profile: boolean, tick?: (id: number) => void) {
  const bin = await assemble(programWat(program, { relaxed, profile }), relaxed);
  const { instance } = await WebAssembly.instantiate(bin as Uint8Array<ArrayBuffer>, profile ? { kiln: { tick: tick! } } : {});
  const { WasmExecutor } = await import('../runtime/wasm.ts');
  const exe = new WasmExecutor(toManifest(program), instance, relaxed ? 'relaxed' : 'simd');
  const trainGraph = modelEntries(model, { train: true, batch })[1]!.graph;
  for (const [name, t] of Object.entries(initParams(trainGraph))) exe.writeParam(name, namedArray(t).data);
  return exe;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
/** The statistic reported: the median, or with --min the fastest run (steadier on a shared, noisy machine). */
const stat = argv.includes('--min') ? (xs: number[]): number => Math.min(...xs) : median;

// ms per call, shipped build
void loadWasm;
const plain = await executor(false);
const perEntry: Record<string, number> = {};
for (const e of program.entries) {
  const ins = feeds(program, e.name, 7);
  // warm up: V8 runs a kernel in its baseline compiler until it has tiered up
  for (let r = 0; r < 5; r++) plain.run(e.name, ins);
  const ts: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    plain.run(e.name, ins);
    ts.push(performance.now() - t);
  }
  perEntry[e.name] = stat(ts);
}

// per-kernel, profile build
const names = kernelNames(program).flat();
const kernels = program.entries.flatMap((e) => e.kernels);
const samples = names.map(() => [] as number[]);
let cur = -1, since = 0, recording = false;
const prof = await executor(true, (id) => {
  const now = performance.now();
  if (cur >= 0 && recording) samples[cur]!.push(now - since);
  cur = id;
  since = performance.now();
});
for (const e of program.entries) {
  const ins = feeds(program, e.name, 7);
  recording = false;
  for (let r = 0; r < 5; r++) prof.run(e.name, ins);
  recording = true;
  for (let r = 0; r < reps; r++) prof.run(e.name, ins);
}

console.log(`${program.name}: batch ${batch}, ${relaxed ? 'relaxed' : 'plain'} SIMD, compile ${compileMs.toFixed(0)} ms`);
for (const [e, ms] of Object.entries(perEntry)) console.log(`  ${e}: ${ms.toFixed(2)} ms per call (${argv.includes('--min') ? 'fastest' : 'median'} of ${reps})`);
let off = 0;
for (const e of program.entries) {
  const rows = e.kernels.map((k, i) => ({ i: off + i, name: names[off + i]!, ms: stat(samples[off + i]!), what: describe(k) }));
  off += e.kernels.length;
  const total = rows.reduce((a, r) => a + r.ms, 0);
  console.log(`\n${e.name}: ${rows.length} kernels, ${total.toFixed(2)} ms in kernels`);
  for (const r of [...rows].sort((a, b) => b.ms - a.ms).slice(0, top)) {
    const xs = samples[r.i]!;
    const spread = `[${Math.min(...xs).toFixed(2)}..${Math.max(...xs).toFixed(2)}]`;
    console.log(`  ${r.ms.toFixed(3).padStart(8)} ms ${((100 * r.ms) / total).toFixed(1).padStart(5)}% ${spread.padStart(14)}  ${r.name.padEnd(40)} ${r.what}`);
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
      console.log(`  ${g.ms.toFixed(3).padStart(8)} ms ${((100 * g.ms) / total).toFixed(1).padStart(5)}%  ${String(g.n).padStart(4)}x  ${what}`);
    }
  }
}
void kernels;
