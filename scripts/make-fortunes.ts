// Prepares examples/data/fortunes.bin.gz, the topic-classification text dataset, from Debian's
// `fortunes` package (`apt-get install -y fortunes`): the ten largest category files of
// /usr/share/games/fortunes/*.u8, texts separated by lines holding `%`. Each text becomes word-level
// tokens (lower-cased, punctuation split off); a stratified 80/20 split by a fixed seed; a
// vocabulary of the 9,998 most frequent training words (ties alphabetically) after padding (0) and
// unknown (1); each text cut to its first 50 tokens. The loader (examples/data/fortunes.ts) pads.
//
//   npx tsx scripts/make-fortunes.ts [/usr/share/games/fortunes]
//
// It prints the split sizes, the majority-class accuracy of the test split, the token-count
// quantiles and, as a reference, a multinomial naive Bayes over the same cut token ids.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { permutation } from '../compiler/data/dataset.ts';
import { CLASSES, encodeFortunes, SEQ_LEN, VOCAB, type FortuneSplit } from '../examples/data/fortunes-format.ts';

const SEED = 14;
const TRAIN_FRACTION = 0.8;
const OUT = new URL('../examples/data/fortunes.bin.gz', import.meta.url).pathname;

/** Lower-cased words (letters and digits, inner apostrophes kept: "don't") and single punctuation marks. */
const tokenize = (text: string): string[] =>
  text.toLowerCase().match(/[\p{L}\p{N}]+(?:'[\p{L}\p{N}]+)*|[^\s\p{L}\p{N}]/gu) ?? [];

function readTexts(dir: string, category: string): string[] {
  const raw = readFileSync(join(dir, `${category}.u8`), 'utf8');
  return raw
    .split(/^%$/m)
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
}

interface Text {
  readonly label: number;
  readonly tokens: string[];
}

function split(texts: readonly Text[]): { train: Text[]; test: Text[] } {
  const train: Text[] = [];
  const test: Text[] = [];
  CLASSES.forEach((_, label) => {
    const mine = texts.filter((t) => t.label === label);
    const order = permutation(mine.length, SEED, label);
    const cut = Math.round(mine.length * TRAIN_FRACTION);
    order.forEach((i, rank) => (rank < cut ? train : test).push(mine[i]!));
  });
  return { train, test };
}

function vocabulary(train: readonly Text[]): string[] {
  const counts = new Map<string, number>();
  for (const t of train) for (const w of t.tokens) counts.set(w, (counts.get(w) ?? 0) + 1);
  const words = [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([w]) => w);
  return words.slice(0, VOCAB - 2);
}

function encode(texts: readonly Text[], ids: ReadonlyMap<string, number>): FortuneSplit {
  const cut = texts.map((t) => t.tokens.slice(0, SEQ_LEN).map((w) => ids.get(w) ?? 1));
  return {
    labels: Uint8Array.from(texts, (t) => t.label),
    lengths: Uint8Array.from(cut, (c) => c.length),
    ids: Uint16Array.from(cut.flat()),
  };
}

/** Multinomial naive Bayes (Laplace smoothing) over the token ids, unknown included, padding not. */
function naiveBayes(train: FortuneSplit, test: FortuneSplit): number {
  const k = CLASSES.length;
  const counts = Array.from({ length: k }, () => new Float64Array(VOCAB));
  const totals = new Float64Array(k);
  const prior = new Float64Array(k);
  let at = 0;
  train.labels.forEach((c, i) => {
    prior[c]!++;
    for (let j = 0; j < train.lengths[i]!; j++) counts[c]![train.ids[at + j]!]!++;
    totals[c]! += train.lengths[i]!;
    at += train.lengths[i]!;
  });
  let correct = 0;
  at = 0;
  test.labels.forEach((label, i) => {
    let best = -1;
    let bestScore = -Infinity;
    for (let c = 0; c < k; c++) {
      let s = Math.log(prior[c]! / train.labels.length);
      for (let j = 0; j < test.lengths[i]!; j++)
        s += Math.log((counts[c]![test.ids[at + j]!]! + 1) / (totals[c]! + VOCAB));
      if (s > bestScore) [best, bestScore] = [c, s];
    }
    if (best === label) correct++;
    at += test.lengths[i]!;
  });
  return correct / test.labels.length;
}

const quantile = (xs: readonly number[], q: number): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))]!;

function main(): void {
  const dir = process.argv[2] ?? '/usr/share/games/fortunes';
  const texts: Text[] = CLASSES.flatMap((c, label) => readTexts(dir, c).map((t) => ({ label, tokens: tokenize(t) })));
  const { train, test } = split(texts);
  const vocab = vocabulary(train);
  const ids = new Map(vocab.map((w, i) => [w, i + 2]));
  const data = { seed: SEED, vocab, train: encode(train, ids), test: encode(test, ids) };
  const bytes = gzipSync(encodeFortunes(data), { level: 9 });
  writeFileSync(`${OUT}.tmp`, bytes);
  renameSync(`${OUT}.tmp`, OUT);

  const perClass = CLASSES.map((_, c) => test.filter((t) => t.label === c).length);
  const lengths = texts.map((t) => t.tokens.length);
  const unknown = data.test.ids.filter((i) => i === 1).length / data.test.ids.length;
  process.stdout.write(
    `wrote ${OUT} (${bytes.length} bytes): ${texts.length} texts, ${train.length} train / ${test.length} test\n` +
      `classes: ${CLASSES.map((c, i) => `${c} ${perClass[i]}`).join(', ')} (test split)\n` +
      `majority-class accuracy (test): ${(Math.max(...perClass) / test.length).toFixed(4)}\n` +
      `tokens per text: median ${quantile(lengths, 0.5)}, 90th percentile ${quantile(lengths, 0.9)}; unknown ids in test: ${(100 * unknown).toFixed(1)}%\n` +
      `naive Bayes over the cut token ids (test): ${naiveBayes(data.train, data.test).toFixed(4)}\n`,
  );
}

main();
