// The terminal views of `kiln inspect`, each a function of InspectData: a stage's text, what a pass
// changed (a unified diff), the fusion groups with their source lines, kernels' Kernel IR and WAT,
// and the cost table.
import { fail } from '../../ir/errors.ts';
import { lineText, locKey, sourceLine } from './collect.ts';
import type { EntryInfo, InspectData, KernelInfo, ProfileInfo, SourceLoc } from './data.ts';
import { unifiedDiff } from './diff.ts';

const LOC_RE = /  loc\([^\n]*\)$/gm;
export const stripLocations = (text: string): string => text.replace(LOC_RE, '');

/** The graph passes whose output `--stage simplified` shows, and which `--diff` accepts by name. */
export function passNames(data: InspectData): string[] {
  return data.entries[0]?.passes.slice(1).map((p) => p.pass) ?? [];
}

/** The entries a view shows: all, or the one `--entry` names. */
export function pickEntries(data: InspectData, entry: string | undefined): EntryInfo[] {
  if (entry === undefined) return [...data.entries];
  const e = data.entries.find((x) => x.name === entry);
  if (!e) {
    const hint = entry === 'train_step' && !data.train ? ' (compile the training step with --train)' : '';
    fail(
      'K8001',
      `inspect: --entry ${entry}: no such entry point; entries: ${data.entries.map((x) => x.name).join(', ')}${hint}`,
    );
  }
  return [e];
}

export function pickKernel(data: InspectData, name: string): KernelInfo {
  const k = data.kernels.find((x) => x.name === name || x.wat.includes(`(func $${name} `));
  if (!k)
    fail('K8001', `inspect: --kernel ${name}: no such kernel; kernels: ${data.kernels.map((x) => x.name).join(', ')}`);
  return k;
}

/** `--stage simplified`: each entry after the graph passes; an entry no pass changed says so. */
export function simplifiedText(data: InspectData, entries: readonly EntryInfo[]): string {
  return entries
    .map((e) => {
      const out = e.passes[e.passes.length - 1]!.text;
      const same = out === e.passes[0]!.text;
      const note = same
        ? `// simplified: ${e.passes
            .slice(1)
            .map((p) => p.pass)
            .join(', ')} changed nothing in entry ${e.name}\n`
        : '';
      return note + out;
    })
    .join('\n');
}

/** `--stage fused`: each fusion group with the ops it holds and the source lines they came from. */
export function fusedText(data: InspectData, entries: readonly EntryInfo[], locations: boolean): string {
  return entries
    .map((e) => {
      const lines = e.fused.split('\n');
      if (!locations) return e.fused;
      const values = new Map(e.values.map((v) => [v.id, v]));
      let g = -1;
      const out: string[] = [];
      for (const l of lines) {
        out.push(l);
        if (l.startsWith('kernel ')) g++;
        else if (l.startsWith('    ') && g >= 0) {
          const grp = e.groups[g]!;
          const byLoc = new Map<string, { loc: SourceLoc; ops: Set<string> }>();
          for (const id of grp.nodes) {
            const v = values.get(id)!;
            if (!v.loc || v.op === 'constant') continue;
            const at = byLoc.get(locKey(v.loc)) ?? { loc: v.loc, ops: new Set<string>() };
            byLoc.set(locKey(v.loc), { ...at, ops: at.ops.add(v.op) });
          }
          for (const [key, { loc, ops }] of byLoc)
            out.push(`      ${key}  ${[...ops].join(' ')}  | ${lineText(loc, data.sources)}`);
          if (grp.kernels.length) out.push(`      -> ${grp.kernels.join(', ')}`);
        }
      }
      return out.join('\n');
    })
    .join('\n');
}

/** `--stage kernels --kernel NAME`: one kernel's Kernel IR, with where it came from. */
export function kernelText(k: KernelInfo, data: InspectData): string {
  const head = [
    `// kernel ${k.name}: ${k.kind}${k.group === undefined ? '' : `, fusion group ${k.group} of ${k.entry}`}`,
  ];
  for (const l of k.locs) head.push(`// from ${sourceLine(l, data.sources)}`);
  return `${head.join('\n')}\n${k.kir}\n`;
}

/** `--stage wat`: each kernel's function, commented. */
export function watText(data: InspectData, entries: readonly EntryInfo[], kernel: string | undefined): string {
  if (kernel !== undefined) return pickKernel(data, kernel).wat + '\n';
  const ks = entryKernels(data, entries);
  return `;; program @${data.model}: the kernel functions in call order (the module adds the math functions and one exported function per entry)\n${ks.map((k) => k.wat).join('\n\n')}\n`;
}

/** Each kernel's WGSL compute shader (one per kernel), with the same comments as its WAT. */
export function wgslText(data: InspectData, entries: readonly EntryInfo[], kernel: string | undefined): string {
  const code = (k: KernelInfo): string =>
    k.wgsl ??
    fail(
      'K8001',
      `inspect: --stage wgsl: kernel ${k.name} has no WGSL in this inspection data (made before kiln had a WGSL target); recompile the artifact`,
    );
  if (kernel !== undefined) return code(pickKernel(data, kernel)) + '\n';
  return `// program @${data.model}: one compute shader per kernel, in dispatch order\n${entryKernels(data, entries).map(code).join('\n\n')}\n`;
}

