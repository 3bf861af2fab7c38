// A whole `kiln train` run, from settings to saved files: resolves the settings (flags, the model's
// own, a checkpoint's), checks the output paths before any work, compiles the session, starts it
// from saved weights or a checkpoint, trains with validation, early stopping and per-epoch
// checkpoints, and writes the weights and the loss curves. The CLI maps flags onto `TrainRun`.
import { extname, resolve } from 'node:path';
import { fail } from '../../ir/errors.ts';
import { decodeSafetensors, encodeSafetensors } from '../../runtime/safetensors.ts';
import { checkOutputPath, readFileBytes, writeAtomic } from '../cli/files.ts';
import { drive } from '../cli/interrupt.ts';
import { holdOut, type Dataset } from '../data/dataset.ts';
import { indexRanges, validateDataset, type ColumnSpec } from '../data/validate.ts';
import { finishTraced, trace, type Model } from '../dsl/model.ts';
import type { OptimizerSpec } from '../dsl/optimizers.ts';
import { initialRate, parseSchedule } from '../dsl/schedules.ts';
import { readCheckpoint, writeCheckpoint, type Checkpoint } from './checkpoint.ts';
import { formatInitReport, freezePredicate, isOptimizerState, planInit, type InitReport } from './init.ts';
import { trainSteps, type EpochResult, type Progress, type Scores, type Session, type TrainResult } from './loop.ts';
import { renderCurves } from './plot.ts';
import { sessionGraphs, sessionOf, type Target } from './session.ts';

/** The settings that shape a run's numbers: a checkpoint records them and a resumed run keeps them. */
export interface RunSettings {
  readonly seed: number;
  readonly batch: number;
  /** At most this many steps per epoch (null: the whole split). */
  readonly steps: number | null;
  readonly validationSplit: number | null;
  /** Early-stopping patience in epochs (null: off). */
  readonly earlyStopping: number | null;
  /** The learning rate (null: the model's). */
  readonly lr: number | null;
  /** A schedule's text form, `exponential:decaySteps=100,decayRate=0.9` (null: the model's). */
  readonly lrSchedule: string | null;
  /** Name patterns of params to freeze. */
  readonly freeze: readonly string[];
}

export interface TrainRun {
  readonly model: Model;
  readonly target: Target;
  /** Threads the wasm step runs on (default 1). */
  readonly threads?: number;
  /** The epoch to end with (a resumed run counts the checkpoint's epochs). */
  readonly epochs: number;
  /** Settings given on the command line; the rest come from a checkpoint or the defaults. */
  readonly settings: Partial<RunSettings>;
  /** A weights file to start from (`--init`). */
  readonly init?: string;
  /** Write a checkpoint after every epoch to this folder. */
  readonly checkpoint?: string;
  /** Continue the run checkpointed in this folder. */
  readonly resume?: string;
  /** Write the final params to `<save>/weights.safetensors`. */
  readonly save?: string;
  /** Write the loss curves to this SVG file. */
  readonly plot?: string;
  /** Overwrite an existing --save or --plot file, or a --checkpoint folder holding another run. */
  readonly force?: boolean;
  /** Checked between steps: when it says so, the run stops (a Ctrl-C); the result says where. */
  readonly interrupt?: { readonly requested: () => boolean };
  readonly json?: boolean;
  /** Per-step progress (the CLI's bar on a terminal): told of each step and of each epoch's end. */
  readonly progress?: {
    readonly step: (s: { epoch: number; step: number; steps: number; loss: number; samplesPerSecond: number }) => void;
    readonly endEpoch: () => void;
  };
  /** Where the report goes (default: stdout); notes that are not per-epoch results go to `note`. */
  readonly write?: (text: string) => void;
  readonly note?: (text: string) => void;
}

export interface TrainRunResult extends TrainResult {
  readonly settings: RunSettings;
  readonly init?: InitReport;
  readonly session: Session;
  /** Set when `interrupt` stopped the run: the step it stopped after, and the last checkpoint written. */
  readonly interrupted?: { readonly epoch: number; readonly step: number; readonly checkpoint?: string };
}

