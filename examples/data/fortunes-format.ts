// The byte layout of examples/data/fortunes.bin.gz (written by scripts/make-fortunes.ts), before gzip:
//   "KFT1", u32 header length, header JSON { classes, seqLen, vocabSize, seed, vocab, train, test },
//   then per split (train, test): u8 labels[n], u8 lengths[n], u16 ids[sum of lengths] (little endian).
// `vocab` lists the words of ids 2, 3, ...; 0 is padding and 1 an unknown word.

/** The ten largest category files of Debian's fortunes, by size; a text's label is its index here. */
export const CLASSES = ['people', 'definitions', 'cookie', 'computers', 'songs-poems', 'politics', 'miscellaneous', 'work', 'science', 'men-women'] as const;
export const SEQ_LEN = 50;
/** Padding, unknown and the 9,998 most frequent training words. */
export const VOCAB = 10000;
export const PAD = 0;
export const UNKNOWN = 1;

export interface FortuneSplit {
  readonly labels: Uint8Array;
  /** Tokens kept per text (at most SEQ_LEN). */
  readonly lengths: Uint8Array;
  /** The texts' token ids back to back, unpadded. */
  readonly ids: Uint16Array;
}

export interface FortuneData {
  readonly seed: number;
  readonly vocab: readonly string[];
  readonly train: FortuneSplit;
  readonly test: FortuneSplit;
}

const MAGIC = 'KFT1';

export function encodeFortunes(d: FortuneData): Uint8Array {
  const header = new TextEncoder().encode(JSON.stringify({ classes: CLASSES, seqLen: SEQ_LEN, vocabSize: VOCAB, seed: d.seed, vocab: d.vocab, train: d.train.labels.length, test: d.test.labels.length }));
  const parts: Uint8Array[] = [new TextEncoder().encode(MAGIC), new Uint8Array(new Uint32Array([header.length]).buffer), header];
  for (const s of [d.train, d.test]) parts.push(s.labels, s.lengths, new Uint8Array(s.ids.buffer, s.ids.byteOffset, s.ids.byteLength));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function decodeFortunes(bytes: Uint8Array): FortuneData {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (new TextDecoder().decode(bytes.subarray(0, 4)) !== MAGIC) throw new Error(`fortunes: not a ${MAGIC} file; rebuild it with scripts/make-fortunes.ts`);
  const headerLength = view.getUint32(4, true);
  let at = 8 + headerLength;
  const h = JSON.parse(new TextDecoder().decode(bytes.subarray(8, at))) as { seed: number; vocab: string[]; train: number; test: number; seqLen: number; vocabSize: number };
  if (h.seqLen !== SEQ_LEN || h.vocabSize !== VOCAB) throw new Error(`fortunes: the file has sequences of ${h.seqLen} over ${h.vocabSize} ids, expected ${SEQ_LEN} over ${VOCAB}`);
  const take = (n: number): FortuneSplit => {
    const labels = bytes.slice(at, at + n);
    const lengths = bytes.slice(at + n, at + 2 * n);
    at += 2 * n;
    const total = lengths.reduce((a, b) => a + b, 0);
    const ids = new Uint16Array(total);
    for (let i = 0; i < total; i++) ids[i] = view.getUint16(at + 2 * i, true);
    at += 2 * total;
    return { labels, lengths, ids };
  };
  const train = take(h.train);
  const test = take(h.test);
  if (at !== bytes.length) throw new Error(`fortunes: ${bytes.length - at} trailing bytes; the file is damaged`);
  return { seed: h.seed, vocab: h.vocab, train, test };
}
