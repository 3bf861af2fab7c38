// SimpleRNN, LSTM and GRU against PyTorch (weights converted to Keras' layouts and gate orders).
import { describe, expect, test } from 'vitest';
import { inferGraph, nn, type Layer } from '../../compiler/index.ts';
import { initParams } from '../../ir/init.ts';
import { expectClose, fixture, fx, infer, model1 } from './helpers.ts';

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
        const params = { 'r/kernel': fx(c.kernel!), 'r/recurrent_kernel': fx(c.recurrent_kernel!), 'r/bias': fx(c.bias!) };
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
    const dot = (i: number, j: number): number => Array.from({ length: 8 }, (_, c) => u[i * 8 + c]! * u[j * 8 + c]!).reduce((a, b) => a + b);
    expectClose([dot(0, 0), dot(0, 1), dot(1, 1)], [1, 0, 1], 1e-5);
  });

  test('stacked LSTMs compose (sequences into the next layer)', () => {
    const m = model1([2, 5, 3], nn.sequential([nn.lstm(4, { returnSequences: true }), nn.lstm(3)]));
    const g = inferGraph(m);
    expect(g.outputs[0]!.value.type.shape).toEqual([2, 3]);
  });
});
