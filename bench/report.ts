// A suite's rows as a human table: time, GFLOP/s where it applies, kiln's time over each peer's,
// and the cross-check of outputs against the reference implementation.
import { formatMs, formatRatio, table, type Row } from './harness.ts';
import type { Peak } from './peak.ts';

const KILN = 'kiln';

function statusText(r: Row): string {
  return r.status === 'ok' ? 'ok' : `${r.status}: ${r.reason ?? ''}`;
}

function diffText(r: Row): string {
  if (r.diff === undefined) return '';
  return Number.isFinite(r.diff) ? r.diff.toExponential(1) : 'MISMATCH';
}

/** Which WebAssembly the run had: relaxed SIMD (the default) or plain SIMD (--no-relaxed). */
export function simdText(relaxed: boolean): string {
  return relaxed ? 'relaxed SIMD on' : 'relaxed SIMD off, plain SIMD';
}

/** One table per suite, its header saying which SIMD ran; `peak` (matmul only) adds kiln's fraction
 *  of the WebAssembly SIMD peak. */
export function suiteTable(
  suite: string,
  rows: readonly Row[],
  opts: { readonly relaxed: boolean; readonly peak?: readonly Peak[] | undefined },
): string {
  const peak = opts.peak;
  const withFlops = rows.some((r) => r.gflops !== undefined);
  const best = peak?.reduce((m, p) => Math.max(m, p.gflops ?? 0), 0) ?? 0;
  const cells = rows.map((r) => {
    const kiln = rows.find((k) => k.impl === KILN && k.case === r.case && k.threads === r.threads && k.status === 'ok');
    const out = [r.case, r.impl, String(r.threads), r.median_ms === undefined ? '-' : formatMs(r.median_ms)];
    if (withFlops) out.push(r.gflops === undefined ? '-' : r.gflops.toFixed(1));
    if (withFlops && best > 0) out.push(r.gflops === undefined ? '-' : `${((100 * r.gflops) / best).toFixed(0)}%`);
    out.push(r.impl === KILN ? '' : formatRatio(kiln?.median_ms, r.status === 'ok' ? r.median_ms : undefined));
    out.push(diffText(r), r.runs === undefined ? '' : String(r.runs), statusText(r));
    return out;
  });
  const header = ['case', 'impl', 'threads', 'median ms'];
  if (withFlops) header.push('GFLOP/s');
  if (withFlops && best > 0) header.push('of peak');
  header.push('kiln/impl', 'diff', 'runs', 'status');
  const lines = [
    `== ${suite} (${simdText(opts.relaxed)}; kiln/impl: kiln's time over the impl's on as many threads, < 1 means kiln is faster; diff: first output vs the reference impl)`,
  ];
  if (peak) {
    lines.push(
      peak
        .map(
          (p) =>
            `wasm ${p.variant} peak: ${p.gflops === null ? `n/a (${p.reason})` : `${p.gflops.toFixed(1)} GFLOP/s`}`,
        )
        .join('; '),
    );
  }
  lines.push(table(header, cells));
  return lines.join('\n');
}
