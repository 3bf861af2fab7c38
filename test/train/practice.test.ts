// Training practice: validation and early stopping, metrics by task, learning-rate schedules from
// the command line, checkpoints and exact resume, partial initialization, frozen layers, loss plots.
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KilnError, defineModel, losses, nn, optimizers } from '../../compiler/index.ts';
import { exponentialDecay, parseSchedule } from '../../compiler/dsl/schedules.ts';
import { evaluate, train } from '../../compiler/train/loop.ts';
import { runTraining, type TrainRun } from '../../compiler/train/run.ts';
import { createSession, sessionGraphs } from '../../compiler/train/session.ts';
import { decodeSafetensors, type NamedArray } from '../../runtime/safetensors.ts';
import { drifting, frozenModel, mlp } from './models.ts';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'kiln-practice-'));

/** A run with its printed report captured. */
async function quiet(
  run: Omit<TrainRun, 'write' | 'note'>,
): Promise<{ out: string; result: Awaited<ReturnType<typeof runTraining>> }> {
  let out = '';
  const result = await runTraining({ ...run, write: (t) => (out += t), note: (t) => (out += t) });
  return { out, result };
}

const bytes = (a: NamedArray): Uint8Array => new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
const sameBits = (a: Record<string, NamedArray>, b: Record<string, NamedArray>): void => {
  expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
  for (const k of Object.keys(a)) expect(bytes(b[k]!), k).toEqual(bytes(a[k]!));
};

describe('validation and early stopping', () => {
  it("stops when the validation loss stops falling and restores the best epoch's params", async () => {
    const s = await createSession(drifting, { target: 'interp' });
    const data = await drifting.def.dataset!();
    const snapshots: Record<string, NamedArray>[] = [];
    const r = train(s, data, {
      epochs: 30,
      seed: 1,
      earlyStopping: { patience: 2 },
      onEpoch: () => snapshots.push(s.params()),
    });
    const val = r.history.map((e) => e.validation!.loss!);
    const best = val.indexOf(Math.min(...val)) + 1;
    expect(best).toBeGreaterThan(1); // the validation loss fell first ...
    expect(r.stoppedAt).toBe(best + 2); // ... then rose for `patience` epochs
    expect(r.history).toHaveLength(best + 2);
    expect(r.kept!.epoch).toBe(best);
    sameBits(snapshots[best - 1]!, s.params()); // the best epoch's params, not the last epoch's
    expect(Array.from(s.params()['w/kernel']!.data)).not.toEqual(
      Array.from(snapshots[snapshots.length - 1]!['w/kernel']!.data),
    );
    expect(evaluate(s, data.validation!).loss).toBe(val[best - 1]);
  });

  it('--validation-split holds out a fixed fraction of the training split', async () => {
    const { out, result } = await quiet({
      model: mlp,
      target: 'interp',
      epochs: 2,
      settings: { validationSplit: 0.2 },
    });
    expect(out).toMatch(/36 training \/ 9 validation \/ 13 test examples/);
    for (const e of result.history) expect(Object.keys(e.validation!).sort()).toEqual(['loss', 'mae']);
    await expect(
      quiet({ model: drifting, target: 'interp', epochs: 1, settings: { validationSplit: 0.5 } }),
    ).rejects.toThrow(/has its own validation split/);
    await expect(quiet({ model: mlp, target: 'interp', epochs: 1, settings: { earlyStopping: 2 } })).rejects.toThrow(
      /--early-stopping watches the validation loss/,
    );
  });
});

