// `kiln inspect --html FILE`: one self-contained HTML page (no network access: the graph is laid out
// by Graphviz compiled to WebAssembly, @viz-js/viz, while the report is built, and inlined as SVG;
// the charts are SVG; the page's small script and its data are inline). It shows each entry's graph
// with its fusion groups as coloured clusters, and on a click a group's source lines, Kernel IR,
// WAT and cost; every kernel in a table; what each pass changed; the roofline when a profile was
// taken; the memory plan as a timeline.
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fail } from '../../ir/errors.ts';
import { memorySvg, rooflineSvg } from './charts.ts';
import type { InspectData } from './data.ts';
import { drawing, entryDot, layoutLimits, MAX_DRAWN_GROUPS, MAX_DRAWN_VALUES } from './dot.ts';
import type { EntryInfo } from './data.ts';
import { diffText, timedHead } from './text.ts';

export interface ReportOptions {
  /** The graph drawn: `fused` (with the fusion groups as clusters, the default) or `simplified`. */
  readonly stage?: string;
  /** The entry shown first (default: the last, the training step when there is one). */
  readonly entry?: string | undefined;
}

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const asset = (name: string): string => readFileSync(new URL(name, import.meta.url), 'utf8');

/** The output path's folder must exist before any work is done. */
export function checkReportPath(file: string): void {
  const dir = dirname(resolve(file));
  let ok = false;
  try {
    ok = statSync(dir).isDirectory();
  } catch {
    ok = false;
  }
  if (!ok) fail('K8001', `inspect: --html ${file}: the folder ${dir} does not exist`);
  if (!/\.html?$/i.test(file)) fail('K8001', `inspect: --html ${file}: the report is HTML; name the file *.html`);
}

/** An SVG from Graphviz, without its XML prolog and doctype. */
async function renderSvg(dot: string, limits: Record<string, string | number>): Promise<string> {
  let viz;
  try {
    viz = await (await import('@viz-js/viz')).instance();
  } catch (e) {
    return fail(
      'K8001',
      `inspect --html: the graph layout needs the @viz-js/viz package (npm install @viz-js/viz): ${(e as Error).message}`,
    );
  }
  const r = viz.render(dot, { format: 'svg', engine: 'dot', graphAttributes: limits });
  if (r.status !== 'success')
    fail(
      'K5002',
      `inspect --html: Graphviz could not lay out the graph (a kiln bug): ${r.errors.map((x) => x.message).join('; ')}`,
    );
  return r.output.replace(/^[\s\S]*?(<svg)/, '$1');
}

/** The fusion groups as a clickable list, for graphs too large to lay out. */
function groupList(e: EntryInfo, ei: number): string {
  const values = new Map(e.values.map((v) => [v.id, v]));
  const items = e.groups.map(
    (g) =>
      `<li class="grp" id="e${ei}-g${g.index}">group ${g.index}: ${esc(g.head)} -> ${esc(g.roots.map((r) => `${r}: ${values.get(r)?.type ?? ''}`).join(', '))} (${esc(g.kernels.join(', '))})</li>`,
  );
  return `<ol class="groups" start="0">${items.join('\n')}</ol>`;
}

/** A unified diff as HTML lines coloured by what they do. */
function diffHtml(text: string): string {
  return text
    .split('\n')
    .map((l) => {
      const cls = l.startsWith('@@')
        ? 'hunk'
        : l.startsWith('+')
          ? 'add'
          : l.startsWith('-')
            ? 'del'
            : l.startsWith('//')
              ? 'same'
              : '';
      return `<span class="${cls}">${esc(l)}</span>`;
    })
    .join('\n');
}

