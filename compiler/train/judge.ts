// Judging a generative model with a classifier: generate images from drawn inputs, have a trained
// classifier (the MNIST CNN) label them, and report how many it labels confidently and how the
// labels spread over the classes (mode collapse shows as one class taking most samples).
import type { Column } from '../data/dataset.ts';
import type { Model } from '../dsl/model.ts';
import type { Session } from './loop.ts';
import { drawInputs, scheduleOf, withAverages, type ProgramSession } from './schedule.ts';

/** `count` outputs of the scheduled model's `infer` entry, from inputs drawn with `seed` (batches back
 *  to back), with the params' moving averages where the optimizer keeps them (unless `averaged` is false). */
export function generate(
  session: ProgramSession,
  model: Model,
  count: number,
  seed: number,
  averaged = true,
): Float32Array {
  const schedule = scheduleOf(model);
  const chunks: Column[] = [];
  withAverages(
    session,
    () => {
      for (let call = 0; call * session.batch < count; call++)
        chunks.push(Object.values(session.run('infer', drawInputs(session, 'infer', schedule, seed, call)))[0]!);
    },
    averaged,
  );
  const all = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
  chunks.forEach((c, i) => all.set(c, i * c.length));
  return all.slice(0, (all.length / (chunks.length * session.batch)) * count);
}

export interface Judgement {
  readonly samples: number;
  /** Fraction of samples whose top class has probability >= `threshold`. */
  readonly confident: number;
  readonly threshold: number;
  /** Fraction of samples per predicted class. */
  readonly spread: readonly number[];
  /** The largest entry of `spread`. */
  readonly largestClass: number;
}

/** Classifies `images` (back to back, the classifier's input layout) in the classifier's batches; its output must be class probabilities. */
export function judge(
  classifier: Session,
  input: string,
  images: Float32Array,
  count: number,
  threshold = 0.9,
): Judgement {
  const per = images.length / count;
  const batch = classifier.batch;
  let confident = 0;
  let classes = 0;
  let counts: number[] = [];
  for (let from = 0; from < count; from += batch) {
    const x = new Float32Array(batch * per);
    const n = Math.min(batch, count - from);
    x.set(images.subarray(from * per, (from + n) * per));
    const probs = Object.values(classifier.predict({ [input]: x }))[0]!;
    classes = probs.length / batch;
    if (counts.length === 0) counts = new Array<number>(classes).fill(0);
    for (let b = 0; b < n; b++) {
      const row = probs.subarray(b * classes, (b + 1) * classes);
      let best = 0;
      for (let c = 1; c < classes; c++) if (row[c]! > row[best]!) best = c;
      counts[best]!++;
      if (row[best]! >= threshold) confident++;
    }
  }
  const spread = counts.map((c) => c / count);
  return { samples: count, confident: confident / count, threshold, spread, largestClass: Math.max(...spread) };
}
