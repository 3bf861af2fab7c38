// examples/mnist-finetune.ts is wired as it says: the 5-9 models take every pretrained layer but the
// classifier, the frozen one trains only its dense layers, the data of 5-9 holds PER_CLASS labels of
// each digit, and each seed draws its own weights and labels. (The full comparison runs in `npm run e2e`.)
import { describe, expect, it } from 'vitest';
import {
  digits04,
  digits59,
  digits59Frozen,
  digits59Scratch,
  finetuneModels,
  PER_CLASS,
} from '../../examples/mnist-finetune.ts';
import { planInit } from '../../compiler/train/init.ts';
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

  it('gives 5-9 few labels per class, all test digits, and other weights and labels for another seed', async () => {
    const data = await digits59.def.dataset!();
    const count = (y: Int32Array, d: number): number => y.filter((v) => v === d).length;
    for (const d of [5, 6, 7, 8, 9]) expect(count(data.train.columns.y as Int32Array, d)).toBe(PER_CLASS);
    expect(data.train.size).toBe(5 * PER_CLASS);
    expect(new Set(data.test.columns.y)).toEqual(new Set([5, 6, 7, 8, 9]));
    expect(data.test.size).toBeGreaterThan(900);
    const other = finetuneModels(2).scratch;
    const otherData = await other.def.dataset!();
    expect(otherData.train.columns.x).not.toEqual(data.train.columns.x);
    expect(otherData.test.columns.x).toEqual(data.test.columns.x);
    const w1 = (await createSession(digits59Scratch, { target: 'interp' })).params()['conv2d_1/kernel']!.data;
    const w2 = (await createSession(other, { target: 'interp' })).params()['conv2d_1/kernel']!.data;
    expect(w2).not.toEqual(w1);
  });
});
