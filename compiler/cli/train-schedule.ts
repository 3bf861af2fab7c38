// `kiln train` for a model with a schedule (a GAN): its entries take turns on the training split as
// the model file declares; one line per epoch with each step's mean loss; with --save DIR, the
// params after every epoch (DIR/weights.safetensors) and, when the schedule asks for a preview, a PNG
// grid of the model's output after each epoch (DIR/samples-<epoch>.png).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fail } from '../../ir/errors.ts';
import { encodeSafetensors, matchWeights, type NamedArray } from '../../runtime/safetensors.ts';
import type { Model } from '../dsl/model.ts';
import { pngGrid } from '../train/png-grid.ts';
import { previewImages, programSession, scheduleOf, trainScheduled } from '../train/schedule.ts';
import { writeAtomic } from './files.ts';
import type { CompiledTarget } from '../train/executor.ts';

export interface ScheduledRunOptions {
  readonly epochs: number;
  readonly seed: number;
  readonly batch: number;
  readonly target: CompiledTarget;
  readonly maxSteps?: number;
  readonly json: boolean;
  /** The checked --save path (DIR/weights.safetensors). */
  readonly savePath?: string;
  readonly force: boolean;
  /** Decoded --init weights and their file. */
  readonly init?: { readonly tensors: Readonly<Record<string, NamedArray>>; readonly source: string };
  /** Threads the program runs on (default 1). */
  readonly threads?: number;
}

const samplesFile = (dir: string, epoch: number): string => join(dir, `samples-${String(epoch).padStart(3, '0')}.png`);

export async function runScheduled(model: Model, opts: ScheduledRunOptions): Promise<number> {
  const schedule = scheduleOf(model);
  const dir = opts.savePath === undefined ? undefined : dirname(opts.savePath);
  if (dir !== undefined && schedule.preview && !opts.force) {
    const taken = Array.from({ length: opts.epochs }, (_, e) => samplesFile(dir, e + 1)).filter((f) => existsSync(f));
    if (taken.length > 0)
      fail(
        'K8001',
        `train: --save '${dir}' already holds ${taken[0]}${taken.length > 1 ? ` and ${taken.length - 1} more samples` : ''}; pass --force to overwrite or choose another folder`,
      );
  }
  const t0 = performance.now();
  const session = await programSession(model, opts.batch, opts.target, opts.threads);
  if (opts.init) {
    // The params `infer` uses are required; optimizer slots and step counters may be absent (they start fresh).
    const inference = new Set(session.entries.get('infer')!.params.map((p) => p.name));
    const expected = Object.fromEntries(
      Object.entries(session.params()).map(([name, a]) => [
        name,
        { dtype: a.dtype, shape: a.shape, optional: !inference.has(name) },
      ]),
    );
    const m = matchWeights(opts.init.tensors, expected, { source: opts.init.source });
    session.load(Object.fromEntries(m.loaded.map((n) => [n, opts.init!.tensors[n]!])));
  }
  const data = await model.def.dataset!();
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  if (!opts.json)
    say(
      `${model.name}: compiled ${session.entries.size} entries (${[...session.entries.keys()].join(', ')}) in ${((performance.now() - t0) / 1000).toFixed(2)} s; ${data.train.size} training examples, batch ${opts.batch}`,
    );
  trainScheduled(session, model, data, {
    epochs: opts.epochs,
    seed: opts.seed,
    maxTurns: opts.maxSteps,
    onEpoch: (r) => {
      // The params after every epoch, so a long run can be judged (or continued with --init) as it goes.
      if (opts.savePath !== undefined)
        writeAtomic(
          opts.savePath,
          encodeSafetensors(session.params(), { model: model.name, epochs: String(r.epoch) }),
          { force: opts.force || r.epoch > 1 },
        );
      let samples: string | undefined;
      if (dir !== undefined && schedule.preview) {
        const { data: images, shape } = previewImages(session, model, opts.seed);
        samples = samplesFile(dir, r.epoch);
        writeAtomic(samples, pngGrid(images, shape, schedule.preview), { force: opts.force });
      }
      if (opts.json)
        say(
          JSON.stringify({
            epoch: r.epoch,
            losses: r.losses,
            turns: r.turns,
            seconds: r.seconds,
            ...(samples ? { samples } : {}),
          }),
        );
      else
        say(
          `epoch ${r.epoch}: ${Object.entries(r.losses)
            .map(([k, v]) => `${k} loss ${v.toFixed(4)}`)
            .join('  ')}  ${r.seconds.toFixed(1)} s (${r.turns} turns)${samples ? `  wrote ${samples}` : ''}`,
        );
    },
  });
  if (opts.savePath !== undefined && !opts.json) say(`saved ${opts.savePath}`);
  return 0;
}
