// `kiln inspect --profile`: runs the compiled WebAssembly program on random inputs and times each
// kernel (a profiling build calls an imported tick(id) before each kernel, targets/wasm/module.ts),
// each entry's call (the shipped build), and the target's peaks: a 256^3 matmul's GFLOP/s and a
// 1M-element elementwise pass's GB/s, both compiled by kiln. `--target webgpu` runs the WGSL program
// with GPU timestamp queries (webgpu-timing.ts): in headless Chromium's WebGPU, or with
// KILN_WEBGPU=node in the `webgpu` package (Dawn) in a worker thread. Rates are FLOPs and bytes of
// the cost model over the median time.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { fail } from '../../ir/errors.ts';
import type { Graph } from '../../ir/graph.ts';
import { GraphBuilder } from '../../ir/builder.ts';
import { initParams } from '../../ir/init.ts';
import type { Program } from '../../ir/kernel.ts';
import { startPool } from '../../runtime/threads.ts';
import { relaxedSimdSupported, WasmExecutor, type TensorData } from '../../runtime/wasm.ts';
import { fromHost } from '../../runtime/webgpu-node.ts';
import type { HostError } from '../../runtime/webgpu-host.ts';
import { assemble, programWat } from '../../targets/wasm/index.ts';
import { renderWgsl } from '../../targets/wgsl/index.ts';
import { toManifest } from '../artifact/manifest.ts';
import { compileProgram } from '../pipeline.ts';
import { webgpuWorkerFile } from '../webgpu.ts';
import { namedArray } from '../train/interp-session.ts';
import type { Collected } from './collect.ts';
import type { KernelTiming, ProfileInfo } from './data.ts';
import type { GpuTimingRequest, GpuTimings } from './webgpu-timing.ts';

export interface ProfileOptions {
  /** Timed runs of each entry after 5 warm-up runs (default 10). */
  readonly reps?: number;
}

export interface GpuProfileOptions extends ProfileOptions {
  /** Where the WGSL runs (default: headless Chromium, or Dawn in a worker with KILN_WEBGPU=node). */
  readonly run?: (req: GpuTimingRequest) => Promise<GpuTimings>;
}

