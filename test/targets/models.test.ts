// The seed-model differential test, on every target of TARGETS: every seed model of examples/
// compiled, rendered and loaded gives the graph interpreter's results: several training steps in a row on one
// instance (params and optimizer slots updated in place in the arena), each with a new seeded
// batch, then `infer` on the trained params. Same initial params (initParams) on both sides; each
// element within the case's tolerance |got - want| <= tol * (1 + |want|) (the polynomial
// exp/log/tanh of the wasm target differ from Math in the last bits: about 1e-6 after three steps
// of the MNIST CNN), and each step's update of each assigned param within UPDATE_TOL of the
// interpreter's (test/compiler/seed-cases.ts). Then every optimizer, penalty and clipping on small
// bodies (test/compiler/train-variants.ts), and two Kernel IR behaviours the steps rely on.
// On WGSL each seed model runs as read back from its artifact's webgpu target (kernels.wgsl and the
// manifest's webgpu section, checked as loadModel checks them): compile -> load -> run for WebGPU
// (on wasm, test/artifact/roundtrip.test.ts).
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../ir/builder.ts';
import type { Graph } from '../../ir/graph.ts';
import { initParams } from '../../ir/init.ts';
import { interpret } from '../../ir/interpret.ts';
import type { Tensor } from '../../ir/types.ts';
import { compileProgram, modelEntries } from '../../compiler/pipeline.ts';
import { renderWasm } from '../../targets/wasm/index.ts';
import { loadWasm, type RuntimeTensor } from '../../runtime/index.ts';
import { expectUpdate, SEED_CASES, seedBatch, seedEntries, seedModel, seedParams } from '../compiler/seed-cases.ts';
import { BODIES, EXTRAS, OPTIMIZERS, variantBatch, variantModel } from '../compiler/train-variants.ts';
import { type Executable, type TargetUnderTest, wgslArtifactUnderTest } from './targets.ts';
import { TARGETS } from './list.ts';
import type { Program } from '../../ir/kernel.ts';
import { checkWasm, expectClose, runtimeTensor } from './wasm-helpers.ts';
import { toManifest } from '../../compiler/artifact/manifest.ts';

type Entry = { name: string; graph: Graph };

/** `steps` training steps (batch seeds 1..steps) then infer (seed 100) on one wasm instance,
 *  each call checked against the graph interpreter run from the same params. */
async function checkSteps(
  t: TargetUnderTest,
  entries: readonly Entry[],
  params0: Record<string, Tensor>,
  steps: number,
  batch: (g: Graph, seed: number) => Record<string, Tensor>,
  tol: number,
): Promise<void> {
  const program = compileProgram(entries, { limits: t.target.limits });
  const exe = await t.load(program);
  try {
    await runSteps(t, program, exe, entries, params0, steps, batch, tol);
  } finally {
    await exe.destroy?.();
  }
}

async function runSteps(
  t: TargetUnderTest,
  program: Program,
  exe: Executable,
  entries: readonly Entry[],
  params0: Record<string, Tensor>,
  steps: number,
  batch: (g: Graph, seed: number) => Record<string, Tensor>,
  tol: number,
): Promise<void> {
  let params = params0;
  for (const p of program.params) await exe.writeParam(p.name, runtimeTensor(params[p.name]!));
  const run = async (e: Entry, seed: number): Promise<void> => {
    const inputs = batch(e.graph, seed);
    const want = interpret(e.graph, inputs, params);
    const before = params;
    params = { ...params, ...want.assigns };
    const got = await exe.run(e.name, inputs as Record<string, RuntimeTensor>);
    const what = `${t.target.name} ${e.name} (batch seed ${seed})`;
    for (const o of e.graph.outputs) expectClose(got[o.name]!, want.outputs[o.name]!, `${what} output ${o.name}`, tol);
    for (const p of program.params)
      expectClose(await exe.readParam(p.name), params[p.name]!, `${what} param ${p.name}`, tol);
    for (const a of e.graph.assigns)
      expectUpdate(
        (await exe.readParam(a.param.name)).data,
        params[a.param.name]!.data,
        before[a.param.name]!.data,
        `${what} update of ${a.param.name}`,
      );
  };
  const train = entries.find((e) => e.name === 'train_step');
  for (let step = 1; train && step <= steps; step++) await run(train, step);
  await run(entries.find((e) => e.name === 'infer')!, 100);
}

