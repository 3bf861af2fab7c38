// What an implementation provides to the harness.
import type { Case } from '../cases.ts';
import { summarize, type Summary, type Timed } from '../harness.ts';

/** An in-process prepared case: `run` does one full call (inference, matmul or training step) and
 *  returns its output (probabilities, the product, or the step's loss) as it is visible to the caller. */
export interface Runner {
  run(): Promise<ArrayLike<number>> | ArrayLike<number>;
  /** Untimed, before each call: brings shared library state back to this runner (tfjs's backend),
   *  since the rounds interleave its calls with other impls'. */
  before?(): Promise<void> | void;
  dispose?(): void;
}

/** A case prepared on one impl, ready for the rounds of harness.ts's measureRounds. */
export interface Prepared extends Timed {
  /** Summary of the first call's output (undefined before the first call), to cross-check impls. */
  first(): Summary | undefined;
  dispose(): Promise<void> | void;
}

export interface Impl {
  readonly name: string;
  /** Threads it computes with. */
  readonly threads: number;
  /** The impl on `n` threads (bench --threads), or why it cannot run on them here. */
  threaded?(n: number): Impl | string;
  /** Loads the library; throws (with the reason) when it is absent. */
  load(): Promise<void>;
  /** Prepares one case (model built, weights and inputs in place); throws (with the op or feature
   *  missing) when the impl cannot run it. */
  prepare(c: Case): Promise<Prepared>;
  /** Why this impl is not run on a case unless the bench is run with --slow (a step takes minutes). */
  slowReason?(c: Case): string | undefined;
  close?(): Promise<void>;
}

/** An in-process runner as a Prepared: each call timed around `run` alone. Only the first call's
 *  output is summarized (right away, untimed: a runner may return a view that later calls overwrite). */
export function inProcess(r: Runner): Prepared {
  let first: Summary | undefined;
  return {
    async call() {
      await r.before?.();
      const t0 = performance.now();
      const out = await r.run();
      const ms = performance.now() - t0;
      first ??= summarize(out);
      return ms;
    },
    first: () => first,
    dispose: () => r.dispose?.(),
  };
}
