// The seed models' gradients and optimizer steps against PyTorch fixtures (test/fixtures/train-*.json,
// made by scripts/export-initial-weights.ts + scripts/make-train-fixtures.py): from kiln's initial
// params and the fixture batch, the loss and the gradient of every trainable param, and every
// trainable param after three steps of each of the seven optimizers, within 1e-4 relative
// (test/grad/train-fixtures.ts says how). kiln runs in the interpreter's float64 mode, PyTorch in
// float64, so the comparison measures the maths, not f32 rounding.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { interpret } from '../../ir/interpret.ts';
import { initParams } from '../../ir/init.ts';
import type { Tensor } from '../../ir/types.ts';
import { gradientsGraph, trainStep } from '../../compiler/passes/train-step.ts';
import { SEED_MODELS } from './seed-model-list.ts';
import {
  FIXTURE_OPTIMIZERS,
  FIXTURE_STEPS,
  RTOL,
  expectMatches,
  expectSameInit,
  fixtureBatch,
  type TrainFixture,
} from './train-fixtures.ts';

const load = (name: string): TrainFixture =>
  JSON.parse(readFileSync(new URL(`../fixtures/train-${name}.json`, import.meta.url), 'utf8')) as TrainFixture;

for (const seed of SEED_MODELS) {
  describe(`${seed.name} against PyTorch`, () => {
    const fixture = load(seed.name);

    it('loss and the gradient of every trainable param at the initial weights', async () => {
      const g = gradientsGraph(await seed.load(), { batch: seed.batch });
      const params = initParams(g);
      expectSameInit(seed.name, params, fixture.init);
      const out = interpret(g, fixtureBatch(g, seed.fills), params, { float64: true }).outputs;
      expect(Math.abs(out.loss!.data[0]! - fixture.loss)).toBeLessThanOrEqual(RTOL * Math.abs(fixture.loss));
      const names = g.outputs.filter((o) => o.name.startsWith('grad/')).map((o) => o.name.slice(5));
      expect(names.sort()).toEqual(Object.keys(fixture.grads).sort());
      for (const n of names) expectMatches(`grad ${n}`, out[`grad/${n}`]!.data, fixture.grads[n]!);
    });

    for (const [name, o] of Object.entries(FIXTURE_OPTIMIZERS)) {
      it(`params after ${FIXTURE_STEPS} ${name} steps`, async () => {
        const g = trainStep(await seed.load(), { batch: seed.batch, optimizer: o.kiln });
        const batch = fixtureBatch(g, seed.fills);
        let state: Record<string, Tensor> = initParams(g);
        for (let i = 0; i < FIXTURE_STEPS; i++)
          state = { ...state, ...interpret(g, batch, state, { float64: true }).assigns };
        const want = fixture.steps[name]!;
        for (const [p, summary] of Object.entries(want)) expectMatches(`${name} ${p}`, state[p]!.data, summary);
      });
    }
  });
}
