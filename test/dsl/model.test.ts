// defineModel and trace: inputs with the batch axis, named outputs, the loss with regularization
// penalties, metrics, trainable params, and the loss's location at defineModel.
import { describe, expect, test } from 'vitest';
import {
  callerLoc,
  defineModel,
  finishTraced,
  inferGraph,
  k,
  KilnError,
  losses,
  nn,
  optimizers,
  regularizers,
  trace,
} from '../../compiler/index.ts';
import { interpret } from '../../ir/interpret.ts';
import { expectClose, f32, i32 } from './helpers.ts';

describe('models', () => {
  const w = f32([2, 2], [1, -2, 3, 4]);
  const here = callerLoc();
  const m = defineModel({
    name: 'reg',
    batch: 2,
    inputs: { x: { dtype: 'f32', shape: [2] } },
    targets: { y: { dtype: 'f32', shape: [2] } },
    forward: nn.dense(2, { name: 'fc', useBias: false, kernelRegularizer: regularizers.l1l2({ l1: 0.5, l2: 0.25 }) }),
    train: { loss: losses.meanSquaredError(), optimizer: optimizers.sgd(), trainable: (p) => p !== 'nothing' },
  });

  test('the loss adds the layer penalties (training only)', () => {
    const t = trace(m, { mode: 'train' });
    expect(Object.keys(t.inputs)).toEqual(['x']);
    expect(t.targets.y!.type.shape).toEqual([2, 2]);
    const r = interpret(
      finishTraced(t),
      { x: f32([2, 2], [1, 0, 0, 1]), y: f32([2, 2], [0, 0, 0, 0]) },
      { 'fc/kernel': w },
    );
    // x = I so the prediction is w: mse = (1+4+9+16)/4 = 7.5; l1 = 0.5*10 = 5; l2 = 0.25*30 = 7.5
    expectClose(r.outputs.loss!.data, [20]);
    expect(t.trainable.map((p) => p.name)).toEqual(['fc/kernel']);
    expect(t.loss!.kind === 'node' && t.loss!.loc?.line).toBe(here!.line + 1);
  });

  test('inference has no loss and no penalty; batch can be overridden', () => {
    const g = inferGraph(m, 3);
    expect(g.inputs.map((i) => i.type.shape)).toEqual([[3, 2]]);
    expect(g.outputs.map((o) => o.name)).toEqual(['y']);
    expect(g.nodes.map((n) => n.op)).toEqual(['matmul']);
  });

  test('several named outputs, a trainable filter, and the accuracy metric', () => {
    const head = nn.dense(3, { name: 'head' });
    const body = nn.dense(4, { name: 'body' });
    const mm = defineModel({
      name: 'two',
      batch: 2,
      inputs: { x: { dtype: 'f32', shape: [2] } },
      targets: { label: { dtype: 'i32', shape: [] } },
      forward: ({ x }) => {
        const h = body(x!);
        return { probs: k.softmax(head(h)), hidden: h };
      },
      train: {
        loss: losses.sparseCategoricalCrossentropy({ output: 'probs' }),
        optimizer: optimizers.adam(),
        trainable: (p) => head.owns(p),
        metrics: ['accuracy'],
      },
    });
    const t = trace(mm, { mode: 'train' });
    expect(Object.keys(t.outputs)).toEqual(['probs', 'hidden']);
    expect(t.trainable.map((p) => p.name)).toEqual(['head/kernel', 'head/bias']);
    const unnamed = { ...mm.def.train!, loss: losses.sparseCategoricalCrossentropy() };
    expect(() => trace({ ...mm, def: { ...mm.def, train: unnamed } }, { mode: 'train' })).toThrow(
      /sparseCategoricalCrossentropy: cannot tell which output to use among \[probs, hidden\]/,
    );
    const single = trace(
      { ...mm, def: { ...mm.def, forward: ({ x }) => k.softmax(head(body(x!))), train: unnamed } },
      { mode: 'train' },
    );
    expect(Object.keys(t.metrics)).toEqual(['accuracy']);
    const params = {
      'body/kernel': f32([2, 4], [1, 0, 0, 0, 0, 1, 0, 0]),
      'body/bias': f32([4], [0, 0, 0, 0]),
      'head/kernel': f32([4, 3], [1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]),
      'head/bias': f32([3], [0, 0, 0]),
    };
    // logits = [x0, x1, 0]: example 0 -> class 0 (label 0, hit), example 1 -> class 1 (label 2, miss)
    const r = interpret(finishTraced(single), { x: f32([2, 2], [5, 1, 1, 5]), label: i32([2], [0, 2]) }, params);
    expectClose(r.outputs.accuracy!.data, [0.5]);
  });

  test('bad definitions are reported at defineModel', () => {
    expect(() =>
      defineModel({ name: '1bad', batch: 1, inputs: { x: { dtype: 'f32', shape: [] } }, forward: ({ x }) => x! }),
    ).toThrow(KilnError);
    expect(() =>
      defineModel({ name: 'b', batch: 0, inputs: { x: { dtype: 'f32', shape: [] } }, forward: ({ x }) => x! }),
    ).toThrow(/batch 0 must be a positive integer/);
    const noTrain = defineModel({
      name: 'n',
      batch: 1,
      inputs: { x: { dtype: 'f32', shape: [] } },
      forward: ({ x }) => x!,
    });
    expect(() => trace(noTrain, { mode: 'train' })).toThrow(/needs the model's train setup/);
  });
});

describe('layer names', () => {
  test('automatic names count per type within a file; two layers with one name are an error', () => {
    const a = nn.dense(1),
      b = nn.dense(1),
      c = nn.conv2d(1, 1);
    expect(Number(b.name.split('_')[1])).toBe(Number(a.name.split('_')[1]) + 1);
    expect(c.name).toMatch(/^conv2d_\d+$/);
    const twin = nn.dense(1, { name: a.name });
    const m = defineModel({
      name: 'twins',
      batch: 1,
      inputs: { x: { dtype: 'f32', shape: [1] } },
      forward: ({ x }) => twin(a(x!)),
    });
    expect(() => inferGraph(m)).toThrow(new RegExp(`${a.name}: two different layers are named '${a.name}'`));
  });
});