function entryKernels(data: InspectData, entries: readonly EntryInfo[]): KernelInfo[] {
  const names = new Set(entries.flatMap((e) => e.kernels));
  return data.kernels.filter((k) => names.has(k.name));
}

interface NumberedLine {
  readonly id: string;
  readonly rest: string;
}

const NODE_LINE = /^  (%\d+) = (.*)$/;

/** Renames the value numbers of `after` to those of `before` where a line computes the same op of
 *  the same (renamed) inputs, so a pass that drops one node does not renumber every later line;
 *  values new in `after` read `%new.N`. */
export function alignNumbering(before: string, after: string): string {
  const key = (rest: string): string => rest.replace(LOC_RE, '');
  const pool = new Map<string, string[]>();
  for (const l of stripLocations(before).split('\n')) {
    const m = NODE_LINE.exec(l);
    if (m) pool.set(m[2]!, [...(pool.get(m[2]!) ?? []), m[1]!]);
  }
  const rename = new Map<string, string>();
  const sub = (s: string): string => s.replace(/%\d+\b(?!\.)/g, (id) => rename.get(id) ?? id);
  const parsed: (NumberedLine | string)[] = after.split('\n').map((l) => {
    const m = NODE_LINE.exec(l);
    return m ? { id: m[1]!, rest: m[2]! } : l;
  });
  return parsed
    .map((l) => {
      if (typeof l === 'string') return sub(l);
      const rest = sub(l.rest);
      const ids = pool.get(key(rest));
      const id = ids?.shift() ?? `%new.${l.id.slice(1)}`;
      rename.set(l.id, id);
      return `  ${id} = ${rest}`;
    })
    .join('\n');
}

/** The stages `--diff` compares: each graph pass against its input, `simplified` (all passes), `train`
 *  (the inference graph against the training step). */
export function diffText(data: InspectData, entries: readonly EntryInfo[], stage: string, locations: boolean): string {
  const fix = (t: string): string => (locations ? t : stripLocations(t));
  const passes = passNames(data);
  if (stage === 'train') {
    if (!data.graphs.train)
      fail('K8001', 'inspect: --diff train compares the inference graph with the training step; add --train');
    return diffOrSame(
      'the inference graph',
      'the training step',
      fix(data.graphs.ir!),
      fix(data.graphs.train),
      'the training step is the inference graph',
    );
  }
  const kernelPasses = [...data.kernelStages.slice(1).map((k) => k.pass), 'kernels'];
  if (kernelPasses.includes(stage)) {
    // a Kernel IR pass (or the memory plan, `kernels`) against the stage before it
    const texts = [...data.kernelStages, { pass: 'kernels', text: data.program }];
    const at = texts.findIndex((k) => k.pass === stage);
    const [a, b] = [texts[at - 1]!, texts[at]!];
    return diffOrSame(
      `the Kernel IR ${a.pass === 'lowered' ? 'as lowered' : `after ${a.pass}`}`,
      stage === 'kernels' ? 'the Kernel IR with its memory plan' : `the Kernel IR after ${stage}`,
      a.text,
      b.text,
      `${stage} changed nothing in the Kernel IR`,
      false,
    );
  }
  if (stage !== 'simplified' && !passes.includes(stage)) {
    fail(
      'K8001',
      `inspect: --diff ${stage}: a diff compares a pass's input and output; passes: ${['simplified', ...passes, 'train', ...kernelPasses].join(', ')} (fused, lowered and wat change the form: use --stage)`,
    );
  }
  return entries
    .map((e) => {
      const at = stage === 'simplified' ? e.passes.length - 1 : e.passes.findIndex((p) => p.pass === stage);
      const from = stage === 'simplified' ? 0 : at - 1;
      const a = fix(e.passes[from]!.text),
        b = fix(e.passes[at]!.text);
      const label = (i: number): string => (i === 0 ? `${e.name} as built` : `${e.name} after ${e.passes[i]!.pass}`);
      return diffOrSame(
        label(from),
        label(at),
        a,
        b,
        `${stage === 'simplified' ? passes.join(', ') : stage} changed nothing in entry ${e.name}`,
      );
    })
    .join('\n');
}

function diffOrSame(from: string, to: string, a: string, b: string, same: string, graphs = true): string {
  const d = graphs
    ? unifiedDiff(
        from,
        `${to} (values renumbered as in the first where they are the same node)`,
        a,
        alignNumbering(a, b),
      )
    : unifiedDiff(from, to, a, b);
  return d || `// ${same}\n`;
}

