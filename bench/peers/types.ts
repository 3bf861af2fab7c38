// What an implementation provides to the harness.
import type { Case } from '../cases.ts';
import { measure, summarize, type Summary, type TimingPolicy } from '../harness.ts';

/** A prepared case: `run` does one full call (inference, matmul or training step) and returns its
 *  output (probabilities, the product, or the step's loss) as it is visible to the caller. */
export interface Runner {
  run(): Promise<ArrayLike<number>> | ArrayLike<number>;
  dispose?(): void;
}

export interface Measured {
  readonly median_ms: number;
  readonly runs: number;
  /** Summary of the first call's output, to cross-check implementations. */
  readonly first: Summary;
}

export interface Impl {
  readonly name: string;
  /** Threads it computes with (every impl is set to one). */
  readonly threads: number;
  /** Loads the library; throws (with the reason) when it is absent. */
  load(): Promise<void>;
  /** Times one case; throws (with the op or feature missing) when the impl cannot run it. */
  bench(c: Case, policy: TimingPolicy): Promise<Measured>;
  /** Why this impl is not run on a case unless the bench is run with --slow (a step takes minutes). */
  slowReason?(c: Case): string | undefined;
  close?(): Promise<void>;
}

/** An in-process impl: prepare a runner, then time it with the shared protocol. Only the first
 *  call's output is summarized (right away: a runner may return a view that later calls overwrite). */
export async function timeRunner(prepare: () => Promise<Runner>, policy: TimingPolicy): Promise<Measured> {
  const r = await prepare();
  try {
    let first: Summary | undefined;
    const { median_ms, runs } = await measure(async () => {
      const out = await r.run();
      first ??= summarize(out);
    }, policy);
    return { median_ms, runs, first: first! };
  } finally {
    r.dispose?.();
  }
}
