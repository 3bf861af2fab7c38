// The threaded wasm program (targets/wasm/threads.ts, runtime/threads.ts) against the single-threaded
// one: the seed models' training steps and inference give bitwise equal outputs and params on 2, 3 and
// 4 threads (each output element is computed by one thread with the single-threaded code, so any
// difference is a bug: a race, a lost share, a scratch region two threads share). The single-threaded
// program itself is held to the interpreter by models.test.ts.
import { afterAll, describe, expect, it } from 'vitest';
import { compileProgram } from '../../compiler/pipeline.ts';
import { renderWasm } from '../../targets/wasm/index.ts';
import { programWat } from '../../targets/wasm/module.ts';
import { loadModel, loadWasm, type RuntimeTensor, type WasmExecutor } from '../../runtime/index.ts';
import { buildArtifact } from '../../compiler/artifact/build.ts';
import { loadModels } from '../../compiler/dsl/model.ts';
import { toManifest } from '../../compiler/artifact/manifest.ts';
import { SEED_CASES, seedBatch, seedEntries, seedModel, seedParams, type SeedCase } from '../compiler/seed-cases.ts';
import { GraphBuilder } from '../../ir/builder.ts';
import type { Graph, Value } from '../../ir/graph.ts';
import type { Program } from '../../ir/kernel.ts';
import { checkWasm, randomFeed, runtimeTensor } from './wasm-helpers.ts';
import { sampleKernels } from '../../compiler/inspect/profile.ts';

const open: WasmExecutor[] = [];
afterAll(() => {
  for (const e of open) e.close();
});

/** The seed cases at a batch that gives every thread rows of its own. */
const CASES: readonly [string, number][] = [
  ['xor', 8],
  // batch 8: 72 tiles of the middle layer, so its convolution, input gradient and filter gradient are
  // Winograd kernels (compiler/lower/winograd.ts needs 64)
  ['mnist_cnn', 8],
  ['text_lstm', 5],
  // dropout in a GEMM's epilogue: its random seed is a constant that the scratch rebasing must leave alone
  ['mnist_mlp_sgd', 8],
  ['mnist_mlp_adam', 8],
  ['text_bow', 5],
  ['gan_discriminator_step', 2],
  ['gan_generator_step', 2],
];

const bytes = (t: RuntimeTensor): Uint8Array => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);

describe('threaded wasm: bitwise equal to one thread', () => {
  for (const [model, batch] of CASES) {
    it(`${model} at batch ${batch}: two training steps, then infer, on 2, 3 and 4 threads`, async () => {
      const c: SeedCase = { ...SEED_CASES.find((s) => s.model === model)!, batch };
      const entries = seedEntries(await seedModel(c), c);
      const program = compileProgram(entries);
      const bins = await renderWasm(program, { threads: true });
      expect(bins.threads).toBeDefined();
      const manifest = toManifest(program);
      const binaries = { simd: bins.binary, relaxed: bins.relaxed, threads: bins.threads };
      const params = seedParams(entries);
      const calls = [
        ...entries.filter((e) => e.name === 'train_step').flatMap((e) => [1, 2].map((s) => [e, s] as const)),
        ...entries.filter((e) => e.name === 'infer').map((e) => [e, 100] as const),
      ];
      const results = async (threads: number): Promise<Uint8Array[]> => {
        const exe = await loadWasm(binaries, manifest, { threads });
        open.push(exe);
        expect(exe.threads).toBe(threads);
        for (const p of program.params) exe.writeParam(p.name, runtimeTensor(params[p.name]!));
        const out: Uint8Array[] = [];
        for (const [e, seed] of calls) {
          const feeds = seedBatch(e.graph, c, seed);
          const got = exe.run(e.name, feeds as Record<string, RuntimeTensor>);
          out.push(...Object.values(got).map(bytes));
        }
        out.push(...program.params.map((p) => bytes(exe.readParam(p.name))));
        exe.close();
        return out;
      };
      const one = await results(1);
      for (const threads of [2, 3, 4]) {
        const got = await results(threads);
        expect(got.length).toBe(one.length);
        got.forEach((g, i) => expect(Buffer.compare(g, one[i]!), `${threads} threads, result ${i}`).toBe(0));
      }
    }, 120_000);
  }
});

/** Runs `g`'s compiled `program` (entry 'main') on 1, 2 and 3 threads with the same random feeds (from
 *  `seed`) and expects every output bitwise equal to one thread's. */
