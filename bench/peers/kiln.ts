// kiln itself: the case's model written with kiln's DSL (the same layer list every peer builds),
// compiled ahead of time (compiler/pipeline.ts -> targets/wasm), run by the wasm runtime. One
// exported call per inference or training step; the seeded weights are written into its params.
import { GraphBuilder } from '../../ir/builder.ts';
import type { Graph } from '../../ir/graph.ts';
import type { Program } from '../../ir/kernel.ts';
import { defineModel, losses, nn, optimizers, type Layer as KilnLayer, type Model } from '../../compiler/index.ts';
import { compileModel, compileProgram } from '../../compiler/pipeline.ts';
import { renderWasm } from '../../targets/wasm/index.ts';
import { loadWasm, type WasmExecutor } from '../../runtime/index.ts';
import { ADAM, type Case, type MatmulCase, type ModelCase } from '../cases.ts';
import type { Layer, ModelSpec } from '../models.ts';
import { inProcess, type Impl, type Prepared, type Runner } from './types.ts';
import { beforeClose, benchGpu, closeBenchPage } from './webgpu.ts';
import type { Transport } from '../../runtime/webgpu-node.ts';
import { toManifest } from '../../compiler/artifact/manifest.ts';

/** kiln's param names of each layer's weights, in bench/models.ts's order. */
const PARAMS: Record<Layer['kind'], readonly string[]> = {
  dense: ['kernel', 'bias'],
  conv: ['kernel', 'bias'],
  embedding: ['embeddings'],
  lstm: ['kernel', 'recurrent_kernel', 'bias'],
  maxpool: [],
  flatten: [],
};

const layerName = (i: number): string => `l${i}`;

function kilnLayer(l: Layer, i: number): KilnLayer {
  const name = layerName(i);
  switch (l.kind) {
    case 'dense':
      return nn.dense(l.units, { activation: l.act, name });
    case 'conv':
      return nn.conv2d(l.filters, l.size, { activation: l.act, name });
    case 'maxpool':
      return nn.maxPool2d(l.size, { name });
    case 'flatten':
      return nn.flatten({ name });
    case 'embedding':
      return nn.embedding(l.vocab, l.dim, { name });
    case 'lstm':
      return nn.lstm(l.units, { returnSequences: l.returnSequences, name });
  }
}

/** The bench model in kiln's DSL: softmax output, sparse categorical cross-entropy, Adam. */
export function kilnModel(spec: ModelSpec, batch: number): Model {
  return defineModel({
    name: spec.name.replace(/-/g, '_'),
    batch,
    inputs: { x: { dtype: spec.inputDtype, shape: spec.input } },
    targets: { y: { dtype: 'i32', shape: [] } },
    forward: nn.sequential(spec.layers.map(kilnLayer)),
    train: {
      loss: losses.sparseCategoricalCrossentropy(),
      optimizer: optimizers.adam({ learningRate: ADAM.lr, beta1: ADAM.beta1, beta2: ADAM.beta2, epsilon: ADAM.eps }),
    },
  });
}

/** One matmul as the `infer` entry of a program: y = a · b. */
export function matmulGraph(n: number): Graph {
  const b = new GraphBuilder('matmul');
  const x = b.input('a', 'f32', [n, n]);
  const w = b.input('b', 'f32', [n, n]);
  b.output('y', b.op('matmul', [x, w]));
  return b.finish();
}

/** The program on `threads` threads (its threaded build, on a pool of workers, when more than one). */
async function load(program: Program, threads: number): Promise<WasmExecutor> {
  const bins = await renderWasm(program, { threads: threads > 1 });
  if (threads > 1 && !bins.threads) throw new Error(`kiln: program @${program.name} has no threaded build`);
  return loadWasm({ simd: bins.binary, relaxed: bins.relaxed, threads: bins.threads }, toManifest(program), {
    threads,
  });
}

async function matmulRunner(c: MatmulCase, threads: number): Promise<Runner> {
  const exec = await load(compileProgram([{ name: 'infer', graph: matmulGraph(c.n) }]), threads);
  const feeds = { a: c.a.data, b: c.b.data };
  return { run: () => exec.run('infer', feeds).y!.data, dispose: () => exec.close() };
}

/** What a runner needs of an executor: the wasm one, or WebGPU's (asynchronous). */
interface Exec {
  run(entry: string, feeds: Record<string, Float32Array | Int32Array>, read?: string[]): unknown;
  writeParam(name: string, data: Float32Array): unknown;
}

async function modelRunner(c: ModelCase, threads: number, gpu?: Transport): Promise<Runner> {
  const train = c.kind === 'train';
  const program = compileModel(kilnModel(c.spec, c.batch), { train, batch: c.batch });
  if (gpu) {
    const { loadOnWebGpu } = await import('../../compiler/webgpu.ts');
    const exec = await loadOnWebGpu(program, { transport: gpu });
    const r = await runnerOn(c, exec);
    const kernels = program.entries.find((e) => e.name === (train ? 'train_step' : 'infer'))!.kernels.length;
    let counted = false;
    return {
      // the first call (a warm-up) also counts its dispatches and submits
      run: async () => {
        if (counted) return r.run();
        const before = await exec.stats();
        const out = await r.run();
        const after = await exec.stats();
        counted = true;
        console.error(
          `kiln webgpu ${c.suite} ${c.name}: ${kernels} kernels; one call made ${after.dispatches - before.dispatches} dispatches and ${after.submits - before.submits} submits`,
        );
        return out;
      },
      dispose: () => beforeClose(exec.destroy()),
    };
  }
  const exec = await load(program, threads);
  return { ...(await runnerOn(c, exec)), dispose: () => exec.close() };
}

/** The case's weights written into `exec`, and one call (inference or training step) returning its output. */
async function runnerOn(c: ModelCase, exec: Exec): Promise<Runner> {
  const train = c.kind === 'train';
  for (const [i, l] of c.spec.layers.entries())
    for (const [j, p] of PARAMS[l.kind].entries())
      await exec.writeParam(`${layerName(i)}/${p}`, c.weights[i]![j]!.data);
  type Out = Record<string, { data: ArrayLike<number> }>;
  const [entry, out, feeds] = train
    ? ['train_step', 'loss', { x: c.x.data, y: c.labels!.data }]
    : ['infer', 'y', { x: c.x.data }];
  return { run: async () => ((await exec.run(entry, feeds, [out])) as Out)[out]!.data };
}

/** kiln on `threads` threads: one thread runs the plain module, more the threaded one on a worker pool. */
export function kilnOn(threads: number): Impl {
  return {
    name: 'kiln',
    threads,
    async load() {},
    async prepare(c: Case): Promise<Prepared> {
      return inProcess(await (c.kind === 'matmul' ? matmulRunner(c, threads) : modelRunner(c, threads)));
    },
    threaded: kilnOn,
  };
}

export const kiln: Impl = kilnOn(1);

/** kiln on WebGPU (`--target webgpu`): the same program rendered to WGSL, run by the WebGPU
 *  executor on the bench page's host (webgpu.ts: headless Chromium, next to tfjs-webgpu); a call is
 *  one submit, its output read back. */
export const kilnWebGpu: Impl = {
  name: 'kiln',
  threads: 1,
  async load() {},
  async prepare(c: Case): Promise<Prepared> {
    if (c.kind === 'matmul') throw new Error('kiln on WebGPU: bench/webgpu-matmul.ts measures matmul');
    return inProcess(await modelRunner(c, 1, await benchGpu()));
  },
  close: closeBenchPage,
};
