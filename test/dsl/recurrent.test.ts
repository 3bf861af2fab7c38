// SimpleRNN, LSTM and GRU against PyTorch (weights converted to Keras' layouts and gate orders).
import { describe, expect, test } from 'vitest';
import { inferGraph, nn, type Layer } from '../../compiler/index.ts';
import { initParams } from '../../ir/init.ts';
import { expectClose, f32, fixture, fx, infer, model1 } from './helpers.ts';

const rec = fixture('recurrent');
const make: Record<string, (units: number, o: { returnSequences?: boolean; name: string }) => Layer> = {
  simple_rnn: nn.simpleRNN,
  lstm: nn.lstm,
  gru: nn.gru,
};

describe('recurrent layers', () => {
  for (const kind of ['simple_rnn', 'lstm', 'gru']) {
    for (const returnSequences of [true, false]) {
      test(`${kind} (returnSequences ${returnSequences}) matches PyTorch`, () => {
        const c = rec[kind]!;
        const units = c.units as unknown as number;
        const layer = make[kind]!(units, { returnSequences, name: 'r' });
        const params = {
          'r/kernel': fx(c.kernel!),
          'r/recurrent_kernel': fx(c.recurrent_kernel!),
          'r/bias': fx(c.bias!),
        };
        const y = infer(model1(c.x!.shape, layer), fx(c.x!), params);
        const want = returnSequences ? c.sequences! : c.last!;
        expect(y.type.shape).toEqual(want.shape);
        expectClose(y.data, want.data, 1e-5);
      });
    }
  }

  test('LSTM starts its forget-gate bias at 1 and its recurrent kernel orthogonal', () => {
    const g = inferGraph(model1([1, 2, 3], nn.lstm(2, { name: 'l' })));
    const p = initParams(g);
    expect([...p['l/bias']!.data]).toEqual([0, 0, 1, 1, 0, 0, 0, 0]);
    const u = p['l/recurrent_kernel']!.data; // [2, 8]: its rows are orthonormal
    const dot = (i: number, j: number): number =>
      Array.from({ length: 8 }, (_, c) => u[i * 8 + c]! * u[j * 8 + c]!).reduce((a, b) => a + b);
    expectClose([dot(0, 0), dot(0, 1), dot(1, 1)], [1, 0, 1], 1e-5);
  });

  test("GRU with resetAfter: false follows Keras' reset_after=False formula, with one bias", () => {
    const [batch, time, features, units] = [2, 4, 3, 5];
    const n = 3 * units;
    const wave = (len: number, seed: number): number[] =>
      Array.from({ length: len }, (_, i) => 0.5 * Math.sin(seed * 7.1 + i * 1.37));
    const [x, w, u, b] = [wave(batch * time * features, 1), wave(features * n, 2), wave(units * n, 3), wave(n, 4)];
    const layer = nn.gru(units, { returnSequences: true, resetAfter: false, name: 'r' });
    const g = inferGraph(model1([batch, time, features], layer));
    expect(g.params.find((p) => p.name === 'r/bias')!.type.shape).toEqual([n]);
    const y = infer(model1([batch, time, features], layer), f32([batch, time, features], x), {
      'r/kernel': f32([features, n], w),
      'r/recurrent_kernel': f32([units, n], u),
      'r/bias': f32([n], b),
    });
    // The formula written out over plain arrays: z, r, h~ gate blocks of `units` columns each.
    const sig = (v: number): number => 1 / (1 + Math.exp(-v));
    const want: number[] = [];
    for (let bi = 0; bi < batch; bi++) {
      let h = new Array<number>(units).fill(0);
      for (let t = 0; t < time; t++) {
        const xw = (col: number): number =>
          b[col]! +
          Array.from({ length: features }, (_, f) => x[(bi * time + t) * features + f]! * w[f * n + col]!).reduce(
            (a, c) => a + c,
          );
        const hu = (v: number[], col: number): number => v.reduce((a, hv, j) => a + hv * u[j * n + col]!, 0);
        const z = h.map((_, j) => sig(xw(j) + hu(h, j)));
        const r = h.map((_, j) => sig(xw(units + j) + hu(h, units + j)));
        const rh = h.map((hv, j) => r[j]! * hv);
        const cand = h.map((_, j) => Math.tanh(xw(2 * units + j) + hu(rh, 2 * units + j)));
        h = h.map((hv, j) => z[j]! * hv + (1 - z[j]!) * cand[j]!);
        want.push(...h);
      }
    }
    expectClose(y.data, want, 1e-5);
  });

  test('stacked LSTMs compose (sequences into the next layer)', () => {
    const m = model1([2, 5, 3], nn.sequential([nn.lstm(4, { returnSequences: true }), nn.lstm(3)]));
    const g = inferGraph(m);
    expect(g.outputs[0]!.value.type.shape).toEqual([2, 3]);
  });
});