async function expectSameOnThreads(program: Program, g: Graph, seed: number): Promise<void> {
  let next = seed;
  const rand = (): number => (next = (next * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const feeds = Object.fromEntries(g.inputs.map((v) => [v.name, randomFeed(v.type, rand) as RuntimeTensor]));
  const bins = await renderWasm(program, { threads: true });
  const binaries = { simd: bins.binary, relaxed: bins.relaxed, threads: bins.threads };
  const out: Uint8Array[][] = [];
  for (const threads of [1, 2, 3]) {
    const exe = await loadWasm(binaries, toManifest(program), { threads });
    open.push(exe);
    out.push(Object.values(exe.run('main', feeds)).map(bytes));
    exe.close();
  }
  const [one, ...more] = out;
  for (const [i, got] of more.entries())
    got.forEach((r, j) => expect(Buffer.compare(r, one![j]!), `${i + 2} threads, output ${j}`).toBe(0));
}

describe('threaded wasm: packs shared by the threads, kernels run alone', () => {
  it('packs each operand once (a share per thread, then a barrier), runs small kernels alone, bitwise equal on 1, 2, 3 threads', async () => {
    const b = new GraphBuilder('packs');
    const mm = (x: Value, y: Value): Value => b.op('matmul', [x, y]);
    const t = (x: Value): Value => b.op('transpose', [x], { perm: [1, 0] });
    // k past one cache block: A packed into tiles element by element, B into panels (n % 8 = 4: zeros)
    b.output('tiles', mm(b.input('a', 'f32', [300, 600]), b.input('b', 'f32', [600, 100])));
    // a transposed A packed by tiles
    b.output('transposed', mm(t(b.input('c', 'f32', [600, 256])), b.input('d', 'f32', [600, 40])));
    // B without contiguous rows: packed element by element, its last panel's zeros by each thread's rows
    b.output('any', mm(b.input('e', 'f32', [100, 64]), t(b.input('g', 'f32', [36, 64]))));
    // too small to split: the first thread alone
    b.output('small', mm(b.input('h', 'f32', [8, 8]), b.input('i', 'f32', [8, 8])));
    const g = b.finish();
    const program = await checkWasm(g, { tol: 1e-4 }); // the one-thread program against the interpreter
    const wat = programWat(program, { threads: true });
    const funcs = wat.split('\n(func ').slice(1);
    const kernel = (label: string): string => funcs.find((f) => f.includes(`$L${label}`)) ?? '';
    // fillElements of A, packTransposedA, fillElements of B, packB: each a thread's share, then a barrier
    for (const label of ['fear', 'pat', 'febr', 'pp']) {
      expect(kernel(label), label).toContain(`$sh_lo${label}`);
      expect(kernel(label), label).toContain('(call $barrier)');
    }
    expect(wat).toMatch(
      /\(if \(i32\.eqz \(global\.get \$tid\)\) \(then\n\(call \$e0_k\d+_[^)]*\)\)\)\n\(call \$barrier\)/,
    );
    await expectSameOnThreads(program, g, 7);
  }, 120_000);
});

describe('threaded wasm: k split into slices', () => {
  it('a filter gradient with many k blocks: the threads share out fixed slices of k, bitwise equal on 1, 2, 3 threads', async () => {
    const b = new GraphBuilder('slices');
    const dw = b.op(
      'conv2d_filter_grad',
      [b.input('x', 'f32', [16, 28, 28, 1]), b.input('dy', 'f32', [16, 26, 26, 32])],
      {
        filter_shape: [3, 3, 1, 32],
      },
    );
    b.output('dw', b.op('relu', [dw]));
    const g = b.finish();
    const program = await checkWasm(g, { tol: 1e-4 }); // a sum of 10,816 products
    const wat = programWat(program, { threads: true });
    expect(wat).toContain('$sh_logs'); // the slices shared out
    expect(wat).toContain('$sh_logcr'); // then the combine's rows
    await expectSameOnThreads(program, g, 3);
  }, 120_000);
});

describe('threaded wasm module', () => {
  it('splits loops and GEMMs by thread, runs unsplittable kernels on thread 0, rebases scratch per thread', async () => {
    const c: SeedCase = { ...SEED_CASES.find((s) => s.model === 'mnist_cnn')!, batch: 4 };
    const program = compileProgram(seedEntries(await seedModel(c), c));
    const wat = programWat(program, { threads: true });
    expect(wat).toContain('(import "env" "memory" (memory');
    expect(wat).toMatch(/shared\)\)/);
    expect(wat).toContain('(global.get $scr)');
    expect(wat).toContain('(func (export "kiln_wake")'); // called by WasmExecutor.run before each entry
    expect(wat).toContain('$sh_logi'); // a GEMM's row blocks
    expect(wat).toMatch(/\$sh_lo(s\d|sv)/); // a loop kernel's outer variable
    expect(wat).toContain('(if (i32.eqz (global.get $tid))'); // the loss, a reduction to one value
    // the filter gradient's transposed patches: each k block's slice packed by the threads together
    // into one of two slots, then one barrier
    const slices = wat.split('\n(func ').find((f) => f.includes('$Lpxpt')) ?? '';
    expect(slices).toContain('$sh_lopt');
    expect(slices).toMatch(/\$Lpxpt[\s\S]*\(call \$barrier\)[\s\S]*\$Lgj/);
    // the single-threaded module is the same as before: no thread code in it
    expect(programWat(program)).not.toMatch(/\$tid|\$scr|sh_lo/);
  });
  it('rebases scratch addresses only, never a value: the dropout seed in a GEMM epilogue stays as it is', async () => {
    const c: SeedCase = SEED_CASES.find((s) => s.model === 'mnist_mlp_sgd')!;
    const program = compileProgram(seedEntries(await seedModel(c), c));
    const seeds = (wat: string): string[] => [...wat.matchAll(/\(call \$random_uniform (\S+ \S+)/g)].map((m) => m[1]!);
    const threaded = seeds(programWat(program, { threads: true }));
    expect(threaded.length).toBeGreaterThan(0);
    expect(threaded).toEqual(seeds(programWat(program)));
    expect(threaded.every((s) => s.startsWith('(i32.const '))).toBe(true);
  });
});

