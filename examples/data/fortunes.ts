// Topic classification of Debian's fortunes (examples/data/fortunes.bin.gz, made by
// scripts/make-fortunes.ts): 8,549 texts of the ten largest categories, split 6,839 train / 1,710
// test (stratified, fixed seed). Column x holds 50 token ids per text (padding 0 in front, so a
// recurrent layer's last step is the text's last token; longer texts keep their first 50 tokens),
// column y the category (CLASSES' index). Majority-class accuracy on the test split: 0.1462.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { Dataset, Split } from '../../compiler/data/dataset.ts';
import { decodeFortunes, SEQ_LEN, type FortuneSplit } from './fortunes-format.ts';

export { CLASSES, SEQ_LEN, VOCAB } from './fortunes-format.ts';

const FILE = new URL('fortunes.bin.gz', import.meta.url);

function padded(s: FortuneSplit): Split {
  const n = s.labels.length;
  const x = new Int32Array(n * SEQ_LEN);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const len = s.lengths[i]!;
    x.set(s.ids.subarray(at, at + len), (i + 1) * SEQ_LEN - len);
    at += len;
  }
  return { size: n, columns: { x, y: Int32Array.from(s.labels) } };
}

export function loadFortunes(): Dataset {
  const d = decodeFortunes(gunzipSync(readFileSync(FILE)));
  return { name: 'fortunes', train: padded(d.train), test: padded(d.test) };
}

/** The words of ids 0.. (padding and unknown as '<pad>' and '<unk>'). */
export function fortunesVocabulary(): string[] {
  return ['<pad>', '<unk>', ...decodeFortunes(gunzipSync(readFileSync(FILE))).vocab];
}