describe('metrics that fit the task', () => {
  it('a regression model reports the test loss (MSE) and MAE, no accuracy; exact over a split that is not a multiple of the batch', async () => {
    const s = await createSession(mlp, { target: 'interp' });
    const data = await mlp.def.dataset!();
    train(s, data, { epochs: 3, seed: 1 });
    const scores = evaluate(s, data.test); // 13 examples, batch 8: one full batch and one padded
    expect(Object.keys(scores).sort()).toEqual(['loss', 'mae']);
    let se = 0;
    let ae = 0;
    for (let i = 0; i < 13; i++) {
      const x = new Float32Array(16);
      for (let b = 0; b < 8; b++) x.set(data.test.columns.x!.subarray(2 * i, 2 * i + 2), 2 * b);
      const d = s.predict({ x }).y![0]! - data.test.columns.y![i]!;
      se += d * d;
      ae += Math.abs(d);
    }
    expect(scores.loss).toBeCloseTo(se / 13, 5);
    expect(scores.mae).toBeCloseTo(ae / 13, 5);
    const { out } = await quiet({ model: mlp, target: 'interp', epochs: 1, settings: {} });
    expect(out).toMatch(/test loss \S+ mae \S+/);
    expect(out).not.toMatch(/accuracy/);
  });

  it('a classification loss reports accuracy; a declared metric list wins; an unknown metric is refused', () => {
    const classify = defineModel({
      name: 'classify',
      batch: 2,
      inputs: { x: { dtype: 'f32', shape: [3] } },
      targets: { y: { dtype: 'i32', shape: [] } },
      forward: nn.dense(4, { name: 'logits' }),
      train: { loss: losses.sparseCategoricalCrossentropy({ fromLogits: true }), optimizer: optimizers.sgd() },
    });
    expect(sessionGraphs(classify).evaluate.outputs.map((o) => o.name)).toEqual(['loss', 'accuracy']);
    const both = defineModel({ ...mlp.def, name: 'both', train: { ...mlp.def.train!, metrics: ['mse', 'mae'] } });
    expect(sessionGraphs(both).evaluate.outputs.map((o) => o.name)).toEqual(['loss', 'mse', 'mae']);
    const bad = defineModel({ ...mlp.def, name: 'bad', train: { ...mlp.def.train!, metrics: ['f1' as 'mae'] } });
    expect(() => sessionGraphs(bad)).toThrow(/unknown metric 'f1'; known: accuracy, mse, mae/);
  });
});

describe('learning-rate schedules from the command line', () => {
  it("parses the text form into the DSL's schedules, starting at --lr or the model's rate", () => {
    expect(parseSchedule('exponential:decaySteps=10,decayRate=0.9,staircase', 0.1)).toEqual(
      exponentialDecay({ initial: 0.1, decaySteps: 10, decayRate: 0.9, staircase: true }),
    );
    expect(parseSchedule('step:stepSize=5', 0.2)).toEqual({ kind: 'step', initial: 0.2, stepSize: 5, gamma: 0.1 });
    expect(parseSchedule('cosine:decaySteps=100,alpha=0.1,initial=0.5', 0.2)).toEqual({
      kind: 'cosine',
      initial: 0.5,
      decaySteps: 100,
      alpha: 0.1,
    });
    expect(() => parseSchedule('linear:steps=3', 0.1)).toThrow(
      /unknown kind 'linear'; known: constant, step, exponential, cosine/,
    );
    expect(() => parseSchedule('exponential:decaySteps=10', 0.1)).toThrow(/needs decayRate=<number>/);
    expect(() => parseSchedule('step:stepSize=ten', 0.1)).toThrow(/stepSize=ten is not a number/);
    expect(() => parseSchedule('step:stepSize=4,gama=0.5', 0.1)).toThrow(
      /step has no field 'gama'; its fields: initial, stepSize, gamma/,
    );
  });

  it('--lr and --lr-schedule train exactly as the same schedule written in the model file', async () => {
    const inFile = defineModel({
      ...mlp.def,
      name: 'tiny_mlp',
      train: {
        ...mlp.def.train!,
        optimizer: optimizers.adam({
          learningRate: exponentialDecay({ initial: 0.02, decaySteps: 3, decayRate: 0.5 }),
        }),
      },
    });
    const a = await quiet({ model: inFile, target: 'wasm', epochs: 2, settings: {} });
    const b = await quiet({
      model: mlp,
      target: 'wasm',
      epochs: 2,
      settings: { lr: 0.02, lrSchedule: 'exponential:decaySteps=3,decayRate=0.5' },
    });
    const c = await quiet({ model: mlp, target: 'wasm', epochs: 2, settings: {} });
    sameBits(a.result.session.params(), b.result.session.params());
    expect(Array.from(c.result.session.params()['out/kernel']!.data)).not.toEqual(
      Array.from(b.result.session.params()['out/kernel']!.data),
    );
  });
});

