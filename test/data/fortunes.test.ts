// The committed fortunes dataset (examples/data/fortunes.bin.gz): its sizes, stratified split,
// vocabulary and padding as scripts/make-fortunes.ts documents them.
import { describe, expect, it } from 'vitest';
import { CLASSES, fortunesVocabulary, loadFortunes, SEQ_LEN, VOCAB } from '../../examples/data/fortunes.ts';
import { decodeFortunes, encodeFortunes } from '../../examples/data/fortunes-format.ts';

describe('fortunes topics', () => {
  const d = loadFortunes();
  const labels = (s: typeof d.train): number[] => [...(s.columns.y as Int32Array)];
  const counts = (ys: number[]): number[] => CLASSES.map((_, c) => ys.filter((y) => y === c).length);

  it('holds 8,549 texts of ten classes, split 80/20 within every class', () => {
    expect([d.train.size, d.test.size]).toEqual([6839, 1710]);
    const train = counts(labels(d.train));
    const test = counts(labels(d.test));
    for (let c = 0; c < CLASSES.length; c++)
      expect(Math.abs(train[c]! / (train[c]! + test[c]!) - 0.8)).toBeLessThan(0.005);
    expect(Math.max(...test) / d.test.size).toBeCloseTo(0.1462, 4); // the majority class, 'people'
    expect(test[0]).toBe(Math.max(...test));
  });

  it('pads each text in front to 50 ids below 10,000, with unknown words as 1', () => {
    const x = d.test.columns.x as Int32Array;
    expect(x.length).toBe(d.test.size * SEQ_LEN);
    let unknown = 0;
    for (let i = 0; i < d.test.size; i++) {
      const row = x.subarray(i * SEQ_LEN, (i + 1) * SEQ_LEN);
      const first = row.findIndex((v) => v !== 0);
      expect(first).toBeGreaterThanOrEqual(0);
      expect(row.subarray(first).every((v) => v > 0 && v < VOCAB)).toBe(true); // no padding after the text starts
      unknown += row.filter((v) => v === 1).length;
    }
    expect(unknown).toBeGreaterThan(0);
    const vocab = fortunesVocabulary();
    expect(vocab).toHaveLength(VOCAB);
    expect(vocab.slice(0, 4)).toEqual(['<pad>', '<unk>', '.', ',']); // the most frequent training tokens: punctuation split off
    expect(vocab.every((w) => w === w.toLowerCase())).toBe(true);
  });

  it('its byte format round-trips', () => {
    const s = { labels: Uint8Array.of(1, 2), lengths: Uint8Array.of(2, 1), ids: Uint16Array.of(5, 9999, 1) };
    const back = decodeFortunes(encodeFortunes({ seed: 3, vocab: ['a', 'b'], train: s, test: s }));
    expect(back.vocab).toEqual(['a', 'b']);
    expect([...back.test.ids]).toEqual([5, 9999, 1]);
    expect(() => decodeFortunes(Uint8Array.of(1, 2, 3, 4, 0, 0, 0, 0))).toThrow(/not a KFT1 file/);
  });
});
