// The report's charts as SVG text, drawn when the report is built: the roofline (kernels by
// arithmetic intensity against measured GFLOP/s, under each profiled target's measured peaks) and the memory
// plan as a timeline (kernel index across, arena offset down, one rectangle per buffer).
import type { EntryInfo, InspectData } from './data.ts';

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const W = 640,
  H = 360,
  L = 60,
  R = 20,
  T = 20,
  B = 40;

/** A log-scale axis over [lo, hi] mapped to [a, b] pixels. */
function logAxis(lo: number, hi: number, a: number, b: number): (x: number) => number {
  const l0 = Math.log10(lo),
    l1 = Math.log10(hi);
  return (x) => a + ((Math.log10(Math.max(lo, Math.min(hi, x))) - l0) / (l1 - l0)) * (b - a);
}

const decades = (lo: number, hi: number): number[] => {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) out.push(10 ** e);
  return out;
};

/** Each profile's kernels as points (intensity, achieved GFLOP/s) under its target's roof,
 *  min(peak, bandwidth x intensity): wasm and WebGPU side by side when both were profiled. */
export function rooflineSvg(data: InspectData): string {
  const profs = data.profiles ?? [];
  if (!profs.length)
    return '<p class="note">No profile in this report: build it with <code>--profile</code> (<code>--target wasm|webgpu|all</code>) to plot each kernel\'s measured GFLOP/s against the target\'s peaks.</p>';
  const pts = profs.flatMap((p, i) =>
    data.kernels
      .filter((k) => p.kernels[k.name] && k.cost.flops > 0 && k.cost.intensity > 0 && p.kernels[k.name]!.gflops > 0)
      .map((k) => ({ k, t: p.kernels[k.name]!, p, i })),
  );
  const xs = [...pts.map((q) => q.k.cost.intensity), ...profs.map((p) => p.peaks.gflops / p.peaks.gbps)];
  const ys = [...pts.map((q) => q.t.gflops), ...profs.map((p) => p.peaks.gflops)];
  const xlo = 10 ** Math.floor(Math.log10(Math.min(...xs) / 2)),
    xhi = 10 ** Math.ceil(Math.log10(Math.max(...xs) * 2));
  const ylo = 10 ** Math.floor(Math.log10(Math.max(1e-3, Math.min(...ys) / 2))),
    yhi = 10 ** Math.ceil(Math.log10(Math.max(...ys) * 1.5));
  const x = logAxis(xlo, xhi, L, W - R),
    y = logAxis(ylo, yhi, H - B, T);
  const out = [
    `<svg class="chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="roofline">`,
  ];
  for (const d of decades(xlo, xhi))
    out.push(
      `<line x1="${x(d)}" x2="${x(d)}" y1="${T}" y2="${H - B}" class="grid"/><text x="${x(d)}" y="${H - B + 16}" text-anchor="middle">${d}</text>`,
    );
  for (const d of decades(ylo, yhi))
    out.push(
      `<line x1="${L}" x2="${W - R}" y1="${y(d)}" y2="${y(d)}" class="grid"/><text x="${L - 6}" y="${y(d) + 4}" text-anchor="end">${d}</text>`,
    );
  for (const [i, p] of profs.entries()) {
    const ridge = p.peaks.gflops / p.peaks.gbps;
    const roof = [xlo, ridge, xhi].map((a) => `${x(a)},${y(Math.min(p.peaks.gflops, p.peaks.gbps * a))}`).join(' ');
    const peaks = `${p.peaks.gflops.toFixed(1)} GFLOP/s, ${p.peaks.gbps.toFixed(1)} GB/s`;
    out.push(
      `<polyline points="${roof}" class="roof p${i}"><title>${esc(`${p.target}${p.adapter ? ` on ${p.adapter}` : ''}: ${peaks} (measured)`)}</title></polyline>`,
      `<text x="${W - R}" y="${y(p.peaks.gflops) - 6}" text-anchor="end" class="p${i}">${esc(`${p.target} peak ${p.peaks.gflops.toFixed(1)} GFLOP/s`)}</text>`,
      `<text x="${x(xlo) + 4}" y="${y(p.peaks.gbps * xlo) - 6}" class="p${i}">${esc(`${p.target} ${p.peaks.gbps.toFixed(1)} GB/s`)}</text>`,
      `<text x="${L + 8}" y="${T + 14 * (i + 1)}" class="legend p${i}">${esc(`\u25cf ${p.target}: ${peaks}`)}</text>`,
    );
  }
  for (const { k, t, p, i } of pts) {
    out.push(
      `<circle cx="${x(k.cost.intensity).toFixed(1)}" cy="${y(t.gflops).toFixed(1)}" r="4" class="pt p${i}" data-kernel="${esc(k.name)}"><title>${esc(`${k.name} ${k.kind} on ${p.target}: ${k.cost.intensity.toFixed(2)} FLOP/B, ${t.gflops.toFixed(2)} GFLOP/s, ${t.ms.toFixed(3)} ms`)}</title></circle>`,
    );
  }
  out.push(`<text x="${(L + W - R) / 2}" y="${H - 6}" text-anchor="middle">arithmetic intensity (FLOP/byte)</text>`);
  out.push(
    `<text x="14" y="${(T + H - B) / 2}" transform="rotate(-90 14 ${(T + H - B) / 2})" text-anchor="middle">GFLOP/s</text></svg>`,
  );
  return out.join('\n');
}

