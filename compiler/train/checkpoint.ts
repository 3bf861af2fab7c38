// Per-epoch checkpoints: `<dir>/epoch-<n>.safetensors` holds every param of the session (weights,
// optimizer slots, the step counter, RNG counters, BatchNorm statistics) and, with early stopping,
// the best epoch's params under `best/<name>`; `<dir>/checkpoint.json` names that file and holds the
// run's settings and history. Each file is written to a temporary name and renamed into place, and
// the JSON last, so a run killed at any moment leaves the previous checkpoint or the new one, never
// a mix. Resuming loads the params and the progress; the batches of the next epoch depend only on
// (seed, epoch), so the resumed run is bitwise the run that was never interrupted.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fail } from '../../ir/errors.ts';
import { decodeSafetensors, encodeSafetensors, type NamedArray } from '../../runtime/safetensors.ts';
import { writeAtomic } from '../cli/files.ts';
import type { Best, EpochResult, Progress } from './loop.ts';

export const CHECKPOINT_FORMAT = 'kiln-checkpoint';
export const CHECKPOINT_VERSION = 1;
const BEST = 'best/';

/** What `checkpoint.json` holds. */
export interface CheckpointFile {
  readonly format: typeof CHECKPOINT_FORMAT;
  readonly version: number;
  readonly model: string;
  /** Epochs done. */
  readonly epoch: number;
  /** The safetensors file beside it, e.g. 'epoch-3.safetensors'. */
  readonly weights: string;
  /** The settings the run was started with (seed, batch, learning rate, ...): a resumed run keeps them. */
  readonly config: Readonly<Record<string, unknown>>;
  readonly history: readonly EpochResult[];
  readonly best: { readonly epoch: number; readonly loss: number } | null;
  readonly stopped: boolean;
}

export interface Checkpoint {
  readonly model: string;
  readonly config: Readonly<Record<string, unknown>>;
  readonly progress: Progress;
  /** The session's params at the end of the checkpoint's epoch. */
  readonly params: Readonly<Record<string, NamedArray>>;
}

export function writeCheckpoint(dir: string, c: Checkpoint): string {
  mkdirSync(dir, { recursive: true });
  const epoch = c.progress.history.length;
  const weights = `epoch-${epoch}.safetensors`;
  const best = c.progress.best;
  const tensors: Record<string, NamedArray> = { ...c.params };
  if (best) for (const [k, v] of Object.entries(best.params)) tensors[BEST + k] = v;
  writeAtomic(
    join(dir, weights),
    encodeSafetensors(tensors, { format: CHECKPOINT_FORMAT, model: c.model, epoch: String(epoch) }),
    { force: true },
  );
  const file: CheckpointFile = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    model: c.model,
    epoch,
    weights,
    config: c.config,
    history: c.progress.history,
    best: best ? { epoch: best.epoch, loss: best.loss } : null,
    stopped: c.progress.stopped,
  };
  const json = join(dir, 'checkpoint.json');
  writeAtomic(json, new TextEncoder().encode(JSON.stringify(file, null, 1) + '\n'), { force: true });
  // Earlier epochs' weights are no longer named by checkpoint.json.
  for (const f of readdirSync(dir))
    if (/^epoch-\d+\.safetensors$/.test(f) && f !== weights) rmSync(join(dir, f), { force: true });
  return json;
}

function bad(dir: string, what: string): never {
  return fail('K7001', `checkpoint ${dir}: ${what}`);
}

export function readCheckpoint(dir: string): Checkpoint {
  const json = join(dir, 'checkpoint.json');
  if (!existsSync(json))
    fail('K8001', `train: --resume ${dir}: no checkpoint.json there; write one with --checkpoint ${dir}`);
  let file: CheckpointFile;
  try {
    file = JSON.parse(readFileSync(json, 'utf8')) as CheckpointFile;
  } catch (e) {
    return bad(dir, `checkpoint.json is not JSON (${(e as Error).message})`);
  }
  if (file.format !== CHECKPOINT_FORMAT || file.version !== CHECKPOINT_VERSION)
    bad(dir, `checkpoint.json is not a ${CHECKPOINT_FORMAT} version ${CHECKPOINT_VERSION} file`);
  if (typeof file.weights !== 'string' || !/^epoch-\d+\.safetensors$/.test(file.weights))
    bad(dir, `checkpoint.json names weights '${file.weights}'`);
  if (!Array.isArray(file.history) || file.history.length !== file.epoch)
    bad(dir, `checkpoint.json has ${file.history?.length} epochs of history for epoch ${file.epoch}`);
  const path = join(dir, file.weights);
  if (!existsSync(path)) bad(dir, `${file.weights}, named by checkpoint.json, is missing`);
  const { tensors, metadata } = decodeSafetensors(readFileSync(path));
  if (metadata.epoch !== String(file.epoch) || metadata.model !== file.model)
    bad(
      dir,
      `${file.weights} holds ${metadata.model} epoch ${metadata.epoch}, checkpoint.json says ${file.model} epoch ${file.epoch}`,
    );
  const params: Record<string, NamedArray> = {};
  const bestParams: Record<string, NamedArray> = {};
  for (const [k, v] of Object.entries(tensors)) {
    if (k.startsWith(BEST)) bestParams[k.slice(BEST.length)] = v;
    else params[k] = v;
  }
  if (file.best && Object.keys(bestParams).length === 0)
    bad(dir, `${file.weights} lacks the params of the best epoch ${file.best.epoch}`);
  const best: Best | undefined = file.best ? { ...file.best, params: bestParams } : undefined;
  return {
    model: file.model,
    config: file.config,
    params,
    progress: { history: file.history, ...(best ? { best } : {}), stopped: file.stopped },
  };
}