export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/** Random inputs of an entry (f32 in [0, 1), i32 and bool in {0, 1}), the same for every run. */
function feeds(p: Program, entry: string): Record<string, TensorData> {
  let s = 7;
  const next = (): number => (s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const e = p.entries.find((x) => x.name === entry)!;
  return Object.fromEntries(
    e.inputs.map((i) => {
      const n = i.type.shape.reduce((a, b) => a * b, 1);
      const bit = (): number => (next() < 0.5 ? 0 : 1);
      return [
        i.name,
        i.type.dtype === 'f32'
          ? Float32Array.from({ length: n }, next)
          : i.type.dtype === 'i32'
            ? Int32Array.from({ length: n }, bit)
            : Uint8Array.from({ length: n }, bit),
      ];
    }),
  );
}

const initial = (graphs: readonly Graph[]): Record<string, TensorData> =>
  Object.fromEntries(
    graphs.flatMap((g) => Object.entries(initParams(g)).map(([name, t]) => [name, namedArray(t).data] as const)),
  );

/** The program's executor (the shipped build; with `tick`, the profiling build); with `threads` > 1, its
 *  threaded build on a pool of that many threads. */
async function executor(
  p: Program,
  graphs: readonly Graph[],
  relaxed: boolean,
  tick?: (id: number) => void,
  threads = 1,
): Promise<WasmExecutor> {
  const threaded = threads > 1;
  const opts = { relaxed, profile: tick !== undefined, threads: threaded };
  const bin = await assemble(programWat(p, opts), relaxed, threaded);
  const variant = relaxed ? 'relaxed' : 'simd';
  let exe: WasmExecutor;
  if (threaded) {
    const pool = await startPool(
      await WebAssembly.compile(bin as Uint8Array<ArrayBuffer>),
      p.memory.arenaBytes,
      threads,
      tick,
    );
    exe = new WasmExecutor(toManifest(p), pool.instance, variant, threads, pool);
  } else {
    const { instance } = await WebAssembly.instantiate(bin as Uint8Array<ArrayBuffer>, tick ? { kiln: { tick } } : {});
    exe = new WasmExecutor(toManifest(p), instance, variant);
  }
  for (const [name, data] of Object.entries(initial(graphs))) exe.writeParam(name, data);
  return exe;
}

/** ms of each of `reps` calls of each entry (the shipped build), after 5 warm-up calls: V8 runs a
 *  kernel in its baseline compiler until it has tiered up. */
export async function sampleEntries(
  p: Program,
  graphs: readonly Graph[],
  relaxed: boolean,
  reps: number,
  threads = 1,
): Promise<Record<string, number[]>> {
  const exe = await executor(p, graphs, relaxed, undefined, threads);
  const out: Record<string, number[]> = {};
  for (const e of p.entries) {
    const ins = feeds(p, e.name);
    for (let r = 0; r < 5; r++) exe.run(e.name, ins);
    const ts: number[] = [];
    for (let r = 0; r < reps; r++) {
      const t = performance.now();
      exe.run(e.name, ins);
      ts.push(performance.now() - t);
    }
    out[e.name] = ts;
  }
  exe.close();
  return out;
}

/** A one-entry program of a graph with f32 inputs of the given shapes, made by `body`. */
function microProgram(
  name: string,
  shapes: readonly (readonly number[])[],
  body: (b: GraphBuilder, xs: Graph['inputs']) => Graph['nodes'][number],
): Program {
  const b = new GraphBuilder(name);
  const xs = shapes.map((s, i) => b.input(`x${i}`, 'f32', s));
  b.output('y', body(b, xs));
  return compileProgram([{ name: 'run', graph: b.finish() }]);
}

/** ms of each kernel in each of `reps` calls of its entry (after 5 warm-up calls), from the profiling
 *  build: a tick with the next kernel's id ends the previous kernel's time (threaded, `threads` > 1:
 *  the first thread ticks, so a kernel's time includes the barrier after it). */
export async function sampleKernels(
  p: Program,
  graphs: readonly Graph[],
  relaxed: boolean,
  reps: number,
  threads = 1,
): Promise<Map<string, number[]>> {
  const names = p.entries.flatMap((e) => e.kernels.map((k) => k.name));
  const samples = names.map(() => [] as number[]);
  let cur = -1,
    since = 0,
    recording = false;
  const exe = await executor(
    p,
    graphs,
    relaxed,
    (id) => {
      const now = performance.now();
      if (cur >= 0 && recording) samples[cur]!.push(now - since);
      cur = id;
      since = performance.now();
    },
    threads,
  );
  for (const e of p.entries) {
    const ins = feeds(p, e.name);
    recording = false;
    for (let r = 0; r < 5; r++) exe.run(e.name, ins);
    recording = true;
    for (let r = 0; r < reps; r++) exe.run(e.name, ins);
  }
  exe.close();
  return new Map(names.map((n, i) => [n, samples[i]!]));
}

/** GFLOP/s of a 256x256x256 matmul and GB/s of y = x + x over 1M elements (8 MB moved), as kiln
 *  compiles them, timed like the model's kernels. */
async function peaks(relaxed: boolean, reps: number): Promise<ProfileInfo['peaks']> {
  const n = 256,
    len = 1 << 20;
  const mm = microProgram(
    'peak_matmul',
    [
      [n, n],
      [n, n],
    ],
    (b, [x, y]) => b.op('matmul', [x!, y!]),
  );
  const copy = microProgram('peak_copy', [[len]], (b, [x]) => b.op('add', [x!, x!]));
  const [mmMs] = (await sampleKernels(mm, [], relaxed, reps)).values();
  const [copyMs] = (await sampleKernels(copy, [], relaxed, reps)).values();
  return { gflops: (2 * n * n * n) / median(mmMs!) / 1e6, gbps: (2 * len * 4) / median(copyMs!) / 1e6 };
}

/** Each kernel's median time and the rates of its cost at that time. */
function timings(c: Collected, times: ReadonlyMap<string, readonly number[]>): Record<string, KernelTiming> {
  const kernels: Record<string, KernelTiming> = {};
  for (const k of c.data.kernels) {
    const ms = median(times.get(k.name) ?? []);
    kernels[k.name] = {
      ms,
      gflops: ms > 0 ? k.cost.flops / ms / 1e6 : 0,
      gbps: ms > 0 ? (k.cost.bytesRead + k.cost.bytesWritten) / ms / 1e6 : 0,
    };
  }
  return kernels;
}

const medians = (xs: Readonly<Record<string, readonly number[]>>): Record<string, number> =>
  Object.fromEntries(Object.entries(xs).map(([k, ts]) => [k, median(ts)]));

export async function profileWasm(c: Collected, opts: ProfileOptions = {}): Promise<ProfileInfo> {
  const reps = opts.reps ?? 10;
  const relaxed = relaxedSimdSupported();
  const p = c.program;
  const graphs = c.entries.map((e) => e.graph);
  const entryMs = medians(await sampleEntries(p, graphs, relaxed, reps));
  const kernels = timings(c, await sampleKernels(p, graphs, relaxed, reps));
  return { target: relaxed ? 'wasm-relaxed' : 'wasm-simd', reps, entryMs, kernels, peaks: await peaks(relaxed, reps) };
}

/** Runs `req` in a worker thread of its own (ended after the answer). */
async function inWorker(req: GpuTimingRequest): Promise<GpuTimings> {
  const worker = new Worker(await webgpuWorkerFile('compiler/inspect/webgpu-profile-worker.ts'));
  try {
    return await new Promise<GpuTimings>((ok, err) => {
      worker.once('message', (m: { value?: GpuTimings; error?: HostError }) =>
        m.error ? err(fromHost(m.error)) : ok(m.value!),
      );
      worker.once('error', err);
      worker.once('exit', (code) => err(new Error(`the WebGPU profiling worker exited (code ${code})`)));
      worker.postMessage(req);
    });
  } finally {
    await worker.terminate();
  }
}

/** Runs `req` in a headless Chromium page (/usr/bin/chromium through playwright-core). */
async function inChromium(req: GpuTimingRequest): Promise<GpuTimings> {
  const chromium = await import('../chromium.ts').catch((e: Error) => e);
  if (chromium instanceof Error || !existsSync(chromium.CHROMIUM))
    fail(
      'K7008',
      `inspect: --profile --target webgpu runs the WGSL in headless Chromium, which is not here (${chromium instanceof Error ? chromium.message : `no ${chromium.CHROMIUM}`}): install Debian's chromium package, or set KILN_WEBGPU=node to run it on the 'webgpu' package (Dawn)`,
    );
  const here = dirname(fileURLToPath(import.meta.url));
  const p = await chromium.openPage(await chromium.bundle(join(here, 'webgpu-profile-page.ts')));
  try {
    await p.page.waitForFunction(() => 'kilnTime' in globalThis);
    return await chromium.callPage<GpuTimings>(p.page, 'kilnTime', req);
  } finally {
    await p.close();
  }
}

/** The WGSL program timed per kernel with GPU timestamp queries, and the adapter's FMA and copy peaks. */
export async function profileWebGpu(c: Collected, opts: GpuProfileOptions = {}): Promise<ProfileInfo> {
  const reps = opts.reps ?? 10;
  const p = c.program;
  const t = await (opts.run ?? (process.env.KILN_WEBGPU === 'node' ? inWorker : inChromium))({
    kernels: renderWgsl(p),
    manifest: toManifest(p),
    params: initial(c.entries.map((e) => e.graph)),
    feeds: Object.fromEntries(p.entries.map((e) => [e.name, feeds(p, e.name)])),
    reps,
  });
  return {
    target: 'webgpu',
    adapter: t.adapter,
    reps,
    entryMs: medians(t.entryMs),
    kernels: timings(c, new Map(Object.entries(t.kernelMs))),
    peaks: { gflops: t.fma.flops / median(t.fma.ms) / 1e6, gbps: t.copy.bytes / median(t.copy.ms) / 1e6 },
  };
}
