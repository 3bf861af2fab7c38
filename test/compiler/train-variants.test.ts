// Every optimizer, with and without L1/L2 penalties and gradient clipping, on three small bodies
// (dense + dropout, conv + BatchNorm + pooling + transposed conv, simple RNN + GRU): the training
// step and infer compiled by compileProgram and run on the Kernel IR interpreter give the graph
// interpreter's outputs and params within 1e-5 * (1 + |want|), and each update within UPDATE_TOL.
import { describe, it } from 'vitest';
import { initParams } from '../../ir/init.ts';
import { interpret } from '../../ir/interpret.ts';
import { interpretProgram } from '../../ir/interpret-kernels.ts';
import { compileProgram, modelEntries } from '../../compiler/pipeline.ts';
import { expectClose } from '../targets/wasm-helpers.ts';
import { expectUpdate } from './seed-cases.ts';
import { BODIES, EXTRAS, OPTIMIZERS, variantBatch, variantModel } from './train-variants.ts';

const TOL = 1e-5;

for (const body of Object.keys(BODIES)) {
  for (const optimizer of Object.keys(OPTIMIZERS)) {
    describe(`${body}; ${optimizer}`, () => {
      for (const extra of Object.keys(EXTRAS)) {
        it(`${extra}: infer and train_step on the kernel interpreter match the graph interpreter`, () => {
          const entries = modelEntries(variantModel(body, optimizer, extra), { train: true });
          const program = compileProgram(entries);
          const params = initParams({ params: entries.flatMap((e) => e.graph.params) });
          for (const { name, graph } of entries) {
            const inputs = variantBatch(graph, 5);
            const want = interpret(graph, inputs, params);
            const got = interpretProgram(program, name, inputs, params);
            for (const o of graph.outputs)
              expectClose(got.outputs[o.name]!, want.outputs[o.name]!, `${name} output ${o.name}`, TOL);
            for (const p of program.params)
              expectClose(got.params[p.name]!, want.assigns[p.name] ?? params[p.name]!, `${name} param ${p.name}`, TOL);
            for (const a of graph.assigns)
              expectUpdate(
                got.params[a.param.name]!.data,
                want.assigns[a.param.name]!.data,
                params[a.param.name]!.data,
                `${name} update of ${a.param.name}`,
              );
          }
        });
      }
    });
  }
}
