// Sessions by target: the compiled WebAssembly program, the compiled WGSL on WebGPU, or the
// reference interpreter. A session
// holds three entries sharing one set of params: `train_step`, `infer` and `evaluate`.
import { fail } from '../../ir/errors.ts';
import type { Graph } from '../../ir/graph.ts';
import { inferGraph, type Model } from '../dsl/model.ts';
import type { OptimizerSpec } from '../dsl/optimizers.ts';
import { evalGraph, trainStep } from '../passes/train-step.ts';
import { interpSession } from './interp-session.ts';
import type { Session } from './loop.ts';

export const TARGETS = ['wasm', 'webgpu', 'interp'] as const;
export type Target = (typeof TARGETS)[number];

export interface SessionOptions {
  readonly target: Target;
  /** Overrides the model's batch size. */
  readonly batch?: number;
  /** Overrides the model's optimizer (a learning rate or schedule from the command line). */
  readonly optimizer?: OptimizerSpec;
  /** Params (by name) the training step leaves alone, on top of the model's frozen layers. */
  readonly freeze?: (paramName: string) => boolean;
}

/** The graphs of a session's entry points. */
export interface SessionGraphs {
  readonly train: Graph;
  readonly infer: Graph;
  readonly evaluate: Graph;
}

export function sessionGraphs(model: Model, opts: Omit<SessionOptions, 'target'> = {}): SessionGraphs {
  const batch = opts.batch ?? model.def.batch;
  if (!model.def.train)
    fail('K8001', `train: model '${model.name}' has no training setup; give defineModel a train: { loss, optimizer }`);
  return {
    train: trainStep(model, { batch, optimizer: opts.optimizer, freeze: opts.freeze }),
    infer: inferGraph(model, batch),
    evaluate: evalGraph(model, batch),
  };
}

export async function createSession(model: Model, opts: SessionOptions): Promise<Session> {
  return sessionOf(sessionGraphs(model, opts), opts.target);
}

/** A session running the given entry graphs on `target` (wasm: on `threads` threads). */
export async function sessionOf(graphs: SessionGraphs, target: Target, threads = 1): Promise<Session> {
  const batch = graphs.train.inputs[0]?.type.shape[0] ?? 1;
  switch (target) {
    case 'interp':
      return interpSession(graphs, batch);
    case 'wasm':
    case 'webgpu': {
      const { compiledSession } = await import('./compiled-session.ts');
      return compiledSession(graphs, batch, target, threads);
    }
  }
}