const SETTINGS_KEYS = [
  'seed',
  'batch',
  'steps',
  'validationSplit',
  'earlyStopping',
  'lr',
  'lrSchedule',
  'freeze',
] as const;

const FLAG: Record<keyof RunSettings, string> = {
  seed: '--seed',
  batch: '--batch',
  steps: '--steps',
  validationSplit: '--validation-split',
  earlyStopping: '--early-stopping',
  lr: '--lr',
  lrSchedule: '--lr-schedule',
  freeze: '--freeze',
};

/** The settings of a run: the flags given, else a resumed checkpoint's, else the model's and kiln's defaults. */
export function resolveSettings(
  model: Model,
  given: Partial<RunSettings>,
  saved?: Readonly<Record<string, unknown>>,
): RunSettings {
  if (saved) {
    const lost = SETTINGS_KEYS.filter((k) => !(k in saved));
    if (lost.length)
      fail(
        'K7001',
        `checkpoint: checkpoint.json's config lacks ${lost.join(', ')}; it was not written by this version of kiln train`,
      );
    for (const k of SETTINGS_KEYS) {
      if (given[k] !== undefined && JSON.stringify(given[k]) !== JSON.stringify(saved[k])) {
        fail(
          'K8001',
          `train: ${FLAG[k]} ${JSON.stringify(given[k])} differs from the checkpoint's ${JSON.stringify(saved[k])}; a resumed run keeps the settings it started with`,
        );
      }
    }
    return saved as unknown as RunSettings;
  }
  return {
    seed: given.seed ?? 1,
    batch: given.batch ?? model.def.batch,
    steps: given.steps ?? null,
    validationSplit: given.validationSplit ?? model.def.train?.validationSplit ?? null,
    earlyStopping: given.earlyStopping ?? null,
    lr: given.lr ?? null,
    lrSchedule: given.lrSchedule ?? null,
    freeze: given.freeze ?? [],
  };
}

/** The model's optimizer with the learning rate or schedule of the settings. */
export function optimizerOf(model: Model, s: RunSettings): OptimizerSpec | undefined {
  const base = model.def.train?.optimizer;
  if (!base || (s.lr === null && s.lrSchedule === null)) return undefined;
  const initial = s.lr ?? initialRate(base.learningRate);
  return { ...base, learningRate: s.lrSchedule === null ? initial : parseSchedule(s.lrSchedule, initial) };
}

/** The columns the model reads, with the id ranges its graph implies (class ids, token ids). */
function modelColumns(model: Model, batch: number): Record<string, ColumnSpec> {
  const ranges = indexRanges(finishTraced(trace(model, { mode: 'train', batch })));
  const specs = { ...model.def.inputs, ...model.def.targets };
  return Object.fromEntries(Object.entries(specs).map(([name, s]) => [name, { ...s, range: ranges[name] }]));
}

/** The dataset with its validation split: the dataset's own, else held out of `train` by the settings. */
export function withValidation(data: Dataset, s: RunSettings, given: Partial<RunSettings>): Dataset {
  if (data.validation) {
    if (given.validationSplit !== undefined)
      fail('K8001', `train: dataset '${data.name}' has its own validation split; drop --validation-split`);
    return data;
  }
  const held = s.validationSplit === null ? data : { ...data, ...holdOut(data.train, s.validationSplit) };
  if (held.validation?.size === 0 || held.train.size < s.batch) {
    const split = held.validation
      ? `a validation split of ${s.validationSplit} leaves ${held.train.size} of ${data.train.size} examples to train and ${held.validation.size} to validate; `
      : '';
    fail(
      'K8001',
      `train: ${split}the batch (${s.batch}) is larger than the train split (${held.train.size} examples), so no step could run; pass --batch ${held.train.size} or less`,
    );
  }
  return held;
}

