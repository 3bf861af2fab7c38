// The bar on an MNIST-style CNN trained with Adam: kernel count, bytes moved, softmax +
// cross-entropy forward, Adam's update; and the lowered training step matches the interpreter.
import { describe, expect, it } from 'vitest';
import { defineModel, losses, nn, optimizers } from '../../compiler/index.ts';
import { compileModel, modelEntries, optimize } from '../../compiler/pipeline.ts';
import { programStats } from '../../compiler/passes/cost.ts';
import { interpret } from '../../ir/interpret.ts';
import { interpretProgram } from '../../ir/interpret-kernels.ts';
import { expectClose, feeds } from './helpers.ts';

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
