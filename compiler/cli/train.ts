// `kiln train <model.ts>`: compile the model's training step, stream its dataset's batches through
// it, evaluate the test split after each epoch, optionally save the trained params.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fail } from '../../ir/errors.ts';
import { decodeSafetensors, encodeSafetensors } from '../../runtime/safetensors.ts';
import { gatherBatch } from '../data/dataset.ts';
import { pickModel } from '../dsl/model.ts';
import { train, type EpochResult } from '../train/loop.ts';
import { createSession, TARGETS, type Target } from '../train/session.ts';
import { choice, defineCommand, flag, int, text } from './command.ts';
import { progress } from './progress.ts';

export default defineCommand({
  name: 'train',
  summary: 'train a model on its dataset',
  args: ['<model.ts>'],
  options: {
    model: text('which exported model (default: the only one, or the default export)', { value: 'name' }),
    target: choice('where the step runs', TARGETS, { default: 'wasm' }),
    epochs: int('number of epochs', { default: 1 }),
    batch: int("batch size (default: the model's)"),
    seed: int('shuffling seed', { default: 1, min: 0 }),
    steps: int('at most this many steps per epoch'),
    json: flag('print one JSON line per epoch'),
    save: text('directory to write the trained params to (weights.safetensors)', { value: 'dir' }),
    init: text('a weights.safetensors to start from', { value: 'file' }),
  },
  run: async ([file], opts) => {
    const target: Target = opts.target;
    const model = await pickModel(file!, opts.model, 'train');
    if (!model.def.dataset) fail('K8001', `train: model '${model.name}' names no dataset; give defineModel a dataset: () => Dataset`);
    const json = opts.json;
    const epochs = opts.epochs;
    const seed = opts.seed;
    const maxSteps = opts.steps;
    const batch = opts.batch ?? model.def.batch;
    const bar = progress(process.stdout, !json);

    const t0 = performance.now();
    const session = await createSession(model, { target, batch });
    const compileSeconds = (performance.now() - t0) / 1000;
    if (opts.init !== undefined) session.load(decodeSafetensors(readFileSync(opts.init)).tensors);
    const data = await model.def.dataset();
    const probe = gatherBatch(data.test, Int32Array.from({ length: batch }, (_, b) => b % data.test.size), 0, batch);
    const output = Object.keys(session.predict(probe))[0]!;
    const target0 = Object.keys(model.def.targets ?? {})[0];
    if (!target0) fail('K8001', `train: model '${model.name}' declares no targets`);
    if (!json) process.stdout.write(`${model.name}: compiled for ${target} in ${compileSeconds.toFixed(2)} s; ${data.train.size} training / ${data.test.size} test examples, batch ${batch}\n`);

    const results: EpochResult[] = train(session, data, {
      epochs,
      seed,
      maxSteps,
      output,
      target: target0,
      onStep: bar.step,
      onEpoch: (r) => {
        bar.endEpoch();
        if (json) process.stdout.write(JSON.stringify({ epoch: r.epoch, loss: r.loss, accuracy: r.accuracy, seconds: r.seconds }) + '\n');
        else process.stdout.write(`epoch ${r.epoch}: loss ${r.loss.toFixed(4)}  test accuracy ${(100 * r.accuracy).toFixed(2)}%  ${r.seconds.toFixed(1)} s (${r.steps} steps)\n`);
      },
    });

    if (opts.save !== undefined) {
      mkdirSync(opts.save, { recursive: true });
      const path = join(opts.save, 'weights.safetensors');
      const last = results[results.length - 1];
      writeFileSync(path, encodeSafetensors(session.params(), { model: model.name, epochs: String(epochs), accuracy: String(last?.accuracy ?? '') }));
      if (!json) process.stdout.write(`saved ${path}\n`);
    }
    return 0;
  },
});
