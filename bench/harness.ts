// The bench's helpers: statistics, the timing protocol (warm-up stopping rule, interleaved rounds),
// output summaries for cross-checking implementations, and the JSON line and ratio formats. No peer code here.

/** One row of a suite: an implementation on a case. */
export interface Row {
  readonly suite: string;
  readonly case: string;
  readonly impl: string;
  readonly threads: number;
  /** ok: measured; cannot: the impl lacks something this case needs; absent: the impl did not load;
   *  unavailable: kiln's own path failed; skipped: too slow to run without --slow (the reason says why). */
  readonly status: 'ok' | 'cannot' | 'absent' | 'unavailable' | 'skipped';
  readonly median_ms?: number;
  readonly gflops?: number;
  readonly runs?: number;
  /** Largest relative difference of this impl's first output from the reference impl's. */
  readonly diff?: number;
  readonly reason?: string;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('median: no samples');
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface TimingPolicy {
  /** Milliseconds of measured runs to aim for per impl, after the warm-up. */
  readonly budgetMs: number;
  readonly minRuns: number;
  readonly maxRuns: number;
  /** Milliseconds of warm-up calls per impl at least, not counting the first call (compiling,
   *  instantiating, tracing), and at least minWarmCalls calls: V8 tiers wasm up in the background,
   *  Liftoff code first and TurboFan later. */
  readonly warmMs: number;
  readonly minWarmCalls: number;
}

export const DEFAULT_POLICY: TimingPolicy = { budgetMs: 2000, minRuns: 3, maxRuns: 50, warmMs: 1000, minWarmCalls: 5 };

/** The policy of a `--budget`: the warm-up is a second, or the budget when it is shorter. */
export function policyFor(budgetMs: number): TimingPolicy {
  return { ...DEFAULT_POLICY, budgetMs, warmMs: Math.min(DEFAULT_POLICY.warmMs, budgetMs) };
}

/** How many measured runs an impl gets when a call takes `callMs`: enough to fill the budget, at least
 *  minRuns unless one run alone exceeds the budget (then a single run: slow peers must not stall the suite). */
export function runsFor(callMs: number, p: TimingPolicy = DEFAULT_POLICY): number {
  if (callMs >= p.budgetMs) return 1;
  return Math.max(p.minRuns, Math.min(p.maxRuns, Math.floor(p.budgetMs / Math.max(callMs, 1e-3))));
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

/** Whether call times are still falling (tier-up, caches settling): the median of the last third of
 *  the calls is more than 10% below the median of the third before it. */
export function stillFalling(times: readonly number[]): boolean {
  const k = Math.floor(times.length / 3);
  if (k === 0) return true;
  return median(times.slice(-k)) < 0.9 * median(times.slice(-2 * k, -k));
}

/** The warm-up's stopping rule, given the times of the warm-up calls so far: at least minWarmCalls
 *  calls and warmMs after the first call, and then until the times after the first stop falling (at
 *  most 4 warmMs). A slow impl stops as soon as its calls add up to 5 budgets (one call of a 40 s
 *  training step is warm-up enough). */
export function warmupDone(times: readonly number[], p: TimingPolicy = DEFAULT_POLICY): boolean {
  if (times.length > 0 && sum(times) >= 5 * p.budgetMs) return true;
  const settling = times.slice(1);
  if (times.length < p.minWarmCalls || sum(settling) < p.warmMs) return false;
  return sum(settling) >= 4 * p.warmMs || !stillFalling(settling);
}

/** A warmed-up call's time, from the warm-up: the median of its last third. */
export function callEstimate(warmTimes: readonly number[]): number {
  return median(warmTimes.slice(-Math.max(1, Math.floor(warmTimes.length / 3))));
}

/** Interleaved rounds: impl i's runs[i] calls spread evenly over max(runs) rounds (call j in round
 *  floor((j + 1/2) R / runs[i])), so a burst of load from other tenants hits every impl alike; each
 *  round lists the impls it calls, its order rotated by one per round so none always follows the same. */
export function schedule(runs: readonly number[]): number[][] {
  const R = Math.max(0, ...runs);
  const rounds: number[][] = Array.from({ length: R }, () => []);
  runs.forEach((n, i) => {
    for (let j = 0; j < n; j++) rounds[Math.floor(((j + 0.5) * R) / n)]!.push(i);
  });
  return rounds.map((r, k) => (r.length ? [...r.slice(k % r.length), ...r.slice(0, k % r.length)] : r));
}

/** One impl's prepared case as the protocol sees it: `call` does one full call and resolves to its
 *  time in milliseconds (taken by the impl itself: around the call in this process, or in PyTorch's). */
export interface Timed {
  call(): Promise<number>;
}

export interface Timing {
  readonly median_ms: number;
  readonly runs: number;
  /** Warm-up calls made before the measured runs. */
  readonly warmup: number;
}

/** The protocol for one case: warms each impl up in turn (warmupDone), then times all of them in
 *  interleaved rounds (schedule), each impl's runs from its warmed-up call time (runsFor). An impl
 *  whose call throws gets its error and drops out; the others go on. */
export async function measureRounds(
  impls: readonly Timed[],
  p: TimingPolicy = DEFAULT_POLICY,
  onWarm?: (i: number, times: readonly number[]) => void,
): Promise<(Timing | Error)[]> {
  const failed = new Map<number, Error>();
  const fail = (i: number, e: unknown): void => void failed.set(i, e instanceof Error ? e : new Error(String(e)));
  const warm: number[][] = impls.map(() => []);
  for (const [i, impl] of impls.entries()) {
    try {
      while (!warmupDone(warm[i]!, p)) warm[i]!.push(await impl.call());
      onWarm?.(i, warm[i]!);
    } catch (e) {
      fail(i, e);
    }
  }
  const samples: number[][] = impls.map(() => []);
  const rounds = schedule(impls.map((_, i) => (failed.has(i) ? 0 : runsFor(callEstimate(warm[i]!), p))));
  for (const round of rounds) {
    for (const i of round) {
      if (failed.has(i)) continue;
      try {
        samples[i]!.push(await impls[i]!.call());
      } catch (e) {
        fail(i, e);
      }
    }
  }
  return impls.map(
    (_, i) => failed.get(i) ?? { median_ms: median(samples[i]!), runs: samples[i]!.length, warmup: warm[i]!.length },
  );
}

/** A small fingerprint of an output: enough to tell two implementations apart without shipping it. */
export interface Summary {
  readonly n: number;
  readonly sum: number;
  readonly l1: number;
  /** Up to 16 elements at evenly spaced positions. */
  readonly sample: readonly number[];
}

export function summarize(x: ArrayLike<number>): Summary {
  let sum = 0;
  let l1 = 0;
  for (let i = 0; i < x.length; i++) {
    sum += x[i]!;
    l1 += Math.abs(x[i]!);
  }
  const k = Math.min(16, x.length);
  const sample = Array.from({ length: k }, (_, j) => x[Math.floor((j * x.length) / k)]!);
  return { n: x.length, sum, l1, sample };
}

/** Largest difference between two summaries, relative to the reference's scale; Infinity when
 *  the sizes differ or a value is not finite. */
export function summaryDiff(a: Summary, ref: Summary): number {
  if (a.n !== ref.n) return Infinity;
  const scale = Math.max(...ref.sample.map(Math.abs), ref.l1 / Math.max(ref.n, 1), 1e-12);
  let d = Math.abs(a.sum - ref.sum) / Math.max(ref.l1, 1e-12);
  a.sample.forEach((v, i) => {
    d = Math.max(d, Math.abs(v - ref.sample[i]!) / scale);
  });
  return Number.isFinite(d) ? d : Infinity;
}

/** GFLOP/s of `flops` floating-point operations done in `ms` milliseconds. */
export function gflops(flops: number, ms: number): number {
  return flops / (ms * 1e6);
}

/** kiln's time over a peer's ("0.83x" means kiln takes 83% of the peer's time); '-' when either is missing. */
export function formatRatio(kilnMs: number | undefined, peerMs: number | undefined): string {
  if (kilnMs === undefined || peerMs === undefined || !(peerMs > 0)) return '-';
  const r = kilnMs / peerMs;
  return `${r < 10 ? r.toFixed(2) : r.toFixed(1)}x`;
}

/** Milliseconds with 3 significant digits. */
export function formatMs(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(3);
}

/** The `--json` line of a row: suite, case, impl, threads, median_ms, gflops (null when it does not
 *  apply), status, and the optional details. */
export function jsonLine(r: Row): string {
  const out: Record<string, unknown> = {
    suite: r.suite,
    case: r.case,
    impl: r.impl,
    threads: r.threads,
    median_ms: r.median_ms === undefined ? null : round(r.median_ms, 4),
    gflops: r.gflops === undefined ? null : round(r.gflops, 3),
    status: r.status,
  };
  if (r.runs !== undefined) out.runs = r.runs;
  if (r.diff !== undefined) out.diff = Number.isFinite(r.diff) ? Number(r.diff.toPrecision(3)) : 'inf';
  if (r.reason !== undefined) out.reason = r.reason;
  return JSON.stringify(out);
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits));

/** A plain text table with left-aligned first column and right-aligned others. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]): string =>
    r
      .map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}

/** The first line of an error, trimmed, for the 'cannot' and 'absent' reasons. */
export function reasonOf(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  const first = msg.split('\n').find((l) => l.trim() !== '') ?? msg;
  return first.trim().slice(0, 300);
}
