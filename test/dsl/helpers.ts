// Helpers for DSL tests: build a model's graph and run it on the interpreter.
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { Graph } from '../../ir/graph.ts';
import { initParams } from '../../ir/init.ts';
import { interpret } from '../../ir/interpret.ts';
import { tensor, type DType, type Shape, type Tensor as Data } from '../../ir/types.ts';
import {
  defineModel,
  finishTraced,
  inferGraph,
  trace,
  type Forward,
  type Model,
  type TensorSpec,
} from '../../compiler/index.ts';

export const f32 = (shape: Shape, values: ArrayLike<number>): Data => tensor('f32', shape, values);
export const i32 = (shape: Shape, values: ArrayLike<number>): Data => tensor('i32', shape, values);

/** A one-input model around `forward`, batch taken from the first axis of `shape`. */
export function model1(shape: Shape, forward: Forward, dtype: DType = 'f32', name = 'm'): Model {
  const inputs: Record<string, TensorSpec> = { x: { dtype, shape: shape.slice(1) } };
  return defineModel({ name, batch: shape[0]!, inputs, forward });
}

/** Runs a graph with the initial params, overridden by `params`. */
export function run(g: Graph, inputs: Record<string, Data>, params: Record<string, Data> = {}) {
  return interpret(g, inputs, { ...initParams(g), ...params });
}

/** The model's 'y' in inference. */
export function infer(m: Model, x: Data, params: Record<string, Data> = {}): Data {
  return run(inferGraph(m), { x }, params).outputs.y!;
}

/** The model's outputs and state updates in training mode (no loss needed). */
export function trainForward(m: Model, x: Data, params: Record<string, Data> = {}) {
  const t = trace(
    {
      ...m,
      def: {
        ...m.def,
        train: m.def.train ?? { loss: (o) => Object.values(o)[0]!.sum(), optimizer: { kind: 'sgd' } as never },
      },
    },
    { mode: 'train' },
  );
  return run(finishTraced(t), { x }, params);
}

export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-5): void {
  expect(got.length).toBe(want.length);
  const bad: string[] = [];
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!,
      w = want[i]!;
    if (!(Math.abs(g - w) <= tol * (1 + Math.abs(w)))) bad.push(`[${i}] got ${g}, want ${w}`);
  }
  expect(bad.slice(0, 5)).toEqual([]);
}

export interface FixtureTensor {
  readonly shape: number[];
  readonly data: number[];
}

/** test/fixtures/layers-<group>.json (made by scripts/make-layer-fixtures.py with PyTorch). */
export function fixture(group: string): Record<string, Record<string, FixtureTensor & Record<string, unknown>>> {
  return JSON.parse(readFileSync(new URL(`../fixtures/layers-${group}.json`, import.meta.url), 'utf8'));
}

export const fx = (t: FixtureTensor, dtype: DType = 'f32'): Data => tensor(dtype, t.shape, t.data);
