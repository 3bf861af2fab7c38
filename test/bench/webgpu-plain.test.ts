// The WebGPU bench page's case transport (bench/peers/webgpu-plain.ts): a case survives toPlain ->
// JSON -> fromPlain with its typed arrays' types and values.
import { describe, expect, it } from 'vitest';
import { casesOf } from '../../bench/cases.ts';
import { fromPlain, toPlain } from '../../bench/peers/webgpu-plain.ts';

describe('bench: cases as plain JSON for the WebGPU page', () => {
  it('a cnn-train case round-trips, Float32Array and Int32Array kept', () => {
    const c = casesOf('cnn-train', 7)[0]!;
    const back = fromPlain(JSON.parse(JSON.stringify(toPlain(c)))) as typeof c;
    expect(back).toEqual(c);
    if (c.kind !== 'train' || back.kind !== 'train') throw new Error('expected a training case');
    expect(back.x.data).toBeInstanceOf(Float32Array);
    expect(back.labels!.data).toBeInstanceOf(Int32Array);
    expect(back.weights[0]![0]!.data).toBeInstanceOf(Float32Array);
  });
});
