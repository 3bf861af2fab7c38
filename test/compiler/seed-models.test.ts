// Issue 5's differential test: for every seed model of examples/, `infer` and `train_step` compiled
// by compileProgram and run on the Kernel IR interpreter give the graph interpreter's outputs and
// assigned params (same initial params from initParams, same seeded batch), each element within
// the case's tolerance |got - want| <= tol * (1 + |want|), and each assigned param's update within
// UPDATE_TOL of the interpreter's (test/compiler/seed-cases.ts).
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KilnError } from '../../ir/errors.ts';
import { loadModels } from '../../compiler/dsl/model.ts';
import type { Graph } from '../../ir/graph.ts';
import { interpret } from '../../ir/interpret.ts';
import { interpretProgram } from '../../ir/interpret-kernels.ts';
import type { Program } from '../../ir/kernel.ts';
import type { Tensor } from '../../ir/types.ts';
import { compileProgram } from '../../compiler/pipeline.ts';
import { expectClose } from '../targets/wasm-helpers.ts';
import { expectUpdate, SEED_CASES, seedBatch, seedEntries, seedModel, seedParams } from './seed-cases.ts';

it('the cases cover every model exported by examples/*.ts', async () => {
  const dir = new URL('../../examples/', import.meta.url).pathname;
  const exported: string[] = [];
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .sort()) {
    try {
      exported.push(...Object.keys(await loadModels(dir + file)).map((m) => `${file}:${m}`));
    } catch (e) {
      if (!(e instanceof KilnError && e.code === 'K8001')) throw e; // a helper file without models
    }
  }
  expect(exported.length).toBeGreaterThanOrEqual(7);
  expect(SEED_CASES.map((c) => `${c.file}:${c.model}`).sort()).toEqual(exported.sort());
});

const loaded = await Promise.all(SEED_CASES.map(async (c) => ({ c, entries: seedEntries(await seedModel(c), c) })));

for (const { c, entries } of loaded) {
  describe(`${c.model} (examples/${c.file}, batch ${c.batch})`, () => {
    let compiled: { program: Program; params: Record<string, Tensor> } | undefined;
    const setup = () => (compiled ??= { program: compileProgram(entries), params: seedParams(entries) });

    for (const e of entries) {
      it(`${e.name} on the kernel interpreter matches the graph interpreter (tolerance ${c.tol})`, () => {
        const { program, params } = setup();
        const g: Graph = e.graph;
        const inputs = seedBatch(g, c, 7);
        const want = interpret(g, inputs, params);
        const got = interpretProgram(program, e.name, inputs, params);
        for (const o of g.outputs)
          expectClose(got.outputs[o.name]!, want.outputs[o.name]!, `${e.name} output ${o.name}`, c.tol);
        for (const p of program.params) {
          expectClose(got.params[p.name]!, want.assigns[p.name] ?? params[p.name]!, `${e.name} param ${p.name}`, c.tol);
        }
        for (const a of g.assigns)
          expectUpdate(
            got.params[a.param.name]!.data,
            want.assigns[a.param.name]!.data,
            params[a.param.name]!.data,
            `${e.name} update of ${a.param.name}`,
          );
        if (e.name === 'train_step') expect(g.assigns.length).toBeGreaterThan(0);
      }, 120_000);
    }
  });
}
