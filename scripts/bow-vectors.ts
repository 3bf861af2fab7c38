// `npx tsx scripts/bow-vectors.ts BOW.safetensors OUT.safetensors`: the bag-of-words MLP's first
// layer (examples/text-bow.ts, `kiln train --save`) as word vectors for the recurrent text
// classifiers (examples/text-classifier.ts). Its kernel [10000, 64] holds one row per token id, the
// same table as the classifiers' Embedding, so OUT holds that one tensor under the Embedding's
// name, for `kiln train examples/text-lstm.ts --init OUT --freeze word_vectors`.
import { readFileSync, writeFileSync } from 'node:fs';
import { fail } from '../ir/errors.ts';
import { decodeSafetensors, encodeSafetensors, type NamedArray } from '../runtime/safetensors.ts';
import { WORD_VECTORS_PARAM } from '../examples/text-classifier.ts';

/** The bag-of-words model's first-layer kernel (text-bow.ts's param name). */
export const BOW_KERNEL = 'bag_of_words_1/kernel';

/** The word vectors of saved bag-of-words weights, named for the text classifiers' Embedding. */
export function bowWordVectors(
  bow: Readonly<Record<string, NamedArray>>,
  file = 'the weights',
): Record<string, NamedArray> {
  const kernel = bow[BOW_KERNEL];
  if (kernel === undefined)
    fail('K7011', `${file} holds no '${BOW_KERNEL}': save them with kiln train examples/text-bow.ts --save DIR`);
  return { [WORD_VECTORS_PARAM]: kernel };
}

/** Reads the bag-of-words weights in `from` and writes their word vectors to `to`. */
export function writeBowWordVectors(from: string, to: string): void {
  const { tensors } = decodeSafetensors(readFileSync(from), from);
  writeFileSync(to, encodeSafetensors(bowWordVectors(tensors, from), { source: from }));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [from, to] = process.argv.slice(2);
  if (from === undefined || to === undefined) {
    process.stderr.write('usage: npx tsx scripts/bow-vectors.ts BOW.safetensors OUT.safetensors\n');
    process.exitCode = 2;
  } else writeBowWordVectors(from, to);
}
