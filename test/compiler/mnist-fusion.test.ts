// Fusion of the MNIST CNN of examples/mnist-cnn.ts trained with Adam (its default batch): kernel
// count, bytes moved, softmax + cross-entropy forward, Adam's update; the same on a small
// MNIST-style stand-in, whose lowered training step also runs against the interpreter.
import { describe, expect, it } from 'vitest';
import type { Kernel, Program } from '../../ir/kernel.ts';
import { buffersRead, buffersWritten } from '../../ir/kernel-walk.ts';
import { loadModels } from '../../compiler/dsl/model.ts';
import { defineModel, losses, nn, optimizers } from '../../compiler/index.ts';
import {
  compileModel,
  compileProgram,
  inspectStats,
  modelEntries,
  optimize,
  PIPELINE_STAGES,
} from '../../compiler/pipeline.ts';
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

/** The kernels that write a param's buffer and each of its Adam slots' (`<param>/adam_m`, `/adam_v`). */
function adamWriters(p: Program, entry: string): { param: string; writers: Kernel[]; bufs: string[] }[] {
  const step = p.entries.find((e) => e.name === entry)!;
  const bufOf = new Map(p.params.map((q) => [q.name, q.buf]));
  return p.params
    .filter((q) => bufOf.has(`${q.name}/adam_m`))
    .map((q) => {
      const bufs = [q.name, `${q.name}/adam_m`, `${q.name}/adam_v`].map((n) => bufOf.get(n)!);
      return { param: q.name, bufs, writers: step.kernels.filter((k) => bufs.some((b) => buffersWritten(k).has(b))) };
    });
}

/** Kernels after `from` on a data path to `to` (by the buffers they write and read), `to` included. */
function kernelsBetween(kernels: readonly Kernel[], from: number, to: number): number[] {
  const producers = kernels.map((k, i) =>
    [...buffersRead(k)].flatMap((b) => {
      const j = kernels.slice(0, i).findLastIndex((w) => buffersWritten(w).has(b));
      return j < 0 ? [] : [j];
    }),
  );
  const after = new Set([from]);
  kernels.forEach((_, i) => {
    if (producers[i]!.some((j) => after.has(j))) after.add(i);
  });
  const before = new Set([to]);
  for (let i = to; i >= 0; i--) if (before.has(i)) producers[i]!.forEach((j) => before.add(j));
  return [...after].filter((i) => i !== from && before.has(i)).sort((a, b) => a - b);
}

describe('fusion of the MNIST CNN of examples/mnist-cnn.ts (batch 64, Adam)', async () => {
  const models = await loadModels(new URL('../../examples/mnist-cnn.ts', import.meta.url).pathname);
  const model = models.mnist_cnn!;
  const batch = model.def.batch;
  const train = modelEntries(model, { train: true })[1]!;
  // fusion as it leaves the fuser: without the Winograd rewrite, which adds kernels per convolution
  // (test/compiler/winograd.test.ts counts them)
  const program = compileProgram([train], { winograd: false });
  const kernels = program.entries[0]!.kernels;

  it('kernels <= one third of the primitive ops; bytes moved <= half of the unfused graph', () => {
    const stats = programStats(program, [optimize(train.graph)]);
    expect(stats.ops).toBeGreaterThan(150);
    expect(stats.kernels).toBeLessThanOrEqual(stats.ops / 3);
    expect(stats.bytesMoved).toBeLessThanOrEqual(stats.bytesMovedUnfused / 2);
  });

  // 35 as fused, and a partials kernel for each of the two conv bias gradients (compiler/lower/split-reduce.ts)
  it('at most 37 kernels per step, every one a loop or contraction kernel', () => {
    expect(kernels.length).toBeLessThanOrEqual(37);
    expect(kernels.filter((k) => k.kind !== 'loop' && k.kind !== 'contraction')).toEqual([]);
  });

  it('softmax + cross-entropy forward: at most two kernels from the logits to the loss', () => {
    const logits = kernels.findIndex((k) => k.kind === 'contraction' && k.m === batch && k.n === 10);
    const loss = kernels.findIndex((k) =>
      buffersWritten(k).has(program.entries[0]!.outputs.find((o) => o.name === 'loss')!.buf),
    );
    expect(logits).toBeGreaterThan(0);
    const between = kernelsBetween(kernels, logits, loss);
    expect(between.length).toBeGreaterThanOrEqual(1);
    expect(between.length, `kernels ${between.join(', ')}`).toBeLessThanOrEqual(2);
  });

  it("Adam's update of each param and its two slots is one kernel", () => {
    const updates = adamWriters(program, 'train_step');
    expect(updates.length).toBe(10); // kernel and bias of three convolutions and two dense layers
    for (const u of updates) {
      expect(u.writers.length, u.param).toBe(1);
      expect([...buffersWritten(u.writers[0]!)], u.param).toEqual(expect.arrayContaining(u.bufs));
    }
  });
});

describe('MNIST CNN training step', () => {
  const model = mnistCnn(4);
  const entries = modelEntries(model, { train: true });
  const train = entries[1]!.graph;
  const program = compileModel(model, { train: true });

  it('meets the kernel-count and traffic bar', () => {
    const stats = programStats({ ...program, entries: program.entries.filter((e) => e.name === 'train_step') }, [
      optimize(train),
    ]);
    expect(stats.kernels).toBeLessThanOrEqual(stats.ops / 3);
    expect(stats.bytesMoved).toBeLessThanOrEqual(stats.bytesMovedUnfused / 2);
  });

  it('runs on the kernel interpreter like the graph interpreter', () => {
    const { inputs, params } = feeds(train, 3, 10);
    const want = interpret(train, inputs, params);
    const got = interpretProgram(program, 'train_step', inputs, params);
    for (const o of train.outputs) expectClose(got.outputs[o.name]!, want.outputs[o.name]!, o.name, 1e-3);
    for (const a of train.assigns)
      expectClose(got.params[a.param.name]!, want.assigns[a.param.name]!, a.param.name, 1e-3);
  });
});

describe('fusion bar on small graphs', () => {
  it("Adam's update of a param and its two slots is one kernel", () => {
    const updates = adamWriters(compileModel(mnistCnn(2), { train: true }), 'train_step');
    expect(updates.length).toBe(6);
    for (const u of updates) {
      expect(u.writers.length, u.param).toBe(1);
      expect([...buffersWritten(u.writers[0]!)], u.param).toEqual(expect.arrayContaining(u.bufs));
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
    expect(PIPELINE_STAGES.fused!(entries)).toMatch(/kernel 0 contraction\(conv2d\)/);
    expect(PIPELINE_STAGES.kernels!(entries)).toMatch(/entry infer\(image=infer_in_image\)/);
    const s = inspectStats(entries);
    expect(s.kernels).toBe(compileProgram(entries).entries[0]!.kernels.length);
    expect(s.bytesMoved).toBeLessThan(s.bytesMovedUnfused);
  });
});
