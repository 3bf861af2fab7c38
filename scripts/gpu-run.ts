// The WGSL target on this machine's GPU through Dawn in Node (the `webgpu` package): prints the
// adapter, runs the XOR and MNIST CNN programs (infer, then train_step from the same params) on
// WebGPU and checks every output and updated param against the graph interpreter, then times
// kiln's WGSL matmul at 1024, 2048 and 4096.
//   node --import tsx scripts/gpu-run.ts [--sizes 1024,2048,4096]
// scripts/gpu-bundle.sh packs it, with node and the `webgpu` package, for a machine without npm.
import { compileModel, compileProgram, modelEntries } from '../compiler/pipeline.ts';
import type { Model } from '../compiler/dsl/model.ts';
import { loadOnWebGpu } from '../compiler/webgpu.ts';
import { GraphBuilder } from '../ir/builder.ts';
import { initParams } from '../ir/init.ts';
import { interpret } from '../ir/interpret.ts';
import type { Tensor, TensorType } from '../ir/types.ts';
import mnistCnn from '../examples/mnist-cnn.ts';
import xor from '../examples/xor.ts';

const args = process.argv.slice(2);
const sizesArg = args.includes('--sizes') ? args[args.indexOf('--sizes') + 1]! : '1024,2048,4096';

/** A seeded uniform generator (xorshift32), so every run feeds the same data. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

function feed(t: TensorType, next: () => number, range?: readonly [number, number]): Tensor {
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (t.dtype === 'f32') return { type: t, data: Float32Array.from({ length: n }, () => next() * 2 - 1) } as Tensor;
  const [lo, hi] = range ?? [0, 2];
  return { type: t, data: Int32Array.from({ length: n }, () => lo + Math.floor(next() * (hi - lo))) } as Tensor;
}

/** max |got - want| / (1 + |want|) over all elements. */
function relErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < want.length; i++)
    worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / (1 + Math.abs(want[i]!)));
  return worst;
}

let failures = 0;
async function checkModel(name: string, model: Model, tol: number): Promise<void> {
  const program = compileModel(model, { train: true });
  const entries = modelEntries(model, { train: true });
  const exe = await loadOnWebGpu(program);
  const specs = { ...model.def.inputs, ...(model.def.targets ?? {}) } as Record<
    string,
    { range?: readonly [number, number] }
  >;
  const next = rng(7);
  let params: Record<string, Tensor> = initParams(entries[0]!.graph);
  for (const e of entries) for (const [k, v] of Object.entries(initParams(e.graph))) params[k] ??= v;
  for (const p of program.params) await exe.writeParam(p.name, params[p.name]!.data as Float32Array | Int32Array);
  for (const e of entries) {
    const inputs = Object.fromEntries(e.graph.inputs.map((i) => [i.name, feed(i.type, next, specs[i.name]?.range)]));
    const want = interpret(e.graph, inputs, params);
    const t0 = performance.now();
    const got = await exe.run(
      e.name,
      Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, v.data as Float32Array | Int32Array])),
    );
    const ms = performance.now() - t0;
    params = { ...params, ...want.assigns };
    let worst = 0;
    for (const o of e.graph.outputs) worst = Math.max(worst, relErr(got[o.name]!.data, want.outputs[o.name]!.data));
    for (const a of e.graph.assigns)
      worst = Math.max(worst, relErr((await exe.readParam(a.param.name)).data, params[a.param.name]!.data));
    const ok = worst <= tol;
    if (!ok) failures++;
    console.log(
      JSON.stringify({
        check: `${name} ${e.name}`,
        kernels: program.entries.find((x) => x.name === e.name)!.kernels.length,
        maxRelErr: worst,
        tol,
        ok,
        firstCallMs: +ms.toFixed(1),
      }),
    );
  }
  await exe.destroy();
}

async function matmul(n: number): Promise<void> {
  const b = new GraphBuilder(`matmul${n}`);
  const x = b.param('a', 'f32', [n, n], { name: 'zeros', attrs: {} });
  const w = b.param('b', 'f32', [n, n], { name: 'zeros', attrs: {} });
  b.output('y', b.op('matmul', [x, w]));
  const program = compileProgram([{ name: 'main', graph: b.finish() }]);
  const exe = await loadOnWebGpu(program);
  const fill = (seed: number): Float32Array =>
    Float32Array.from({ length: n * n }, (_, i) => ((i * 7919 + seed) % 1000) / 1000 - 0.5);
  await exe.writeParam('a', fill(1));
  await exe.writeParam('b', fill(2));
  await exe.run('main', {}, ['y']);
  let calls = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 1500 || calls < 3) {
    await exe.run('main', {}, []);
    calls++;
  }
  await exe.run('main', {}, ['y']);
  calls++;
  const secs = (performance.now() - t0) / 1000;
  console.log(
    JSON.stringify({
      case: `matmul ${n}`,
      gflops: +((2 * n ** 3 * calls) / secs / 1e9).toFixed(1),
      msPerCall: +((1000 * secs) / calls).toFixed(3),
    }),
  );
  await exe.destroy();
}

const probe = await loadOnWebGpu(
  compileProgram([
    {
      name: 'main',
      graph: (() => {
        const b = new GraphBuilder('probe');
        b.output('y', b.op('neg', [b.input('x', 'f32', [4])]));
        return b.finish();
      })(),
    },
  ]),
);
console.log(JSON.stringify({ adapter: probe.about }));
await probe.destroy();
await checkModel('xor', xor, 1e-4);
await checkModel('mnist-cnn', mnistCnn, 1e-3);
for (const n of sizesArg.split(',').map(Number)) await matmul(n);
console.log(JSON.stringify({ failures }));
process.exit(failures ? 1 : 0);