describe('checkpoints', () => {
  it('two epochs, a checkpoint, then a resumed third epoch end bit for bit where three epochs in one run end', async () => {
    // Adam slots, the step counter, dropout's RNG counter, a validation split and early stopping's best params all carry over.
    const settings = { validationSplit: 0.2, earlyStopping: 10 };
    const dir = tmp();
    const whole = await quiet({ model: mlp, target: 'wasm', epochs: 3, settings, save: join(dir, 'whole') });
    const first = await quiet({ model: mlp, target: 'wasm', epochs: 2, settings, checkpoint: join(dir, 'ckpt') });
    expect(readdirSync(join(dir, 'ckpt')).sort()).toEqual(['checkpoint.json', 'epoch-2.safetensors']);
    const ckpt = JSON.parse(readFileSync(join(dir, 'ckpt', 'checkpoint.json'), 'utf8'));
    expect(ckpt).toMatchObject({
      format: 'kiln-checkpoint',
      model: 'tiny_mlp',
      epoch: 2,
      config: { seed: 1, batch: 8, validationSplit: 0.2 },
    });
    const saved = decodeSafetensors(readFileSync(join(dir, 'ckpt', 'epoch-2.safetensors'))).tensors;
    expect(Array.from(saved['optimizer/iterations']!.data)).toEqual([8]); // 36 training examples / 8 = 4 steps per epoch
    expect(Array.from(saved['drop/counter']!.data)).toEqual([8]);
    expect(Object.keys(saved)).toContain('hidden/kernel/adam_m');
    const resumed = await quiet({
      model: mlp,
      target: 'wasm',
      epochs: 3,
      settings: {},
      resume: join(dir, 'ckpt'),
      save: join(dir, 'resumed'),
    });
    expect(first.out).toMatch(/epoch 2:/);
    expect(resumed.out).toMatch(/resuming after epoch 2/);
    expect(resumed.result.history.map((e) => e.loss)).toEqual(whole.result.history.map((e) => e.loss));
    sameBits(whole.result.session.params(), resumed.result.session.params());
    expect(readFileSync(join(dir, 'resumed', 'weights.safetensors'))).toEqual(
      readFileSync(join(dir, 'whole', 'weights.safetensors')),
    );
  });

  it('a resumed run keeps its settings: a different one is refused, and a checkpoint of another model too', async () => {
    const dir = tmp();
    await quiet({ model: mlp, target: 'interp', epochs: 1, settings: { seed: 3 }, checkpoint: dir });
    await expect(
      quiet({ model: mlp, target: 'interp', epochs: 2, settings: { seed: 4 }, resume: dir }),
    ).rejects.toThrow(/--seed 4 differs from the checkpoint's 3/);
    await expect(quiet({ model: drifting, target: 'interp', epochs: 2, settings: {}, resume: dir })).rejects.toThrow(
      /holds a run of model 'tiny_mlp', not 'drifting'/,
    );
    await expect(
      quiet({ model: mlp, target: 'interp', epochs: 2, settings: {}, resume: join(dir, 'none') }),
    ).rejects.toThrow(KilnError);
  });
});

describe('fine-tuning', () => {
  it("--init loads the model's params the file holds, reports what it loaded, skipped and left at initialization, and refuses a tensor of another shape", async () => {
    const dir = tmp();
    await quiet({ model: mlp, target: 'interp', epochs: 2, settings: {}, save: dir });
    const file = join(dir, 'weights.safetensors');
    const saved = decodeSafetensors(readFileSync(file)).tensors;
    // Another model: the same hidden layer, a new layer and a new output, SGD with momentum instead of Adam.
    const other = defineModel({
      ...mlp.def,
      name: 'other',
      targets: { y: { dtype: 'f32', shape: [2] } },
      forward: nn.sequential([
        nn.dense(8, { activation: 'tanh', name: 'hidden' }),
        nn.dense(4, { name: 'extra' }),
        nn.dense(2, { name: 'out2' }),
      ]),
      train: { loss: losses.meanSquaredError(), optimizer: optimizers.momentum() },
      dataset: undefined,
    });
    const s = await createSession(other, { target: 'interp' });
    const fresh = s.params();
    const { planInit } = await import('../../compiler/train/init.ts');
    const { load, report } = planInit(fresh, saved);
    s.load(load);
    expect([...report.loaded].sort()).toEqual(['hidden/bias', 'hidden/kernel']);
    expect([...report.initialized].sort()).toEqual(['extra/bias', 'extra/kernel', 'out2/bias', 'out2/kernel']);
    const why = Object.fromEntries(report.skipped.map((x) => [x.name, x.why]));
    expect(why['out/kernel']).toBe('the model has no such param');
    expect(why['hidden/kernel/adam_m']).toMatch(/^optimizer state/);
    expect(why['optimizer/iterations']).toMatch(/^optimizer state/);
    expect(why['drop/counter']).toBe('the model has no such param');
    const now = s.params();
    expect(bytes(now['hidden/kernel']!)).toEqual(bytes(saved['hidden/kernel']!));
    expect(bytes(now['out2/kernel']!)).toEqual(bytes(fresh['out2/kernel']!));
    expect(Array.from(now['optimizer/iterations']!.data)).toEqual([0]); // the optimizer starts afresh
    expect(bytes(now['hidden/kernel/momentum']!)).toEqual(bytes(fresh['hidden/kernel/momentum']!));
    // A tensor whose name matches but whose shape differs is refused, naming it; so is a file with nothing of the model.
    const wider = defineModel({
      ...other.def,
      name: 'wider',
      forward: nn.sequential([nn.dense(8, { activation: 'tanh', name: 'hidden' }), nn.dense(2, { name: 'out' })]),
    });
    const w = await createSession(wider, { target: 'interp' });
    expect(() => planInit(w.params(), saved, 'w.safetensors')).toThrow(
      /w.safetensors: 'out\/bias' is F32\[1\], the model's is F32\[2\]/,
    );
    expect(() => planInit(fresh, { 'x/kernel': saved['hidden/kernel']! }, 'x.safetensors')).toThrow(
      /x.safetensors holds none of the model's params/,
    );
    // The same through a run: the report is printed.
    const { out, result } = await quiet({ model: mlp, target: 'interp', epochs: 1, settings: {}, init: file });
    expect(out).toMatch(/init from .*: loaded 5, skipped 9, left at initialization 0/);
    expect([...result.init!.loaded].sort()).toEqual([
      'drop/counter',
      'hidden/bias',
      'hidden/kernel',
      'out/bias',
      'out/kernel',
    ]);
  });

  it('frozen params (trainable: false, --freeze patterns) stay bit for bit while the others train, with no gradient or slots', async () => {
    const model = frozenModel();
    const s = await createSession(model, { target: 'wasm', freeze: (n) => n.startsWith('middle/') });
    const before = s.params();
    const data = await model.def.dataset!();
    train(s, data, { epochs: 3, seed: 1 });
    const after = s.params();
    for (const k of ['base/kernel', 'base/bias', 'middle/kernel', 'middle/bias'])
      expect(bytes(after[k]!), k).toEqual(bytes(before[k]!));
    for (const k of ['head/kernel', 'head/bias']) expect(bytes(after[k]!), k).not.toEqual(bytes(before[k]!));
    const g = sessionGraphs(model, { freeze: (n) => n.startsWith('middle/') }).train;
    expect(
      g.params
        .map((p) => p.name)
        .filter((n) => n.endsWith('/adam_m'))
        .sort(),
    ).toEqual(['head/bias/adam_m', 'head/kernel/adam_m']);
    expect(g.assigns.map((a) => a.param.name)).not.toContain('base/kernel');
    // The whole step is smaller: no gradient flows below the head.
    const full = sessionGraphs(frozenModel()).train;
    expect(g.nodes.length).toBeLessThan(full.nodes.length);
    // Through a run: a pattern that matches nothing is refused.
    const { out } = await quiet({ model, target: 'interp', epochs: 1, settings: { freeze: ['mid*'] } });
    expect(out).toMatch(/frozen: middle\/kernel, middle\/bias/);
    await expect(quiet({ model, target: 'interp', epochs: 1, settings: { freeze: ['conv*'] } })).rejects.toThrow(
      /--freeze conv\* matches none of the model's params/,
    );
  });
});

describe('loss curves', () => {
  it('--plot writes an SVG with a panel per measure and a line per split', async () => {
    const dir = tmp();
    const file = join(dir, 'curves.svg');
    await quiet({ model: mlp, target: 'interp', epochs: 3, settings: { validationSplit: 0.2 }, plot: file });
    const svg = readFileSync(file, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    for (const label of ['loss', 'mae', 'training', 'validation', 'test', 'epoch'])
      expect(svg).toContain(`>${label}</text>`);
    // One path per line: training, validation and test loss; validation and test MAE.
    expect(svg.match(/aria-roledescription="line mark"/g)).toHaveLength(5);
    expect(readdirSync(dir)).toEqual(['curves.svg']); // no temporary file left
    await expect(
      quiet({ model: mlp, target: 'interp', epochs: 1, settings: {}, plot: join(dir, 'c.png') }),
    ).rejects.toThrow(/name a \.svg file/);
    expect(existsSync(join(dir, 'c.png'))).toBe(false);
  });
});
