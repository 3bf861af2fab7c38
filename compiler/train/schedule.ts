// Training by a schedule of alternating entries (a GAN's discriminator and generator steps): one
// compiled program (WebAssembly or WGSL) whose entries (`infer` and one per schedule step) share the params, run
// in the order the model file declares. Inputs the schedule draws (a GAN's noise) come from the
// counter-based random stream, so a run is bitwise reproducible from its seed.
import { fail } from '../../ir/errors.ts';
import type { Graph } from '../../ir/graph.ts';
import { initParams } from '../../ir/init.ts';
import { mix32, randomNormal, randomUniform } from '../../ir/random.ts';
import type { NamedArray } from '../../runtime/safetensors.ts';
import { permutation, gatherBatch, type Column, type Dataset } from '../data/dataset.ts';
import type { Model, TrainSchedule } from '../dsl/model.ts';
import { loadProgram, type CompiledTarget } from './executor.ts';
import { compileProgram, modelEntries } from '../pipeline.ts';
import { namedArray } from './interp-session.ts';

/** A compiled scheduled model: any entry by name, on a full batch. */
export interface ProgramSession {
  readonly batch: number;
  /** Entry name -> its graph (inputs, outputs, params). */
  readonly entries: ReadonlyMap<string, Graph>;
  run(entry: string, cols: Readonly<Record<string, Column>>): Record<string, Column>;
  params(): Record<string, NamedArray>;
  load(params: Readonly<Record<string, NamedArray>>): void;
}

export function scheduleOf(model: Model): TrainSchedule {
  const s = model.def.schedule;
  if (!s) fail('K8001', `train: model '${model.name}' has no schedule`);
  return s;
}

export async function programSession(
  model: Model,
  batch = model.def.batch,
  target: CompiledTarget = 'wasm',
  threads = 1,
): Promise<ProgramSession> {
  const entries = modelEntries(model, { train: true, batch });
  const program = compileProgram(entries);
  const exec = await loadProgram(program, target, threads);
  for (const [name, t] of Object.entries(initParams({ params: entries.flatMap((e) => e.graph.params) })))
    exec.writeParam(name, namedArray(t).data);
  return {
    batch,
    entries: new Map(entries.map((e) => [e.name, e.graph])),
    run(entry, cols) {
      const e = program.entries.find((x) => x.name === entry);
      if (!e) fail('K8001', `train: model '${model.name}' has no entry '${entry}'`);
      const out = exec.run(entry, Object.fromEntries(e.inputs.map((i) => [i.name, cols[i.name]!])));
      return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, t.data as Column]));
    },
    params: () => Object.fromEntries(program.params.map((p) => [p.name, namedArray(exec.readParam(p.name))])),
    load(saved) {
      for (const [name, a] of Object.entries(saved)) exec.writeParam(name, a.data);
    },
  };
}

const nameHash = (s: string): number => [...s].reduce((h, c) => mix32((h ^ c.charCodeAt(0)) >>> 0), 0x9e3779b9);

/** The schedule's drawn inputs for one run (`counter` numbers the runs of a training). */
export function drawInputs(
  session: ProgramSession,
  entry: string,
  schedule: TrainSchedule,
  seed: number,
  counter: number,
): Record<string, Column> {
  const out: Record<string, Column> = {};
  for (const input of session.entries.get(entry)!.inputs) {
    const kind = schedule.draw?.[input.name];
    if (!kind) continue;
    const n = input.type.shape.reduce((a, b) => a * b, 1);
    const s = (seed ^ nameHash(input.name)) >>> 0;
    out[input.name] =
      kind === 'normal'
        ? Float32Array.from({ length: n }, (_, i) => randomNormal(s, counter, i))
        : Float32Array.from({ length: n }, (_, i) => 2 * randomUniform(s, counter, i) - 1);
  }
  return out;
}

export interface ScheduledEpoch {
  readonly epoch: number;
  /** Mean loss of each schedule step over the epoch. */
  readonly losses: Readonly<Record<string, number>>;
  /** Turns of the schedule run. */
  readonly turns: number;
  readonly seconds: number;
}

export interface ScheduleOptions {
  readonly epochs: number;
  readonly seed: number;
  /** Stop each epoch after this many turns of the schedule (short runs and tests). */
  readonly maxTurns?: number;
  readonly onTurn?: (info: { epoch: number; turn: number; turns: number; losses: Record<string, number> }) => void;
  readonly onEpoch?: (r: ScheduledEpoch) => void;
}