const loaded = await Promise.all(SEED_CASES.map(async (c) => ({ c, entries: seedEntries(await seedModel(c), c) })));

/** The seed models' loader: on WGSL, through the artifact format. */
const viaArtifact = (t: TargetUnderTest): TargetUnderTest => (t.target.name === 'wgsl' ? wgslArtifactUnderTest : t);

for (const t of TARGETS) {
  for (const { c, entries } of loaded) {
    const steps = entries.some((e) => e.name === 'train_step') ? c.steps : 0;
    const tol = t.target.name === 'wgsl' ? (c.gpuTol ?? c.tol) : c.tol;
    describe(`${c.model} (examples/${c.file}, batch ${c.batch}) on ${t.target.name}`, () => {
      const via = t.target.name === 'wgsl' ? ' (read back from the artifact)' : '';
      it(`${steps ? `${steps} training step${steps > 1 ? 's' : ''} then ` : ''}infer${via} match the graph interpreter (tolerance ${tol})`, async () => {
        const seedBatchOf = (g: Graph, seed: number) => seedBatch(g, c, seed);
        await checkSteps(viaArtifact(t), entries, seedParams(entries), steps, seedBatchOf, tol);
      }, 300_000); // text_gru on WGSL: 133 s on a loaded 2-core machine
    });
  }

  describe(`training variants on ${t.target.name}: every optimizer on each body, the penalties and clippings with Adam`, () => {
    const combos = [
      ...Object.keys(BODIES).flatMap((body) => Object.keys(OPTIMIZERS).map((opt) => [body, opt, 'plain'] as const)),
      ...Object.keys(BODIES).flatMap((body) =>
        Object.keys(EXTRAS)
          .filter((x) => x !== 'plain')
          .map((extra) => [body, 'adam', extra] as const),
      ),
    ];
    for (const [body, optimizer, extra] of combos) {
      it(`${body}; ${optimizer}; ${extra}: two steps then infer (tolerance 1e-4)`, async () => {
        const entries = modelEntries(variantModel(body, optimizer, extra), { train: true });
        await checkSteps(
          t,
          entries,
          initParams({ params: entries.flatMap((e) => e.graph.params) }),
          2,
          variantBatch,
          1e-4,
        );
      });
    }
  });
}

describe('in-place updates and constant tables on WebAssembly', () => {
  it('a store reads the value an earlier store of the same loop kernel wrote (Adam reads its new slots)', async () => {
    const zeros = { name: 'zeros', attrs: {} };
    const b = new GraphBuilder('slots');
    const g = b.input('g', 'f32', [7]);
    const m = b.param('m', 'f32', [7], zeros);
    const w = b.param('w', 'f32', [7], zeros);
    const m2 = b.op('add', [m, g]);
    b.assign(m, m2);
    b.assign(w, b.op('sub', [w, b.op('mul', [m2, m2])]));
    const p = compileProgram([{ name: 'main', graph: b.finish() }]);
    expect(p.entries[0]!.kernels.length).toBe(1); // p_m[i] = p_m[i] + g[i]; p_w[i] = p_w[i] - p_m[i]^2
    const exe = await loadWasm((await renderWasm(p, { relaxed: false })).binary, toManifest(p));
    exe.run('main', { g: Float32Array.from([1, 2, 3, 4, 5, 6, 7]) });
    exe.run('main', { g: Float32Array.from([1, 1, 1, 1, 1, 1, 1]) });
    expect(Array.from(exe.readParam('m').data)).toEqual([2, 3, 4, 5, 6, 7, 8]);
    expect(Array.from(exe.readParam('w').data)).toEqual([-5, -13, -25, -41, -61, -85, -113]);
  });

  it("a constant table as an output, an operand and a param's new value", async () => {
    const b = new GraphBuilder('table');
    const x = b.input('x', 'f32', [2, 3]);
    const w = b.param('w', 'f32', [2, 3], { name: 'zeros', attrs: {} });
    const c = b.op('constant', [], { value: [1, -2, 3.5, 0, 4, -6], shape: [2, 3], dtype: 'f32' });
    b.output('c', c);
    b.output('y', b.op('add', [c, b.op('mul', [x, w])]));
    b.assign(w, c);
    await checkWasm(b.finish(), { tol: 0 });
  });
});