const si = (x: number, unit: string): string => {
  const [d, p] = x >= 1e9 ? [1e9, 'G'] : x >= 1e6 ? [1e6, 'M'] : x >= 1e3 ? [1e3, 'k'] : [1, ''];
  return `${(x / d).toFixed(d === 1 ? 0 : 2)} ${p}${unit}`;
};

/** The header of a profile's columns (the target named when there are several). */
export const timedHead = (profs: readonly ProfileInfo[]): string[] =>
  profs.flatMap((p) => [profs.length > 1 ? `${p.target} ms` : 'ms', 'GFLOP/s', 'GB/s']);

/** `--stats`: the cost of each kernel and in total (and, after `--profile`, measured time and rates per target). */
export function costTable(data: InspectData, entries: readonly EntryInfo[], kernel: string | undefined): string {
  const names = kernel !== undefined ? [pickKernel(data, kernel).name] : entries.flatMap((e) => e.kernels);
  const ks = names.map((n) => data.kernels.find((k) => k.name === n)!);
  const profs = data.profiles ?? [];
  const head = ['kernel', 'kind', 'FLOPs', 'read', 'written', 'FLOP/B', ...timedHead(profs)];
  const row = (k: KernelInfo): string[] => [
    k.name,
    k.kind,
    si(k.cost.flops, ''),
    si(k.cost.bytesRead, 'B'),
    si(k.cost.bytesWritten, 'B'),
    k.cost.intensity.toFixed(2),
    ...profs.flatMap((p) => {
      const t = p.kernels[k.name];
      return t ? [t.ms.toFixed(3), t.gflops.toFixed(2), t.gbps.toFixed(2)] : ['-', '-', '-'];
    }),
  ];
  const sum = (f: (k: KernelInfo) => number): number => ks.reduce((s, k) => s + f(k), 0);
  const flops = sum((k) => k.cost.flops),
    moved = sum((k) => k.cost.bytesRead + k.cost.bytesWritten);
  const total = [
    'total',
    `${ks.length} kernels`,
    si(flops, ''),
    si(
      sum((k) => k.cost.bytesRead),
      'B',
    ),
    si(
      sum((k) => k.cost.bytesWritten),
      'B',
    ),
    (moved ? flops / moved : 0).toFixed(2),
    ...profs.flatMap((p) => {
      const ms = sum((k) => p.kernels[k.name]?.ms ?? 0);
      return [ms.toFixed(3), (flops / ms / 1e6).toFixed(2), (moved / ms / 1e6).toFixed(2)];
    }),
  ];
  const rows = [head, ...ks.map(row), total];
  const widths = head.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const fmt = (r: string[]): string =>
    r
      .map((x, c) => (c < 2 ? x.padEnd(widths[c]!) : x.padStart(widths[c]!)))
      .join('  ')
      .trimEnd();
  const lines = [fmt(head), ...ks.map((k) => fmt(row(k))), fmt(total)];
  const s = data.stats;
  const summary = [
    `ops ${s.ops}, kernels ${s.kernels}, arena ${si(s.arenaBytes, 'B')}, bytes moved ${si(s.bytesMoved, 'B')} (unfused: ${si(s.bytesMovedUnfused, 'B')})`,
  ];
  for (const p of profs) {
    const gpu = p.target === 'webgpu';
    summary.push(
      `profile: ${p.target}${p.adapter ? ` on ${p.adapter}` : ''}, ${p.reps} runs${gpu ? ' (kernels: GPU timestamps, one pass each)' : ''}, ${Object.entries(
        p.entryMs,
      )
        .map(([e, t]) => `${e} ${t.toFixed(2)} ms per call`)
        .join(', ')}`,
    );
    summary.push(
      `measured ${p.target} peaks: ${p.peaks.gflops.toFixed(1)} GFLOP/s (${gpu ? 'FMA shader' : 'matmul'}), ${p.peaks.gbps.toFixed(1)} GB/s (copy)`,
    );
  }
  return `${lines.join('\n')}\n${summary.join('\n')}\n`;
}

/** `--stats --json`: the program's totals and each kernel's cost (and, after `--profile`, its timing per target). */
export function costJson(data: InspectData, entries: readonly EntryInfo[], kernel: string | undefined): string {
  const names = kernel !== undefined ? [pickKernel(data, kernel).name] : entries.flatMap((e) => e.kernels);
  const profs = data.profiles ?? [];
  const kernels = names.map((n) => {
    const k = data.kernels.find((x) => x.name === n)!;
    const times = profs.filter((p) => p.kernels[n]).map((p) => [p.target, p.kernels[n]!] as const);
    return {
      name: n,
      entry: k.entry,
      kind: k.kind,
      ...k.cost,
      ...(times.length ? { times: Object.fromEntries(times) } : {}),
      locs: k.locs.map((l) => `${l.file}:${l.line}:${l.col}`),
    };
  });
  const profiles = profs.map(({ kernels: _, ...p }) => p);
  return JSON.stringify({ ...data.stats, kernelCosts: kernels, ...(profiles.length ? { profiles } : {}) }) + '\n';
}
