// examples/mnist-finetune.ts is wired as it says: the 5-9 models take every pretrained layer but the
// classifier, the frozen one trains only its dense layers, the data of 5-9 holds the budget's labels
// of each digit (nested across budgets, repeated to fill an epoch), each seed draws its own weights
// and labels, and the curve's tally counts correct digits. (The full curve runs in `npm run e2e`.)
import { describe, expect, it } from 'vitest';
import {
  digits04,
  digits59,
  digits59Frozen,
  digits59Scratch,
  DECIDING,
  digits59Data,
  finetuneModels,
  MIN_EPOCH,
  pick,
  repeated,
  tally,
  curveSpec,
  curveText,
  type FinetuneResult,
} from '../../examples/mnist-finetune.ts';
import { planInit } from '../../compiler/train/init.ts';
import { renderSvg } from '../../compiler/train/plot.ts';
import { createSession, sessionGraphs } from '../../compiler/train/session.ts';

const layers = (...names: string[]): string[] => names.flatMap((n) => [`${n}/bias`, `${n}/kernel`]).sort();
const CONVS = layers('conv2d_1', 'conv2d_2', 'conv2d_3');

describe('examples/mnist-finetune.ts', () => {
  it('loads all pretrained layers but the classifier, and freezes only the frozen model’s convolutions', async () => {
    const pre = await createSession(digits04, { target: 'interp' });
    const fine = await createSession(digits59, { target: 'interp' });
    const { report } = planInit(fine.params(), pre.params());
    expect([...report.loaded].sort()).toEqual([...CONVS, ...layers('dense_hidden')].sort());
    expect([...report.initialized].sort()).toEqual(layers('classes_5_9'));
    expect(
      report.skipped
        .filter((s) => s.why === 'the model has no such param')
        .map((s) => s.name)
        .sort(),
    ).toEqual(layers('classes_0_4'));
    const updated = (g: ReturnType<typeof sessionGraphs>['train']): string[] =>
      g.assigns
        .map((a) => a.param.name)
        .filter((n) => !n.includes('/adam_') && n !== 'optimizer/iterations')
        .sort();
    const all = [...CONVS, ...layers('dense_hidden', 'classes_5_9')].sort();
    expect(updated(sessionGraphs(digits59).train)).toEqual(all);
    expect(updated(sessionGraphs(digits59Scratch).train)).toEqual(all);
    expect(updated(sessionGraphs(digits59Frozen).train)).toEqual(layers('dense_hidden', 'classes_5_9'));
  });

  it('gives 5-9 the budget’s labels per class, repeated to fill an epoch, all test digits, and other weights and labels for another seed', async () => {
    const data = await digits59.def.dataset!();
    const count = (y: Int32Array, d: number): number => y.filter((v) => v === d).length;
    const times = Math.ceil(MIN_EPOCH / (5 * DECIDING));
    for (const d of [5, 6, 7, 8, 9]) expect(count(data.train.columns.y as Int32Array, d)).toBe(DECIDING * times);
    expect(data.train.size).toBe(5 * DECIDING * times);
    expect(new Set(data.test.columns.y)).toEqual(new Set([5, 6, 7, 8, 9]));
    expect(data.test.size).toBeGreaterThan(900);
    const other = finetuneModels(2).scratch;
    const otherData = await other.def.dataset!();
    expect(otherData.train.columns.x).not.toEqual(data.train.columns.x);
    expect(otherData.test.columns.x).toEqual(data.test.columns.x);
    const w1 = (await createSession(digits59Scratch, { target: 'interp' })).params()['conv2d_1/kernel']!.data;
    const w2 = (await createSession(other, { target: 'interp' })).params()['conv2d_1/kernel']!.data;
    expect(w2).not.toEqual(w1);
    expect(() => digits59Data(1, 2000)).toThrow(/2000 labels per class is more than the training split holds/);
  });

  it('picks labels per class deterministically per seed, a smaller budget’s among a larger one’s', () => {
    // 40 examples, labels 0..3 ten times each; x holds each example's index (one value per example).
    const size = 40;
    const split = {
      size,
      columns: {
        x: Float32Array.from({ length: size }, (_, i) => i),
        y: Int32Array.from({ length: size }, (_, i) => i % 4),
      },
    };
    const ids = (perClass: number, seed: number): number[] => [...pick(split, [1, 2], perClass, seed).columns.x!];
    for (const k of [1, 3, 10]) {
      const p = pick(split, [1, 2], k, 7);
      expect(p.size).toBe(2 * k);
      const y = [...p.columns.y!];
      expect(y.filter((v) => v === 1)).toHaveLength(k);
      expect(y.filter((v) => v === 2)).toHaveLength(k);
      // Each example keeps its label, in the split's order.
      expect(p.columns.x!.every((x, j) => x % 4 === y[j] && (j === 0 || x > p.columns.x![j - 1]!))).toBe(true);
    }
    expect(ids(3, 7)).toEqual(ids(3, 7));
    expect(ids(3, 8)).not.toEqual(ids(3, 7));
    const small = new Set(ids(3, 7));
    expect(ids(6, 7).filter((x) => small.has(x))).toHaveLength(6);
    expect(pick(split, [3], 100, 7).size).toBe(10);
  });

  it('repeats a split whole to hold at least so many examples', () => {
    const split = { size: 3, columns: { x: Float32Array.of(1, 1, 2, 2, 3, 3), y: Int32Array.of(4, 5, 6) } };
    const r = repeated(split, 7);
    expect(r.size).toBe(9);
    expect([...r.columns.y!]).toEqual([4, 5, 6, 4, 5, 6, 4, 5, 6]);
    expect([...r.columns.x!].slice(0, 8)).toEqual([1, 1, 2, 2, 3, 3, 1, 1]);
    expect(repeated(split, 2).size).toBe(3);
  });

  it('tallies wins, ties and losses by the count of correct test digits', () => {
    const runs = [
      { seed: 1, finetuned: 10 / 963, frozen: 0, scratch: 9 / 963 },
      // The same count, reached through different float rounding, is a tie.
      { seed: 2, finetuned: 5 / 963 + 1e-12, frozen: 0, scratch: 5 / 963 },
      { seed: 3, finetuned: 1 / 963, frozen: 0, scratch: 2 / 963 },
      { seed: 4, finetuned: 3 / 963, frozen: 0, scratch: 2 / 963 },
    ];
    expect(tally(runs, 'finetuned', 'scratch', 963)).toEqual({ wins: 2, ties: 1, losses: 1 });
    expect(tally(runs, 'frozen', 'scratch', 963)).toEqual({ wins: 0, ties: 0, losses: 4 });
  });

  it('reports the curve as text and draws it with Vega-Lite', async () => {
    const run = (seed: number, finetuned: number, scratch: number) => ({ seed, finetuned, frozen: 0.5, scratch });
    const r: FinetuneResult = {
      pretrainEpochs: 3,
      epochs: 30,
      testSize: 10,
      pretrained: [
        { seed: 1, accuracy: 0.9 },
        { seed: 2, accuracy: 0.7 },
      ],
      init: { loaded: [], skipped: [], initialized: [] },
      budgets: [
        { perClass: 5, steps: 90, runs: [run(1, 0.8, 0.6), run(2, 0.6, 0.6)] },
        { perClass: 50, steps: 90, runs: [run(1, 0.9, 1), run(2, 0.9, 0.8)] },
      ],
    };
    const text = curveText(r);
    expect(text).toContain('2 seeds; pretrained on 0-4 for 3 epochs: 0.8000 ± 0.1414 on 0-4');
    expect(text).toContain('5 labels per class, 90 steps: frozen 0.5000 ± 0.0000, finetuned 0.7000 ± 0.1414');
    expect(text).toContain('against scratch (wins/ties/losses) fine-tuned 1/1/0, frozen 0/0/2');
    expect(text).toContain('fine-tuned 1/0/1, frozen 0/0/2');
    const svg = await renderSvg(curveSpec(r));
    expect(svg.startsWith('<svg')).toBe(true);
    for (const words of ['frozen convolutions', 'fine-tuned (two phases)', 'from scratch', 'labelled digits per class'])
      expect(svg).toContain(words);
  });
});
