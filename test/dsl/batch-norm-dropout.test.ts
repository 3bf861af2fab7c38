// BatchNorm (batch statistics + in-place running statistics in training, running statistics in
// inference) against PyTorch; dropout's counter-based masks.
import { describe, expect, test } from 'vitest';
import { nn, trace } from '../../compiler/index.ts';
import { f32, expectClose, fixture, fx, infer, model1, trainForward } from './helpers.ts';

describe('batchNorm', () => {
  const c = fixture('batch-norm').batch_norm!;
  const params = {
    'bn/gamma': fx(c.gamma!),
    'bn/beta': fx(c.beta!),
    'bn/moving_mean': fx(c.moving_mean!),
    'bn/moving_variance': fx(c.moving_variance!),
  };
  const layer = nn.batchNorm({ name: 'bn' });

  test('training: batch statistics, running statistics moved with momentum 0.99', () => {
    const r = trainForward(model1(c.x!.shape, layer), fx(c.x!), params);
    expectClose(Object.values(r.outputs)[0]!.data, c.y_train!.data, 1e-5);
    expectClose(r.assigns['bn/moving_mean']!.data, c.new_moving_mean!.data);
    expectClose(r.assigns['bn/moving_variance']!.data, c.new_moving_variance!.data);
  });

  test('inference: running statistics', () => {
    expectClose(infer(model1(c.x!.shape, layer), fx(c.x!), params).data, c.y_infer!.data, 1e-5);
  });

  test('running stats are not trainable; gamma and beta are', () => {
    const m = model1(c.x!.shape, layer);
    const t = trace(
      { ...m, def: { ...m.def, train: { loss: (o) => o.y!.sum(), optimizer: { kind: 'sgd' } as never } } },
      { mode: 'train' },
    );
    expect(t.trainable.map((p) => p.name)).toEqual(['bn/gamma', 'bn/beta']);
    expect(t.stateUpdates.map((a) => a.param.name)).toEqual(['bn/moving_mean', 'bn/moving_variance']);
  });
});

describe('dropout', () => {
  const x = f32(
    [4, 50],
    Array.from({ length: 200 }, () => 1),
  );

  test('is the identity in inference', () => {
    expectClose(infer(model1([4, 50], nn.dropout(0.5)), x).data, x.data);
  });

  test('zeroes about rate of the values, scales the rest by 1/(1-rate), and moves its counter', () => {
    const m = model1([4, 50], nn.dropout(0.25, { name: 'drop' }));
    const r = trainForward(m, x, { 'drop/counter': { type: { dtype: 'i32', shape: [] }, data: new Int32Array([7]) } });
    const y = [...Object.values(r.outputs)[0]!.data];
    const zeros = y.filter((v) => v === 0).length;
    expect(y.every((v) => v === 0 || Math.abs(v - 1 / 0.75) < 1e-6)).toBe(true);
    expect(zeros).toBeGreaterThan(30); // 200 draws at p = 0.25: 50 expected
    expect(zeros).toBeLessThan(70);
    expect([...r.assigns['drop/counter']!.data]).toEqual([8]);
  });

  test('a layer applied twice in one step draws two masks and moves its counter twice', () => {
    const d = nn.dropout(0.5, { name: 'twice' });
    const m = model1([4, 50], ({ x }) => d(x!).sub(d(x!)));
    const r = trainForward(m, x);
    expect([...Object.values(r.outputs)[0]!.data].some((v) => v !== 0)).toBe(true);
    expect([...r.assigns['twice/counter']!.data]).toEqual([2]);
  });

  test('noiseShape [null, 1] drops whole rows: one draw per row, shared along the row', () => {
    const xs = f32(
      [64, 50],
      Array.from({ length: 3200 }, () => 1),
    );
    const m = model1([64, 50], nn.dropout(0.5, { noiseShape: [null, 1] }));
    const y = [...Object.values(trainForward(m, xs).outputs)[0]!.data];
    const rows = Array.from({ length: 64 }, (_, i) => y.slice(i * 50, (i + 1) * 50));
    for (const row of rows) expect(new Set(row).size).toBe(1);
    const dropped = rows.filter((r) => r[0] === 0).length;
    expect(dropped).toBeGreaterThan(16); // 64 draws at p = 0.5: 32 expected
    expect(dropped).toBeLessThan(48);
    expect(rows.every((r) => r[0] === 0 || r[0] === 2)).toBe(true);
  });

  test('a noiseShape that does not fit the input is a K2002', () => {
    for (const noiseShape of [[null], [null, 7], [2, 1]])
      expect(() => trainForward(model1([4, 50], nn.dropout(0.5, { noiseShape })), x)).toThrow(/K2002.*noiseShape/);
  });
});
