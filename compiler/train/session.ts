// Sessions by target: the compiled WebAssembly program, or the reference interpreter.
import { inferGraph, type Model } from '../dsl/model.ts';
import { trainStep } from '../passes/train-step.ts';
import { interpSession } from './interp-session.ts';
import type { Session } from './loop.ts';
import { fail } from '../../ir/errors.ts';

export const TARGETS = ['wasm', 'interp'] as const;
export type Target = (typeof TARGETS)[number];

export async function createSession(model: Model, opts: { target: Target; batch?: number }): Promise<Session> {
  const batch = opts.batch ?? model.def.batch;
  if (!model.def.train) fail('K8001', `train: model '${model.name}' has no training setup; give defineModel a train: { loss, optimizer }`);
  const tg = trainStep(model, { batch });
  const ig = inferGraph(model, batch);
  switch (opts.target) {
    case 'interp':
      return interpSession(tg, ig, batch);
    case 'wasm': {
      const { wasmSession } = await import('./wasm-session.ts');
      return wasmSession(tg, ig, batch);
    }
  }
}
