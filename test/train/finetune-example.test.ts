// examples/mnist-finetune.ts is wired as it says: the 5-9 model takes the pretrained convolutions,
// freezes them, and gets a classifier of its own. (The full comparison runs in `npm run e2e`.)
import { describe, expect, it } from 'vitest';
import { digits04, digits59, digits59Scratch } from '../../examples/mnist-finetune.ts';
import { planInit } from '../../compiler/train/init.ts';
import { createSession, sessionGraphs } from '../../compiler/train/session.ts';

describe('examples/mnist-finetune.ts', () => {
  it('loads and freezes the convolutions, starts a new classifier, and trains only that', async () => {
    const pre = await createSession(digits04, { target: 'interp' });
    const fine = await createSession(digits59, { target: 'interp' });
    const { report } = planInit(fine.params(), pre.params());
    const convs = [
      'conv2d_1/bias',
      'conv2d_1/kernel',
      'conv2d_2/bias',
      'conv2d_2/kernel',
      'conv2d_3/bias',
      'conv2d_3/kernel',
    ];
    expect([...report.loaded].sort()).toEqual(convs);
    expect([...report.initialized].sort()).toEqual([
      'top_5_9_classes/bias',
      'top_5_9_classes/kernel',
      'top_5_9_hidden/bias',
      'top_5_9_hidden/kernel',
    ]);
    expect(
      report.skipped
        .filter((s) => s.why === 'the model has no such param')
        .map((s) => s.name)
        .sort(),
    ).toEqual(['top_0_4_classes/bias', 'top_0_4_classes/kernel', 'top_0_4_hidden/bias', 'top_0_4_hidden/kernel']);
    const updated = (g: ReturnType<typeof sessionGraphs>['train']): string[] =>
      g.assigns
        .map((a) => a.param.name)
        .filter((n) => !n.includes('/adam_') && n !== 'optimizer/iterations')
        .sort();
    expect(updated(sessionGraphs(digits59).train)).toEqual([
      'top_5_9_classes/bias',
      'top_5_9_classes/kernel',
      'top_5_9_hidden/bias',
      'top_5_9_hidden/kernel',
    ]);
    expect(updated(sessionGraphs(digits59Scratch).train)).toEqual(
      [
        ...convs,
        'top_5_9_classes/bias',
        'top_5_9_classes/kernel',
        'top_5_9_hidden/bias',
        'top_5_9_hidden/kernel',
      ].sort(),
    );
    const data = await digits59.def.dataset!();
    for (const split of [data.train, data.test]) expect(new Set(split.columns.y)).toEqual(new Set([5, 6, 7, 8, 9]));
  });
});
