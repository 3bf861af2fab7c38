// The bench's pure helpers: statistics, the adaptive timing protocol, output summaries for
// cross-checking implementations, and the JSON line and ratio formats. No peer code here.

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
  /** Milliseconds of measured runs to aim for after the warm-up. */
  readonly budgetMs: number;
  readonly minRuns: number;
  readonly maxRuns: number;
}

export const DEFAULT_POLICY: TimingPolicy = { budgetMs: 2000, minRuns: 3, maxRuns: 50 };

/** How many measured runs follow a warm-up that took `warmMs`: enough to fill the budget, at least
 *  minRuns unless one run alone exceeds the budget (then a single run: slow peers must not stall the suite). */
export function runsFor(warmMs: number, p: TimingPolicy = DEFAULT_POLICY): number {
  if (warmMs >= p.budgetMs) return 1;
  return Math.max(p.minRuns, Math.min(p.maxRuns, Math.floor(p.budgetMs / Math.max(warmMs, 1e-3))));
}

/** Warm-up: one call, and a second (lazy compilation, jit tracing and caches settle in the first)
 *  unless the first took over 5 budgets; then the median of N timed calls, N from the last warm-up. */
export async function measure<T>(fn: () => Promise<T> | T, p: TimingPolicy = DEFAULT_POLICY): Promise<{ first: T; median_ms: number; runs: number }> {
  let t0 = performance.now();
  const first = await fn();
  let warm = performance.now() - t0;
  if (warm < 5 * p.budgetMs) {
    t0 = performance.now();
    await fn();
    warm = performance.now() - t0;
  }
  const n = runsFor(warm, p);
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  return { first, median_ms: median(samples), runs: n };
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
  a.sample.forEach((v, i) => { d = Math.max(d, Math.abs(v - ref.sample[i]!) / scale); });
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
    suite: r.suite, case: r.case, impl: r.impl, threads: r.threads,
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
  const line = (r: readonly string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ').trimEnd();
  return [line(header), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}

/** The first line of an error, trimmed, for the 'cannot' and 'absent' reasons. */
export function reasonOf(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  const first = msg.split('\n').find((l) => l.trim() !== '') ?? msg;
  return first.trim().slice(0, 300);
}
