// `kiln train <model.ts>`: compile the model's training step, stream its dataset's batches through
// it, evaluate the test split after each epoch, optionally save the trained params.
import { existsSync } from 'node:fs';
import { fail } from '../../ir/errors.ts';
import { decodeSafetensors, encodeSafetensors, matchWeights, type NamedArray } from '../../runtime/safetensors.ts';
import { gatherBatch } from '../data/dataset.ts';
import { indexRanges, validateDataset, type ColumnSpec } from '../data/validate.ts';
import { finishTraced, inferGraph, trace, type Model } from '../dsl/model.ts';
import { trainSteps, type Session } from '../train/loop.ts';
import { createSession, TARGETS } from '../train/session.ts';
import { choice, defineCommand, flag, int, text, usageError } from './command.ts';
import { checkOutputPath, readFileBytes, writeAtomic } from './files.ts';
import { catchInterrupt, drive } from './interrupt.ts';
import { loadModel } from './model-file.ts';
import { progress } from './progress.ts';
import { EXIT } from './report.ts';

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
    init: text('a weights.safetensors to start from (names, dtypes and shapes must match the model)', { value: 'file' }),
    force: flag('overwrite an existing --save file (otherwise kiln refuses and keeps it)'),
    noTypecheck: flag('run the model file without type-checking it first'),
  },
  run: async ([file], opts) => {
    // Everything the user named is checked before the model compiles: the output, the weights, the data.
    const savePath = opts.save === undefined ? undefined : checkOutputPath(opts.save, { command: 'train', flag: '--save', kind: 'folder', file: 'weights.safetensors', force: opts.force });
    const init = opts.init === undefined ? undefined : decodeSafetensors(readFileBytes('train', opts.init)).tensors;
    const model = await loadModel('train', file!, { model: opts.model, typecheck: !opts.noTypecheck });
    if (!model.def.dataset) fail('K8001', `train: model '${model.name}' names no dataset; give defineModel a dataset: () => Dataset`);
    if (!model.def.train) fail('K8001', `train: model '${model.name}' has no training setup; give defineModel a train: { loss, optimizer }`);
    const target0 = Object.keys(model.def.targets ?? {})[0];
    if (!target0) fail('K8001', `train: model '${model.name}' declares no targets`);
    const batch = opts.batch ?? model.def.batch;
    const data = validateDataset(await model.def.dataset(), modelColumns(model, batch));
    if (batch > data.train.size) usageError('train', `the batch (${batch}) is larger than the train split (${data.train.size} examples), so no step could run; pass --batch ${data.train.size} or less`);
    const { json, epochs, seed, steps: maxSteps, target } = opts;
    const bar = progress(process.stdout, !json);

    const t0 = performance.now();
    const session = await createSession(model, { target, batch });
    const compileSeconds = (performance.now() - t0) / 1000;
    if (init) loadWeights(session, init, model, batch, opts.init!, json);
    const probe = gatherBatch(data.test, Int32Array.from({ length: batch }, (_, b) => b % data.test.size), 0, batch);
    const output = Object.keys(session.predict(probe))[0]!;
    if (!json) process.stdout.write(`${model.name}: compiled for ${target} in ${compileSeconds.toFixed(2)} s; ${data.train.size} training / ${data.test.size} test examples, batch ${batch}\n`);

    let at = { epoch: 0, step: 0 };
    const stop = catchInterrupt((t) => process.stderr.write(t));
    try {
      const results = await drive(trainSteps(session, data, {
        epochs,
        seed,
        maxSteps,
        output,
        target: target0,
        onStep: (s) => {
          at = s;
          bar.step(s);
        },
        onEpoch: (r) => {
          bar.endEpoch();
          if (json) process.stdout.write(JSON.stringify({ epoch: r.epoch, loss: r.loss, accuracy: r.accuracy, seconds: r.seconds }) + '\n');
          else process.stdout.write(`epoch ${r.epoch}: loss ${r.loss.toFixed(4)}  test accuracy ${(100 * r.accuracy).toFixed(2)}%  ${r.seconds.toFixed(1)} s (${r.steps} steps)\n`);
        },
      }), stop);
      if (!results) {
        bar.endEpoch();
        const kept = savePath === undefined ? 'no --save was given' : existsSync(savePath) ? `the last good weights are still ${savePath} (from an earlier run, unchanged)` : `${savePath} was not written`;
        process.stderr.write(`error K8006: train: interrupted at epoch ${at.epoch}, step ${at.step}; nothing saved: ${kept}\n`);
        return EXIT.interrupted;
      }
      if (savePath !== undefined) {
        const last = results[results.length - 1];
        writeAtomic(savePath, encodeSafetensors(session.params(), { model: model.name, epochs: String(epochs), accuracy: String(last?.accuracy ?? '') }), { force: opts.force });
        if (!json) process.stdout.write(`saved ${savePath}\n`);
      }
    } finally {
      stop.dispose();
    }
    return 0;
  },
});

/** The columns the model reads, with the id ranges its graph implies (class ids, token ids). */
function modelColumns(model: Model, batch: number): Record<string, ColumnSpec> {
  const ranges = indexRanges(finishTraced(trace(model, { mode: 'train', batch })));
  const specs = { ...model.def.inputs, ...model.def.targets };
  return Object.fromEntries(Object.entries(specs).map(([name, s]) => [name, { ...s, range: ranges[name] }]));
}

/** Loads saved params after checking them against the session's (names, dtypes, exact shapes, finite values). */
function loadWeights(session: Session, saved: Record<string, NamedArray>, model: Model, batch: number, source: string, quiet: boolean): void {
  const inference = new Set(inferGraph(model, batch).params.map((p) => p.name));
  const expected = Object.fromEntries(Object.entries(session.params()).map(([name, a]) => [name, { dtype: a.dtype, shape: a.shape, optional: !inference.has(name) }]));
  const m = matchWeights(saved, expected, { source });
  session.load(Object.fromEntries(m.loaded.map((n) => [n, saved[n]!])));
  if (!quiet && m.missingOptional.length > 0) process.stdout.write(`${source}: no optimizer state (${m.missingOptional.length} tensors); the optimizer starts fresh\n`);
}
