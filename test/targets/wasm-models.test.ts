// Issue 6's differential test: every seed model of examples/ compiled to WebAssembly (renderWasm +
// loadWasm) gives the graph interpreter's results: several training steps in a row on one
// instance (params and optimizer slots updated in place in the arena), each with a new seeded
// batch, then `infer` on the trained params. Same initial params (initParams) on both sides; each
// element within |got - want| <= tol * (1 + |want|), tol = WASM_TOL x the case's tolerance (the
// polynomial exp/log/tanh of the wasm target differ from Math in the last bits).
import { describe, it } from 'vitest';
import { interpret } from '../../ir/interpret.ts';
import type { Tensor } from '../../ir/types.ts';
import { compileProgram } from '../../compiler/pipeline.ts';
import { renderWasm } from '../../targets/wasm/index.ts';
import { loadWasm, type RuntimeTensor } from '../../runtime/index.ts';
import { SEED_CASES, seedBatch, seedEntries, seedModel, seedParams } from '../compiler/seed-cases.ts';
import { expectClose, runtimeTensor } from './wasm-helpers.ts';

const WASM_TOL = 10;

const loaded = await Promise.all(SEED_CASES.map(async (c) => ({ c, entries: seedEntries(await seedModel(c), c) })));

for (const { c, entries } of loaded) {
  const train = entries.find((e) => e.name === 'train_step');
  const infer = entries.find((e) => e.name === 'infer')!;
  const tol = WASM_TOL * c.tol;
  const steps = train ? c.steps : 0;
  describe(`${c.model} (examples/${c.file}, batch ${c.batch}) on WebAssembly`, () => {
    it(`${steps ? `${steps} training steps then ` : ''}infer match the graph interpreter (tolerance ${tol})`, async () => {
      const program = compileProgram(entries);
      const exe = await loadWasm((await renderWasm(program, { relaxed: false })).binary, program);
      let params: Record<string, Tensor> = seedParams(entries);
      for (const p of program.params) exe.writeParam(p.name, runtimeTensor(params[p.name]!));
      const check = (entry: string, got: Record<string, RuntimeTensor>, want: Record<string, Tensor>): void => {
        for (const [name, t] of Object.entries(want)) expectClose(got[name]!, t, `${entry} output ${name}`, tol);
        for (const p of program.params) expectClose(exe.readParam(p.name), params[p.name]!, `${entry} param ${p.name}`, tol);
      };
      for (let step = 1; step <= steps; step++) {
        const inputs = seedBatch(train!.graph, c, step);
        const want = interpret(train!.graph, inputs, params);
        params = { ...params, ...want.assigns };
        check(`step ${step}`, exe.run('train_step', inputs as Record<string, RuntimeTensor>), want.outputs);
      }
      const inputs = seedBatch(infer.graph, c, 100);
      check('infer', exe.run('infer', inputs as Record<string, RuntimeTensor>), interpret(infer.graph, inputs, params).outputs);
    }, 180_000);
  });
}
