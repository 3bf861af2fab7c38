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
import { parseArgs, usageOf, type CommandSpec } from './args.ts';

export const summary = 'train a model on its dataset';

const SPEC: CommandSpec = {
  name: 'train',
  usage: '<model.ts> [options]',
  flags: {
    model: { type: 'string', help: 'which exported model (default: the only one, or the default export)' },
    target: { type: 'string', help: `where the step runs: ${TARGETS.join(' | ')} (default wasm)` },
    epochs: { type: 'string', help: 'number of epochs (default 1)' },
    batch: { type: 'string', help: 'batch size (default: the model\'s)' },
    seed: { type: 'string', help: 'shuffling seed (default 1)' },
    steps: { type: 'string', help: 'at most this many steps per epoch' },
    json: { type: 'boolean', help: 'print one JSON line per epoch' },
    save: { type: 'string', help: 'directory to write the trained params to (weights.safetensors)' },
    init: { type: 'string', help: 'a weights.safetensors to start from' },
  },
};

export function intFlag(v: string | boolean | undefined, name: string, dflt: number, min = 1, command = 'train'): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) fail('K8001', `${command}: --${name} must be an integer >= ${min}, got '${v}'`);
  return n;
}

function progress(epoch: number, step: number, steps: number, loss: number, sps: number): string {
  const width = 30;
  const done = Math.round((width * step) / steps);
  return `\repoch ${epoch} [${'='.repeat(done)}${' '.repeat(width - done)}] ${step}/${steps}  loss ${loss.toFixed(4)}  ${sps.toFixed(0)} samples/s `;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(SPEC, argv);
  if (args.flags.help) {
    process.stdout.write(usageOf(SPEC));
    return 0;
  }
  const file = args.positionals[0];
  if (!file) fail('K8001', `train: missing the model file\n${usageOf(SPEC)}`);
  const target = (args.flags.target ?? 'wasm') as Target;
  if (!TARGETS.includes(target)) fail('K8001', `train: --target '${target}' is not one of ${TARGETS.join(', ')}`);
  const model = await pickModel(file, args.flags.model as string | undefined, 'train');
  if (!model.def.dataset) fail('K8001', `train: model '${model.name}' names no dataset; give defineModel a dataset: () => Dataset`);
  const json = args.flags.json === true;
  const tty = process.stdout.isTTY === true && !json;
  const epochs = intFlag(args.flags.epochs, 'epochs', 1);
  const seed = intFlag(args.flags.seed, 'seed', 1, 0);
  const maxSteps = args.flags.steps === undefined ? undefined : intFlag(args.flags.steps, 'steps', 1);
  const batch = intFlag(args.flags.batch, 'batch', model.def.batch);

  const t0 = performance.now();
  const session = await createSession(model, { target, batch });
  const compileSeconds = (performance.now() - t0) / 1000;
  if (typeof args.flags.init === 'string') session.load(decodeSafetensors(readFileSync(args.flags.init)).tensors);
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
    onStep: tty ? (s) => process.stdout.write(progress(s.epoch, s.step, s.steps, s.loss, s.samplesPerSecond)) : undefined,
    onEpoch: (r) => {
      if (tty) process.stdout.write('\n');
      if (json) process.stdout.write(JSON.stringify({ epoch: r.epoch, loss: r.loss, accuracy: r.accuracy, seconds: r.seconds }) + '\n');
      else process.stdout.write(`epoch ${r.epoch}: loss ${r.loss.toFixed(4)}  test accuracy ${(100 * r.accuracy).toFixed(2)}%  ${r.seconds.toFixed(1)} s (${r.steps} steps)\n`);
    },
  });

  if (typeof args.flags.save === 'string') {
    mkdirSync(args.flags.save, { recursive: true });
    const path = join(args.flags.save, 'weights.safetensors');
    const last = results[results.length - 1];
    writeFileSync(path, encodeSafetensors(session.params(), { model: model.name, epochs: String(epochs), accuracy: String(last?.accuracy ?? '') }));
    if (!json) process.stdout.write(`saved ${path}\n`);
  }
  return 0;
}
