// The bar on an MNIST-style CNN trained with Adam: kernel count, bytes moved, softmax +
// cross-entropy forward, Adam's update; and the lowered training step matches the interpreter.
import { describe, expect, it } from 'vitest';
import { defineModel, losses, nn, optimizers } from '../../compiler/index.ts';
import { compileModel, compileProgram, inspectStats, modelEntries, optimize, PIPELINE_STAGES } from '../../compiler/pipeline.ts';
import { programStats } from '../../compiler/passes/cost.ts';
import { interpret } from '../../ir/interpret.ts';
import { interpretProgram } from '../../ir/interpret-kernels.ts';
import { lossGraph } from '../../compiler/passes/train-step.ts';
import { checkLowering, expectClose, feeds } from './helpers.ts';

const { conv2d, maxPool2d, flatten, dense, sequential } = nn;

function mnistCnn(batch: number) {
  return defineModel({
    name: 'mnist_cnn',
    batch,
    inputs: { image: { dtype: 'f32', shape: [12, 12, 1] } },
    targets: { label: { dtype: 'i32', shape: [] } },
    forward: sequential([
      conv2d(4, 3, { activation: 'relu' }),
      maxPool2d(2),
      conv2d(8, 3, { activation: 'relu' }),
      maxPool2d(2),
      flatten(),
      dense(10, { activation: 'softmax' }),
    ]),
    train: { loss: losses.sparseCategoricalCrossentropy(), optimizer: optimizers.adam() },
  });
}

describe('MNIST CNN training step', () => {
  const model = mnistCnn(4);
  const entries = modelEntries(model, { train: true });
  const train = entries[1]!.graph;
  const program = compileModel(model, { train: true });

  it('meets the kernel-count and traffic bar', () => {
    const stats = programStats({ ...program, entries: program.entries.filter((e) => e.name === 'train_step') }, [optimize(train)]);
    expect(stats.kernels).toBeLessThanOrEqual(stats.ops / 3);
    expect(stats.bytesMoved).toBeLessThanOrEqual(stats.bytesMovedUnfused / 2);
  });

  it('runs on the kernel interpreter like the graph interpreter', () => {
    const { inputs, params } = feeds(train, 3, 10);
    const want = interpret(train, inputs, params);
    const got = interpretProgram(program, 'train_step', inputs, params);
    for (const o of train.outputs) expectClose(got.outputs[o.name]!, want.outputs[o.name]!, o.name, 1e-3);
    for (const a of train.assigns) expectClose(got.params[a.param.name]!, want.assigns[a.param.name]!, a.param.name, 1e-3);
  });
});

describe('fusion bar on small graphs', () => {
  it("Adam's update of a param and its two slots is one kernel", () => {
    const p = compileModel(mnistCnn(2), { train: true });
    const step = p.entries.find((e) => e.name === 'train_step')!;
    const bufOf = new Map(p.params.map((q) => [q.name, q.buf]));
    const slotted = p.params.filter((q) => bufOf.has(`${q.name}/adam_m`));
    expect(slotted.length).toBe(6);
    for (const q of slotted) {
      const bufs = [q.name, `${q.name}/adam_m`, `${q.name}/adam_v`].map((n) => bufOf.get(n)!);
      const writers = step.kernels.filter((k) => k.kind === 'loop' && k.stores.some((s) => bufs.includes(s.buf)));
      expect(writers.length, q.name).toBe(1);
      const w = writers[0]!;
      expect(w.kind === 'loop' ? w.stores.map((s) => s.buf) : []).toEqual(expect.arrayContaining(bufs));
    }
  });

  it('softmax + cross-entropy forward is at most two kernels', () => {
    const model = defineModel({
      name: 'ce',
      batch: 4,
      inputs: { logits: { dtype: 'f32', shape: [10] } },
      targets: { label: { dtype: 'i32', shape: [] } },
      forward: (i) => nn.activation('softmax')(i.logits!),
      train: { loss: losses.sparseCategoricalCrossentropy(), optimizer: optimizers.sgd() },
    });
    const g = lossGraph(model);
    const p = checkLowering(g, { tol: 1e-4 });
    expect(p.entries[0]!.kernels.length).toBeLessThanOrEqual(2);
  });
});

describe('inspect stages', () => {
  it('print the simplified graph, the fusion groups, the kernels and the stats', () => {
    const entries = modelEntries(mnistCnn(2));
    expect(PIPELINE_STAGES.simplified!(entries)).toContain('conv2d(');
    expect(PIPELINE_STAGES.fused!(entries)).toMatch(/kernel 0 template\(conv2d\)/);
    expect(PIPELINE_STAGES.kernels!(entries)).toMatch(/entry infer\(image=infer_in_image\)/);
    const s = inspectStats(entries);
    expect(s.kernels).toBe(compileProgram(entries).entries[0]!.kernels.length);
    expect(s.bytesMoved).toBeLessThan(s.bytesMovedUnfused);
  });
});