export async function buildReport(data: InspectData, opts: ReportOptions = {}): Promise<string> {
  const stage = opts.stage ?? 'fused';
  const first = opts.entry ?? data.entries[data.entries.length - 1]?.name;
  if (!data.entries.some((e) => e.name === first))
    fail(
      'K8001',
      `inspect: --entry ${first}: no such entry point; entries: ${data.entries.map((e) => e.name).join(', ')}`,
    );
  const sections: string[] = [];
  const tabs = data.entries
    .map((e) => `<button class="tab" data-entry="${esc(e.name)}">${esc(e.name)}</button>`)
    .join('');
  for (const [ei, e] of data.entries.entries()) {
    const how = drawing(e);
    const graph =
      how === 'none'
        ? groupList(e, ei)
        : `<div class="graph">${await renderSvg(entryDot(e, ei, stage === 'fused'), layoutLimits(e))}</div>`;
    const note =
      how === 'values'
        ? ''
        : how === 'groups'
          ? `${e.values.length} values (more than ${MAX_DRAWN_VALUES}): drawn one box per fusion group.`
          : `${e.values.length} values in ${e.groups.length} fusion groups (more than ${MAX_DRAWN_GROUPS}): too many for Graphviz's layout; the groups are listed in call order.`;
    const passes = ['simplified', ...e.passes.slice(1).map((p) => p.pass)];
    const diffs = passes
      .map(
        (p) =>
          `<h4>${esc(p === 'simplified' ? 'all graph passes' : p)}</h4><pre class="diff">${diffHtml(diffText(data, [e], p, false))}</pre>`,
      )
      .join('\n');
    sections.push(`<section class="entry" data-entry="${esc(e.name)}">
<h2>${esc(e.name)}: ${e.kernels.length} kernels from ${e.groups.length} fusion groups</h2>
${note ? `<p class="note">${note}</p>` : ''}${graph}
<details><summary>What each pass changed</summary>${diffs}</details>
<details><summary>Memory plan: the arena across ${esc(e.name)}'s kernels</summary>${memorySvg(data, e)}</details>
</section>`);
  }
  const profs = data.profiles ?? [];
  const rows = data.kernels
    .map((k) => {
      const cells = [
        k.name,
        k.entry,
        k.kind,
        k.cost.flops.toExponential(2),
        (k.cost.bytesRead + k.cost.bytesWritten).toExponential(2),
        k.cost.intensity.toFixed(2),
        ...profs.flatMap((p) => {
          const t = p.kernels[k.name];
          return t ? [t.ms.toFixed(3), t.gflops.toFixed(2), t.gbps.toFixed(2)] : ['', '', ''];
        }),
      ];
      return `<tr data-kernel="${esc(k.name)}">${cells.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`;
    })
    .join('\n');
  const head = ['kernel', 'entry', 'kind', 'FLOPs', 'bytes', 'FLOP/B', ...timedHead(profs)]
    .map((h) => `<th>${h}</th>`)
    .join('');
  const s = data.stats;
  const json = JSON.stringify({
    ...data,
    entries: data.entries.map((e) => ({ ...e, passes: [], fused: '' })),
    graphs: {},
    program: '',
  }).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>kiln inspect: ${esc(data.model)}</title>
<link rel="icon" href="data:,">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<style>${asset('report.css')}</style></head>
<body>
<header><h1>${esc(data.model)}</h1><p>batch ${data.batch}${data.train ? ', with its training step' : ''}: ${s.ops} ops, ${s.kernels} kernels, arena ${s.arenaBytes} bytes, ${s.bytesMoved} bytes moved (${s.bytesMovedUnfused} unfused)${profs
    .map(
      (p) =>
        `; profiled on ${esc(p.target)}${p.adapter ? ` (${esc(p.adapter)})` : ''}: ${Object.entries(p.entryMs)
          .map(([e, ms]) => `${esc(e)} ${ms.toFixed(2)} ms`)
          .join(', ')}`,
    )
    .join('')}</p>
<nav>${tabs}</nav></header>
<main>
<div id="left">
${sections.join('\n')}
<h2>Kernels</h2>
<table id="kernels"><thead><tr>${head}</tr></thead><tbody>
${rows}
</tbody></table>
<h2>Roofline</h2>
${rooflineSvg(data)}
</div>
<aside id="detail"><p class="note">Click a fusion group, a value or a kernel.</p></aside>
</main>
<script type="application/json" id="data">${json}</script>
<script data-first="${esc(first ?? '')}">${asset('report.js')}</script>
</body></html>
`;
}

/** Builds the report and writes it atomically (a temporary file renamed over the target). */
export async function writeReport(file: string, data: InspectData, opts: ReportOptions = {}): Promise<void> {
  checkReportPath(file);
  const html = await buildReport(data, opts);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, html);
  renameSync(tmp, file);
}