/** The arena during one entry's call: each buffer a rectangle from the first to the last kernel that touches it. */
export function memorySvg(data: InspectData, e: EntryInfo): string {
  const n = e.kernels.length;
  const bufs = data.buffers.filter((b) => b.live[e.name] || b.role === 'param' || b.role === 'constant');
  const top = Math.max(16, ...bufs.map((b) => b.offset + b.bytes));
  const w = 720,
    h = 380;
  const x = (i: number): number => L + (i / Math.max(1, n)) * (w - L - R);
  const y = (off: number): number => T + (off / top) * (h - T - B);
  const out = [
    `<svg class="chart memory" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="memory plan of ${esc(e.name)}">`,
  ];
  for (let i = 0; i <= n; i += Math.max(1, Math.ceil(n / 12)))
    out.push(`<text x="${x(i)}" y="${h - B + 16}" text-anchor="middle">${i}</text>`);
  for (let f = 0; f <= 4; f++)
    out.push(
      `<text x="${L - 6}" y="${y((top * f) / 4) + 4}" text-anchor="end">${((top * f) / 4 / 2 ** 20).toFixed(1)}M</text>`,
    );
  for (const b of bufs) {
    const [a, z] = b.live[e.name] ?? [0, n - 1];
    const whole = b.role === 'param' || b.role === 'constant' || b.role === 'input' || b.role === 'output';
    const [from, to] = whole ? [0, n] : [a, z + 1];
    const hh = Math.max(1, y(b.offset + b.bytes) - y(b.offset));
    out.push(
      `<rect x="${x(from).toFixed(1)}" y="${y(b.offset).toFixed(1)}" width="${(x(to) - x(from)).toFixed(1)}" height="${hh.toFixed(1)}" class="buf ${b.role}"><title>${esc(`${b.name} (${b.role}, ${b.dtype}): ${b.bytes} bytes at ${b.offset}, kernels ${from}..${to - 1}`)}</title></rect>`,
    );
  }
  out.push(`<text x="${(L + w - R) / 2}" y="${h - 6}" text-anchor="middle">kernel index in ${esc(e.name)}</text>`);
  out.push(
    `<text x="14" y="${(T + h - B) / 2}" transform="rotate(-90 14 ${(T + h - B) / 2})" text-anchor="middle">arena offset</text></svg>`,
  );
  return out.join('\n');
}