/** Epochs of the schedule over the training split; every run of a step that reads a dataset column takes the next shuffled batch. */
export function trainScheduled(
  session: ProgramSession,
  model: Model,
  data: Dataset,
  opts: ScheduleOptions,
): ScheduledEpoch[] {
  const schedule = scheduleOf(model);
  const columns = new Set(Object.keys(data.train.columns));
  const readsData = (entry: string): boolean => session.entries.get(entry)!.inputs.some((i) => columns.has(i.name));
  if (!schedule.steps.some((s) => readsData(s.name)))
    fail(
      'K8001',
      `train: no step of model '${model.name}''s schedule reads a dataset column (${[...columns].join(', ')})`,
    );
  for (const s of schedule.steps) {
    for (const i of session.entries.get(s.name)!.inputs) {
      if (!columns.has(i.name) && !schedule.draw?.[i.name])
        fail(
          'K8001',
          `train: schedule step '${s.name}' of model '${model.name}' needs input '${i.name}', which is neither a dataset column nor drawn (schedule.draw)`,
        );
    }
  }
  const batch = session.batch;
  const perEpoch = Math.floor(data.train.size / batch);
  const results: ScheduledEpoch[] = [];
  let counter = 0;
  for (let epoch = 1; epoch <= opts.epochs; epoch++) {
    const t0 = performance.now();
    const order = permutation(data.train.size, opts.seed, epoch);
    let next = 0;
    const sums: Record<string, number> = {};
    const runs: Record<string, number> = {};
    let turns = 0;
    const total = Math.min(
      opts.maxTurns ?? Infinity,
      Math.floor(perEpoch / schedule.steps.reduce((n, s) => n + (readsData(s.name) ? (s.repeat ?? 1) : 0), 0)),
    );
    while (turns < total) {
      for (const s of schedule.steps) {
        for (let r = 0; r < (s.repeat ?? 1); r++) {
          const cols = readsData(s.name) ? gatherBatch(data.train, order, batch * next++, batch) : {};
          const loss = session.run(s.name, { ...cols, ...drawInputs(session, s.name, schedule, opts.seed, counter++) })
            .loss![0]!;
          if (!Number.isFinite(loss))
            fail(
              'K7005',
              `train: the loss of step '${s.name}' became ${loss} at epoch ${epoch}, turn ${turns + 1} (training diverged); lower the learning rate`,
            );
          sums[s.name] = (sums[s.name] ?? 0) + loss;
          runs[s.name] = (runs[s.name] ?? 0) + 1;
        }
      }
      turns++;
      const losses = Object.fromEntries(Object.keys(sums).map((k) => [k, sums[k]! / runs[k]!]));
      opts.onTurn?.({ epoch, turn: turns, turns: total, losses });
    }
    const losses = Object.fromEntries(Object.keys(sums).map((k) => [k, sums[k]! / runs[k]!]));
    const r = { epoch, losses, turns, seconds: (performance.now() - t0) / 1000 };
    results.push(r);
    opts.onEpoch?.(r);
  }
  return results;
}

/** Runs `fn` with every param that has a moving average (the slot `<param>/ema` of an optimizer with
 *  the `ema` option) set to that average, then puts the trained values back: a GAN samples from its
 *  generator's average. Without averages (or with `use` false) it just runs `fn`. */
export function withAverages<T>(session: ProgramSession, fn: () => T, use = true): T {
  const params = session.params();
  const names = use ? Object.keys(params).filter((n) => params[`${n}/ema`] !== undefined) : [];
  if (names.length === 0) return fn();
  session.load(Object.fromEntries(names.map((n) => [n, params[`${n}/ema`]!])));
  try {
    return fn();
  } finally {
    session.load(Object.fromEntries(names.map((n) => [n, params[n]!])));
  }
}

/** The `infer` entry's output for the preview's fixed drawn inputs (the same every epoch), from the averaged params where there are any. */
export function previewImages(
  session: ProgramSession,
  model: Model,
  seed: number,
): { data: Column; shape: readonly number[] } {
  const schedule = scheduleOf(model);
  const infer = session.entries.get('infer')!;
  const out = withAverages(session, () =>
    session.run('infer', drawInputs(session, 'infer', schedule, seed, 0xffffffff)),
  );
  const [name, data] = Object.entries(out)[0]!;
  return { data, shape: infer.outputs.find((o) => o.name === name)!.value.type.shape };
}
