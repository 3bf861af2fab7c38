// Datasets for `kiln train`: per-example arrays by input name, split into train and test,
// streamed as shuffled batches. Shuffling is seeded so a run is reproducible.
import { mix32 } from '../../ir/random.ts';

export type Column = Float32Array | Int32Array;

export interface Split {
  readonly size: number;
  /** Name -> values of all examples back to back (size * prod(example shape)). Names match the
   *  model's inputs and targets. */
  readonly columns: Readonly<Record<string, Column>>;
}

export interface Dataset {
  readonly name: string;
  readonly train: Split;
  readonly test: Split;
  /** Held out from training to watch for overfitting (early stopping); else `kiln train
   *  --validation-split` or the model's `train.validationSplit` holds out part of `train`. */
  readonly validation?: Split;
}

/** A permutation of 0..n-1 from (seed, epoch): Fisher-Yates driven by the counter-based hash. */
export function permutation(n: number, seed: number, epoch = 0): Int32Array {
  const p = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = mix32((mix32(seed ^ mix32(epoch)) + i) >>> 0) % (i + 1);
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

/** The examples at `order[from..from+count)` of a split, gathered into batch arrays. */
export function gatherBatch(
  split: Split,
  order: ArrayLike<number>,
  from: number,
  count: number,
): Record<string, Column> {
  const out: Record<string, Column> = {};
  for (const [name, col] of Object.entries(split.columns)) {
    const per = col.length / split.size;
    const dst = col instanceof Float32Array ? new Float32Array(count * per) : new Int32Array(count * per);
    for (let b = 0; b < count; b++) {
      const src = order[from + b]! * per;
      dst.set(col.subarray(src, src + per), b * per);
    }
    out[name] = dst;
  }
  return out;
}

/** Shuffled full batches of one epoch (the last partial batch is dropped: the compiled batch size is static). */
export function* batches(split: Split, batch: number, seed: number, epoch: number): Generator<Record<string, Column>> {
  const order = permutation(split.size, seed, epoch);
  for (let from = 0; from + batch <= split.size; from += batch) yield gatherBatch(split, order, from, batch);
}

/** Splits examples into train and test parts by a seeded permutation. */
export function splitDataset(name: string, all: Split, trainSize: number, seed: number): Dataset {
  const order = permutation(all.size, seed, -1);
  const take = (from: number, count: number): Split => ({ size: count, columns: gatherBatch(all, order, from, count) });
  return { name, train: take(0, trainSize), test: take(trainSize, all.size - trainSize) };
}

/** Holds out `fraction` of a training split for validation: a fixed permutation (the same whatever
 *  the run's seed, so runs with different seeds validate on the same examples) picks the examples. */
export function holdOut(train: Split, fraction: number): { train: Split; validation: Split } {
  const held = Math.round(train.size * fraction);
  const order = permutation(train.size, 0x5eed, -2);
  const take = (from: number, count: number): Split => ({
    size: count,
    columns: gatherBatch(train, order, from, count),
  });
  return { train: take(held, train.size - held), validation: take(0, held) };
}