describe('loadModel threads', () => {
  const artifact = async (): Promise<Record<string, Uint8Array>> => {
    const { xor } = await loadModels(new URL('../../examples/xor.ts', import.meta.url).pathname);
    return (await buildArtifact(xor!, { targets: ['wasm'] })).files;
  };

  it('runs the threaded build on the threads asked for, equal to one thread; a bad count is K7013', async () => {
    const files = await artifact();
    expect(Object.keys(files)).toEqual(
      expect.arrayContaining(['program.threads.wasm', 'program.threads.relaxed.wasm']),
    );
    const x = Float32Array.from([0, 0, 0, 1, 1, 0, 1, 1]);
    const one = await loadModel(files, { threads: 1 });
    const two = await loadModel(files, { threads: 2 });
    expect([one.threads, two.threads]).toEqual([1, 2]);
    expect(two.backendInfo).toMatch(/^wasm \((relaxed )?SIMD, 2 threads\)/);
    expect(Array.from((await two.infer({ x })).y!)).toEqual(Array.from((await one.infer({ x })).y!));
    two.close();
    for (const threads of [0, 1.5, -1])
      await expect(loadModel(files, { threads })).rejects.toMatchObject({ code: 'K7013' });
  }, 60_000);

  it('falls back to one thread where SharedArrayBuffer is withheld (a page not cross-origin isolated), saying why', async () => {
    const files = await artifact();
    const g = globalThis as { crossOriginIsolated?: boolean };
    g.crossOriginIsolated = false;
    try {
      const m = await loadModel(files, { threads: 4 });
      expect(m.threads).toBe(1);
      expect(m.backendInfo).toMatch(
        /^wasm \((relaxed )?SIMD, 1 thread of 4 asked: SharedArrayBuffer is unavailable \(a page needs cross-origin isolation/,
      );
    } finally {
      delete g.crossOriginIsolated;
    }
  }, 60_000);
});

describe('threaded profile', () => {
  it('times every kernel of the threaded build on 2 threads (the first thread ticks), as the one-thread build', async () => {
    const c: SeedCase = { ...SEED_CASES.find((s) => s.model === 'mnist_cnn')!, batch: 4 };
    const entries = seedEntries(await seedModel(c), c);
    const program = compileProgram(entries);
    const wat = programWat(program, { threads: true, profile: true });
    const kernels = program.entries.reduce((n, e) => n + e.kernels.length, 0);
    expect(wat.match(/\(call \$tick \(i32\.const \d+\)\)/g)).toHaveLength(kernels);
    const graphs = entries.map((e) => e.graph);
    for (const threads of [1, 2]) {
      const times = await sampleKernels(program, graphs, false, 2, threads);
      expect([...times.keys()]).toEqual(program.entries.flatMap((e) => e.kernels.map((k) => k.name)));
      for (const [name, ts] of times) {
        expect(ts, `${name} on ${threads} threads`).toHaveLength(2);
        for (const t of ts) expect(t).toBeGreaterThanOrEqual(0);
      }
    }
  }, 60_000);
});
