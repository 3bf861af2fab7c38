// The Kernel IR interpreter computes kernels from their IR alone: the MNIST CNN's and the text LSTM's
// training steps run on it with every op's registry `eval` spied on (none is called), and match the
// graph interpreter.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { interpret } from '../../ir/interpret.ts';
import { interpretProgram } from '../../ir/interpret-kernels.ts';
import { OPS, type OpDef } from '../../ir/ops/index.ts';
import { compileProgram } from '../../compiler/pipeline.ts';
import { expectClose } from '../targets/wasm-helpers.ts';
import { SEED_CASES, seedBatch, seedEntries, seedModel, seedParams } from './seed-cases.ts';

/** Runs `fn` with every registry eval spied on; returns the ops whose eval it called. */
function evalsCalledBy(fn: () => void): string[] {
  const spies = Object.entries(OPS as Record<string, OpDef>).map(([op, def]) => [op, vi.spyOn(def, 'eval')] as const);
  try {
    fn();
    return spies.filter(([, s]) => s.mock.calls.length > 0).map(([op]) => op);
  } finally {
    spies.forEach(([, s]) => s.mockRestore());
  }
}

afterEach(() => vi.restoreAllMocks());

describe('the Kernel IR interpreter never calls a registry eval', () => {
  for (const model of ['mnist_cnn', 'text_lstm']) {
    it(`${model}: train_step from its Kernel IR matches the graph interpreter`, async () => {
      const c = SEED_CASES.find((s) => s.model === model)!;
      const entries = seedEntries(await seedModel(c), c);
      const e = entries.find((x) => x.name === 'train_step')!;
      const params = seedParams(entries);
      const inputs = seedBatch(e.graph, c, 3);
      const program = compileProgram(entries);
      // the spy sees calls: the graph interpreter makes them
      let want: ReturnType<typeof interpret> | undefined;
      expect(
        evalsCalledBy(() => {
          want = interpret(e.graph, inputs, params);
        }),
      ).toContain('sum');
      let got: ReturnType<typeof interpretProgram> | undefined;
      const called = evalsCalledBy(() => {
        got = interpretProgram(program, 'train_step', inputs, params);
      });
      expect(called).toEqual([]);
      for (const o of e.graph.outputs)
        expectClose(got!.outputs[o.name]!, want!.outputs[o.name]!, `output ${o.name}`, c.tol);
      for (const a of e.graph.assigns)
        expectClose(got!.params[a.param.name]!, want!.assigns[a.param.name]!, `param ${a.param.name}`, c.tol);
    }, 120_000);
  }
});