const fmt = (k: string, v: number): string => (k === 'accuracy' ? `${(100 * v).toFixed(2)}%` : v.toPrecision(4));
const scoresText = (label: string, s: Scores | undefined): string =>
  s
    ? `  ${label} ${Object.entries(s)
        .map(([k, v]) => `${k} ${fmt(k, v)}`)
        .join(' ')}`
    : '';

/** One epoch as a JSON object: train loss, `val_<score>`, `test_<score>`, seconds, steps. */
export function epochJson(r: EpochResult): Record<string, number> {
  const prefixed = (p: string, s: Scores | undefined): Record<string, number> =>
    Object.fromEntries(Object.entries(s ?? {}).map(([k, v]) => [`${p}_${k}`, v]));
  return {
    epoch: r.epoch,
    loss: r.loss,
    ...prefixed('val', r.validation),
    ...prefixed('test', r.test),
    seconds: r.seconds,
    steps: r.steps,
  };
}

export function epochText(r: EpochResult): string {
  return `epoch ${r.epoch}: loss ${r.loss.toFixed(4)}${scoresText('val', r.validation)}${scoresText('test', r.test)}  ${r.seconds.toFixed(1)} s (${r.steps} steps)\n`;
}

export async function runTraining(run: TrainRun): Promise<TrainRunResult> {
  const { model } = run;
  const write = run.write ?? ((t: string) => process.stdout.write(t));
  const note = run.note ?? (run.json ? (t: string) => process.stderr.write(t) : write);
  if (!model.def.dataset)
    fail('K8001', `train: model '${model.name}' names no dataset; give defineModel a dataset: () => Dataset`);
  if (!model.def.train)
    fail('K8001', `train: model '${model.name}' has no training setup; give defineModel a train: { loss, optimizer }`);
  if (Object.keys(model.def.targets ?? {}).length === 0)
    fail('K8001', `train: model '${model.name}' declares no targets`);
  if (run.init && run.resume)
    fail(
      'K8001',
      'train: --init starts a new run from weights, --resume continues a checkpointed one; give one of them',
    );
  // Everything named on the command line is checked before the model compiles: outputs, inputs, the data.
  const out = (flag: string, path: string, kind: 'folder' | 'file', file?: string, force = run.force): string =>
    checkOutputPath(path, { command: 'train', flag, kind, ...(file ? { file } : {}), force });
  const savePath = run.save === undefined ? undefined : out('--save', run.save, 'folder', 'weights.safetensors');
  if (run.plot !== undefined && extname(run.plot).toLowerCase() !== '.svg')
    fail('K8001', `train: --plot '${run.plot}': kiln draws the curves as SVG; name a .svg file`);
  const plotPath = run.plot === undefined ? undefined : out('--plot', run.plot, 'file');
  // A checkpoint folder is rewritten every epoch: the one being resumed, or (with --force) another run's.
  if (run.checkpoint !== undefined)
    out(
      '--checkpoint',
      run.checkpoint,
      'folder',
      'checkpoint.json',
      run.force || (run.resume !== undefined && resolve(run.resume) === resolve(run.checkpoint)),
    );
  const saved = run.init === undefined ? undefined : decodeSafetensors(readFileBytes('train', run.init)).tensors;
  const ckpt: Checkpoint | undefined = run.resume ? readCheckpoint(run.resume) : undefined;
  if (ckpt && ckpt.model !== model.name)
    fail('K8001', `train: --resume ${run.resume} holds a run of model '${ckpt.model}', not '${model.name}'`);
  const s = resolveSettings(model, run.settings, ckpt?.config);
  const freeze = s.freeze.length ? freezePredicate(s.freeze) : undefined;
  const data = withValidation(
    validateDataset(await model.def.dataset(), modelColumns(model, s.batch)),
    s,
    run.settings,
  );
  if (s.earlyStopping !== null && !data.validation)
    fail(
      'K8001',
      `train: --early-stopping watches the validation loss; give --validation-split F (or the dataset a validation split)`,
    );

  const t0 = performance.now();
  const graphs = sessionGraphs(model, { batch: s.batch, optimizer: optimizerOf(model, s), freeze });
  if (freeze) {
    const names = new Set(graphs.train.params.map((p) => p.name));
    const own = [...names].filter((n) => !isOptimizerState(n, names));
    const frozen = own.filter(freeze);
    if (frozen.length === 0)
      fail('K8001', `train: --freeze ${s.freeze.join(',')} matches none of the model's params (${own.join(', ')})`);
    note(`frozen: ${frozen.join(', ')}\n`);
  }
  const session = await sessionOf(graphs, run.target, run.threads);
  const compileSeconds = (performance.now() - t0) / 1000;
  let init: InitReport | undefined;
  if (saved) {
    const plan = planInit(session.params(), saved, run.init);
    session.load(plan.load);
    init = plan.report;
    note(formatInitReport(run.init!, init));
  }
  if (ckpt) session.load(ckpt.params);
  const from: Progress | undefined = ckpt?.progress;
  if (!run.json) {
    const sizes = `${data.train.size} training${data.validation ? ` / ${data.validation.size} validation` : ''} / ${data.test.size} test examples`;
    write(
      `${model.name}: compiled for ${run.target} in ${compileSeconds.toFixed(2)} s; ${sizes}, batch ${s.batch}${from ? `; resuming after epoch ${from.history.length}` : ''}\n`,
    );
  }

  let at = { epoch: 0, step: 0 };
  let checkpointed: string | undefined;
  const steps = trainSteps(session, data, {
    epochs: run.epochs,
    seed: s.seed,
    ...(s.steps !== null ? { maxSteps: s.steps } : {}),
    ...(s.earlyStopping !== null ? { earlyStopping: { patience: s.earlyStopping } } : {}),
    ...(from ? { from } : {}),
    onStep: (p) => {
      at = p;
      run.progress?.step(p);
    },
    onEpoch: (r, progress) => {
      run.progress?.endEpoch();
      write(run.json ? JSON.stringify(epochJson(r)) + '\n' : epochText(r));
      if (run.checkpoint)
        checkpointed = writeCheckpoint(run.checkpoint, {
          model: model.name,
          config: s as unknown as Record<string, unknown>,
          progress,
          params: session.params(),
        });
    },
  });
  const result = await drive(steps, { requested: run.interrupt?.requested ?? (() => false), dispose: () => {} });
  if (!result) {
    run.progress?.endEpoch();
    return {
      history: [],
      kept: undefined,
      settings: s,
      session,
      ...(init ? { init } : {}),
      interrupted: { ...at, ...(checkpointed ? { checkpoint: checkpointed } : {}) },
    };
  }

  if (!run.json && result.kept && s.earlyStopping !== null) {
    const k = result.kept;
    const why =
      result.stoppedAt !== undefined
        ? `stopped early at epoch ${result.stoppedAt}`
        : `ended at epoch ${result.history.length}`;
    write(
      `${why}; restored the weights of epoch ${k.epoch} (lowest validation loss):${scoresText('test', k.test).slice(1)}\n`,
    );
  }
  if (savePath) {
    const meta = Object.fromEntries(Object.entries(result.kept?.test ?? {}).map(([k, v]) => [`test_${k}`, String(v)]));
    writeAtomic(
      savePath,
      encodeSafetensors(session.params(), { model: model.name, epochs: String(result.history.length), ...meta }),
      { force: run.force },
    );
    note(`saved ${savePath}\n`);
  }
  if (plotPath) {
    writeAtomic(
      plotPath,
      new TextEncoder().encode(await renderCurves(`${model.name}: loss and metrics per epoch`, result.history)),
      { force: run.force },
    );
    note(`plotted ${plotPath}\n`);
  }
  return { ...result, settings: s, ...(init ? { init } : {}), session };
}
