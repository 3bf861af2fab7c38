// The training step graph: its interface (batch in, loss out, params/slots/counter/state assigned),
// agreement between its update and the gradients entry point, regularization, and XOR training on
// the interpreter.
import { describe, expect, it } from 'vitest';
import { interpret } from '../../ir/interpret.ts';
import { initParams } from '../../ir/init.ts';
import { formatType, tensor, type Tensor } from '../../ir/types.ts';
import { defineModel, inferGraph, losses, nn, optimizers, type Model } from '../../compiler/dsl/index.ts';
import type { OptimizerSpec } from '../../compiler/dsl/optimizers.ts';
import type { Regularization } from '../../compiler/dsl/regularizers-clip.ts';
import { ITERATIONS, gradientsGraph, lossGraph, trainStep } from '../../compiler/passes/train-step.ts';
import xor from '../../examples/xor.ts';

const XS = [0, 0, 0, 1, 1, 0, 1, 1];
const YS = [0, 1, 1, 0];
const batch = (): Record<string, Tensor> => ({ x: tensor('f32', [4, 2], XS), y: tensor('f32', [4, 1], YS) });

function mlp(optimizer: OptimizerSpec, extra: { regularization?: Regularization; dropout?: boolean } = {}): Model {
  const h = nn.dense(8, { name: 'hidden', activation: 'tanh' });
  const drop = nn.dropout(0.5, { name: 'drop' });
  const out = nn.dense(1, { name: 'out', activation: 'sigmoid' });
  return defineModel({
    name: 'xor_mlp',
    batch: 4,
    inputs: { x: { dtype: 'f32', shape: [2] } },
    targets: { y: { dtype: 'f32', shape: [1] } },
    forward: ({ x }, { training }) => out(extra.dropout && training ? drop(h(x!)) : h(x!)),
    train: { loss: losses.meanSquaredError(), optimizer, metrics: ['accuracy'], regularization: extra.regularization },
  });
}

describe('trainStep', () => {
  it('takes a batch, returns loss and metrics, writes back params, slots, the counter and state', () => {
    const g = trainStep(mlp(optimizers.adam({ amsgrad: true })));
    expect(g.name).toBe('xor_mlp_train_step');
    expect(g.inputs.map((i) => `${i.name}: ${formatType(i.type)}`)).toEqual(['x: f32[4,2]', 'y: f32[4,1]']);
    expect(g.outputs.map((o) => o.name)).toEqual(['loss', 'accuracy']);
    const assigned = g.assigns.map((a) => a.param.name).sort();
    for (const p of ['hidden/kernel', 'hidden/bias', 'out/kernel', 'out/bias']) {
      for (const s of ['', '/adam_m', '/adam_v', '/adam_vhat']) expect(assigned).toContain(p + s);
    }
    expect(assigned).toContain(ITERATIONS);
    expect(g.params.find((p) => p.name === ITERATIONS)!.type).toEqual({ dtype: 'i32', shape: [] });
    // the inference entry point shares the model's params by name
    const inferNames = inferGraph(mlp(optimizers.sgd())).params.map((p) => p.name);
    for (const n of inferNames) expect(g.params.map((p) => p.name)).toContain(n);
  });

  it('one SGD step moves each param by -lr * its gradient; the counter counts steps', () => {
    const model = mlp(optimizers.sgd({ learningRate: 0.5 }));
    const step = trainStep(model);
    const grads = gradientsGraph(model);
    const params = initParams(step);
    const r = interpret(step, batch(), params);
    const gr = interpret(grads, batch(), params).outputs;
    expect(r.outputs.loss!.data[0]).toBeCloseTo(gr.loss!.data[0]!, 6);
    for (const p of ['hidden/kernel', 'out/bias']) {
      const want = Array.from(params[p]!.data, (v, i) => v - 0.5 * gr[`grad/${p}`]!.data[i]!);
      Array.from(r.assigns[p]!.data).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 6));
      expect(gr[`grad/${p}`]!.data.some((v) => Math.abs(v) > 1e-4)).toBe(true);
    }
    expect(r.assigns[ITERATIONS]!.data[0]).toBe(1);
  });

  it('global L2 regularization adds l2 * sum(w^2) over the trainable params to the loss', () => {
    const plain = lossGraph(mlp(optimizers.sgd()));
    const reg = lossGraph(mlp(optimizers.sgd(), { regularization: { l2: 0.01 } }));
    const params = initParams(plain);
    const sq = Object.values(params).reduce((s, t) => s + Array.from(t.data).reduce((a, v) => a + v * v, 0), 0);
    const base = interpret(plain, batch(), params).outputs.loss!.data[0]!;
    expect(interpret(reg, batch(), params).outputs.loss!.data[0]).toBeCloseTo(base + 0.01 * sq, 5);
  });

  it('state updates of the model (the dropout counter) are assigned by the step', () => {
    const g = trainStep(mlp(optimizers.sgd(), { dropout: true }));
    const state = g.assigns.filter(
      (a) => !a.param.name.startsWith('hidden/') && !a.param.name.startsWith('out/') && a.param.name !== ITERATIONS,
    );
    expect(state.length).toBeGreaterThan(0);
    const params = initParams(g);
    const r = interpret(g, batch(), params);
    for (const a of state)
      expect(Array.from(r.assigns[a.param.name]!.data)).not.toEqual(Array.from(params[a.param.name]!.data));
  });
});

describe('XOR trains on the interpreter', () => {
  const train = (model: Model, steps: number): Tensor => {
    const step = trainStep(model);
    let state = initParams(step);
    for (let i = 0; i < steps; i++) state = { ...state, ...interpret(step, batch(), state).assigns };
    return interpret(inferGraph(model), { x: batch().x! }, state).outputs.y!;
  };
  it('examples/xor.ts (2-4-1 sigmoid, SGD 0.5, MSE): outputs within 0.1 of the targets after 4000 steps', () => {
    const y = train(xor, 4000);
    Array.from(y.data).forEach((v, i) =>
      expect(Math.abs(v - YS[i]!), `xor(${XS[2 * i]}, ${XS[2 * i + 1]}) = ${v}`).toBeLessThan(0.1),
    );
  });
  it('a tanh MLP with Adam: within 0.1 after 400 steps', () => {
    const y = train(mlp(optimizers.adam({ learningRate: 0.05 })), 400);
    Array.from(y.data).forEach((v, i) =>
      expect(Math.abs(v - YS[i]!), `xor(${XS[2 * i]}, ${XS[2 * i + 1]}) = ${v}`).toBeLessThan(0.1),
    );
  });
});
