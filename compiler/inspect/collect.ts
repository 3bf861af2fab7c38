// A model through the pipeline, keeping what `kiln inspect` shows: each pass's text, the optimized
// graphs with their fusion groups, and each kernel with the graph values it stores and reads, the
// source lines of the nodes it computes, its Kernel IR, its WAT (commented with all of that) and
// its cost.
import { readFileSync } from 'node:fs';
import type { Graph, Value } from '../../ir/graph.ts';
import type { Kernel, Program } from '../../ir/kernel.ts';
import { printGraph } from '../../ir/print.ts';
import { formatType } from '../../ir/types.ts';
import { kernelWat } from '../../targets/wasm/index.ts';
import { renderWgsl } from '../../targets/wgsl/index.ts';
import type { Model } from '../dsl/model.ts';
import { printKernel, printProgram } from '../../ir/print-kernels.ts';
import type { KernelOrigin } from '../lower/program.ts';
import { kernelCost, programStats } from '../passes/cost.ts';
import { DEFAULT_LIMITS, groupNodes, printFusion, type Fusion, type Limits } from '../passes/fuse.ts';
import { buffersRead, buffersWritten } from '../../ir/kernel-walk.ts';
import { ELEMENT_BYTES } from '../passes/memory.ts';
import { compileProgram, GRAPH_PASSES, KERNEL_PASSES, modelEntries } from '../pipeline.ts';
import {
  INSPECT_FORMAT,
  INSPECT_VERSION,
  type BufferInfo,
  type EntryInfo,
  type InspectData,
  type KernelInfo,
  type PassText,
  type SourceLoc,
  type ValueInfo,
} from './data.ts';

/** The Kernel IR stages kept as text: as lowered, and after each kernel pass. */
export const KERNEL_STAGES: readonly string[] = ['lowered', ...KERNEL_PASSES.map((p) => p.name)];

export interface CollectOptions {
  readonly train?: boolean;
  readonly batch?: number;
  readonly limits?: Limits;
}

/** Names of an entry's values as its printed graph spells them (`%3`, `%x`). */
function idsOf(g: Graph): (v: Value) => string {
  const ids = new Map<Value, string>(g.nodes.map((n, i) => [n, `%${i}`]));
  return (v) => ids.get(v) ?? (v.kind === 'node' ? `%?${v.op}` : `%${v.name}`);
}

/** `loop`, or a contraction with the op it computes (`contraction(conv2d_filter_grad)`). */
const kindOf = (k: Kernel, o: KernelOrigin | undefined): string =>
  k.kind !== 'loop' && o?.group.core ? `${k.kind}(${o.group.core.op})` : k.kind;
export const locKey = (l: SourceLoc): string => `${l.file}:${l.line}:${l.col}`;

function sortedLocs(locs: Iterable<SourceLoc | undefined>): SourceLoc[] {
  const m = new Map<string, SourceLoc>();
  for (const l of locs) if (l) m.set(locKey(l), { file: l.file, line: l.line, col: l.col });
  return [...m.values()].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col);
}

/** The source locations of a kernel's nodes; constants only when it computes nothing else (a constant
 *  merged by CSE keeps the location of its first use, which may be another layer's). */
function locsOf(nodes: ReadonlySet<Value>): SourceLoc[] {
  const ns = [...nodes].filter((n) => n.kind === 'node');
  const ops = ns.filter((n) => n.op !== 'constant');
  return sortedLocs((ops.length ? ops : ns).map((n) => n.loc));
}

/** An entry's values and fusion groups (the groups' kernels from the lowering's origins). */
function entryInfo(
  name: string,
  passes: EntryInfo['passes'],
  fusion: Fusion,
  origins: ReadonlyMap<string, KernelOrigin>,
  kernels: readonly Kernel[],
): EntryInfo {
  const g = fusion.graph;
  const id = idsOf(g);
  const groupOf = new Map<Value, number>();
  const groups = fusion.groups.map((grp, index) => {
    const inner = groupNodes(fusion, grp);
    for (const n of inner) if (!groupOf.has(n)) groupOf.set(n, index);
    return {
      index,
      head: grp.core ? `${grp.kind}(${grp.core.op})` : grp.kind,
      roots: grp.roots.map(id),
      nodes: g.nodes.filter((n) => inner.has(n)).map(id),
      kernels: kernels.filter((k) => origins.get(k.name)?.group === grp).map((k) => k.name),
    };
  });
  const values: ValueInfo[] = [
    ...g.inputs.map(
      (v): ValueInfo => ({ id: id(v), kind: 'input', op: 'input', type: formatType(v.type), inputs: [], stored: true }),
    ),
    ...g.params.map(
      (v): ValueInfo => ({ id: id(v), kind: 'param', op: 'param', type: formatType(v.type), inputs: [], stored: true }),
    ),
    ...g.nodes.map((n): ValueInfo => {
      const v: ValueInfo = {
        id: id(n),
        kind: 'node',
        op: n.op,
        type: formatType(n.type),
        inputs: n.inputs.map(id),
        stored: fusion.materialized.has(n),
      };
      const group = groupOf.get(n);
      return {
        ...v,
        ...(n.loc ? { loc: { file: n.loc.file, line: n.loc.line, col: n.loc.col } } : {}),
        ...(group === undefined ? {} : { group }),
      };
    }),
  ];
  return { name, passes, fused: printFusion(fusion), values, groups, kernels: kernels.map((k) => k.name) };
}

/** The graph value each buffer of an entry holds (a param updated in place: the param and its new value). */
function bufferValues(fusion: Fusion, bufOf: KernelOrigin['bufOf']): Map<string, Value[]> {
  const m = new Map<string, Value[]>();
  for (const v of [...fusion.graph.inputs, ...fusion.graph.params, ...fusion.graph.nodes]) {
    const b = bufOf(v);
    if (b !== undefined) m.set(b, [...(m.get(b) ?? []), v]);
  }
  return m;
}

/** Lines of the files the locations name (files that cannot be read are left out). */
function readSources(locs: readonly SourceLoc[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const f of new Set(locs.map((l) => l.file))) {
    try {
      out[f] = readFileSync(f, 'utf8').split('\n');
    } catch {
      // a location in a file that moved: shown without its text
    }
  }
  return out;
}

/** The text of a location's line, trimmed ('' when its file was not read). */
export const lineText = (l: SourceLoc, sources: InspectData['sources']): string =>
  sources[l.file]?.[l.line - 1]?.trim() ?? '';

/** `examples/mnist-cnn.ts:11:6  nn.conv2d(32, 3, { activation: 'relu' }),` */
export function sourceLine(l: SourceLoc, sources: InspectData['sources']): string {
  const text = lineText(l, sources);
  return `${locKey(l)}${text ? `  ${text}` : ''}`;
}

/** What a kernel of no fusion group copies: a param update into its param, or (a kernel pass's copy) an
 *  operand into a temp that the contractions after it read. */
const copyNote = (k: Pick<KernelInfo, 'stores'>): string =>
  k.stores.some((s) => s.value) ? 'copies a param update' : 'copies an operand for the contractions after it';

/** The comment a kernel's WAT starts with: where it comes from, what it stores and reads, its Kernel IR. */
export function kernelComment(
  k: Omit<KernelInfo, 'wat'>,
  values: ReadonlyMap<string, ValueInfo>,
  sources: InspectData['sources'],
): string {
  const val = (id: string | undefined): string => {
    const v = id === undefined ? undefined : values.get(id);
    if (!v) return id ?? '';
    return `${v.id} = ${v.op}: ${v.type}${v.loc ? `  ${locKey(v.loc)}` : ''}`;
  };
  const lines = [
    `kernel ${k.name}: ${k.kind}${k.group === undefined ? ` (${copyNote(k)})` : `, fusion group ${k.group} of ${k.entry}`}`,
  ];
  for (const s of k.stores) lines.push(`  stores ${s.buf}${s.value ? ` <- ${val(s.value)}` : ''}`);
  for (const r of k.reads) lines.push(`  reads  ${r.buf}${r.value ? ` <- ${val(r.value)}` : ''}`);
  for (const l of k.locs) lines.push(`  from   ${sourceLine(l, sources)}`);
  lines.push('Kernel IR:', ...k.kir.split('\n').map((l) => `  ${l}`));
  return lines.join('\n');
}

/** What collect returns: the data, and the compiled program and entry graphs (to run it for a profile). */
export interface Collected {
  readonly data: InspectData;
  readonly program: Program;
  readonly entries: readonly { readonly name: string; readonly graph: Graph }[];
}

export function collect(model: Model, opts: CollectOptions = {}): Collected {
  const train = opts.train ?? false;
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const entries = modelEntries(model, { train, batch: opts.batch });
  const passTexts = entries.map((e) => {
    const texts = [{ pass: 'input', text: printGraph(e.graph) }];
    let g = e.graph;
    for (const p of GRAPH_PASSES) texts.push({ pass: p.name, text: printGraph((g = p.run(g))) });
    return { texts, optimized: g };
  });
  const origins = new Map<string, KernelOrigin>();
  const kernelStages: PassText[] = [];
  const program: Program = compileProgram(entries, {
    limits,
    origins,
    dump: (stage, text) => {
      if (KERNEL_STAGES.includes(stage)) kernelStages.push({ pass: stage, text });
    },
  });
  const sizes = new Map(program.buffers.map((b) => [b.name, b.size]));

  const infos: EntryInfo[] = [];
  const kernelParts: Omit<KernelInfo, 'wat'>[] = [];
  const valueMaps = new Map<string, Map<string, ValueInfo>>();
  program.entries.forEach((ep, ei) => {
    const origin = ep.kernels.map((k) => origins.get(k.name)).find((o) => o !== undefined);
    if (!origin) return;
    const fusion = origin.fusion;
    const info = entryInfo(ep.name, passTexts[ei]!.texts, fusion, origins, ep.kernels);
    infos.push(info);
    valueMaps.set(ep.name, new Map(info.values.map((v) => [v.id, v])));
    const id = idsOf(fusion.graph);
    const holders = bufferValues(fusion, origin.bufOf);
    for (const k of ep.kernels) {
      const o = origins.get(k.name);
      const inner: ReadonlySet<Value> = o ? groupNodes(fusion, o.group) : new Set();
      const pick = (buf: string, prefer: (v: Value) => boolean): { buf: string; value?: string } => {
        const vs = holders.get(buf) ?? [];
        const v = vs.find(prefer) ?? vs[0];
        return v ? { buf, value: id(v) } : { buf };
      };
      const cost = kernelCost(k, (b) => sizes.get(b) ?? 0);
      kernelParts.push({
        name: k.name,
        entry: ep.name,
        ...(o ? { group: fusion.groups.indexOf(o.group) } : {}),
        kind: kindOf(k, o),
        stores: [...buffersWritten(k)].map((b) =>
          pick(b, (v) => (o ? (o.group.roots as readonly Value[]).includes(v) : v.kind === 'param')),
        ),
        reads: [...buffersRead(k)].map((b) => pick(b, (v) => !inner.has(v))),
        locs: locsOf(inner),
        kir: printKernel(k),
        cost: {
          flops: cost.flops,
          bytesRead: cost.bytesRead,
          bytesWritten: cost.bytesWritten,
          intensity: cost.intensity,
        },
      });
    }
  });
  const sources = readSources(kernelParts.flatMap((k) => k.locs));
  const parts = new Map(kernelParts.map((k) => [k.name, k]));
  const commentOf = (name: string): string | undefined => {
    const p = parts.get(name);
    return p && kernelComment(p, valueMaps.get(p.entry)!, sources);
  };
  const comment = (k: Kernel): string | undefined => commentOf(k.name);
  const rendered = renderWgsl(program);
  const wgsl = new Map(
    rendered.entries.flatMap((e) => e.kernels.map((k) => [k.name, rendered.shaders[k.shader]!] as const)),
  );
  const kernels: KernelInfo[] = kernelParts.map((k) => {
    const code = wgsl.get(k.name);
    const header = commentOf(k.name);
    return {
      ...k,
      wat: kernelWat(program, k.name, { comments: comment }),
      ...(code === undefined ? {} : { wgsl: `${header ? `${header.replace(/^/gm, '// ')}\n` : ''}${code}` }),
    };
  });

  // per entry, each buffer's first and last kernel
  const live = new Map<string, Record<string, [number, number]>>();
  for (const e of program.entries) {
    e.kernels.forEach((k, i) => {
      for (const b of [...buffersRead(k), ...buffersWritten(k)]) {
        const l = live.get(b) ?? {};
        l[e.name] = [l[e.name]?.[0] ?? i, i];
        live.set(b, l);
      }
    });
  }
  const buffers: BufferInfo[] = program.buffers.map((b) => ({
    name: b.name,
    role: b.init ? 'constant' : b.role,
    dtype: b.dtype,
    bytes: b.size * ELEMENT_BYTES,
    offset: program.memory.offsets[b.name] ?? 0,
    live: live.get(b.name) ?? {},
  }));
  const graphs: Record<string, string> = { ir: passTexts[0]!.texts[0]!.text };
  if (train) graphs.train = passTexts[1]!.texts[0]!.text;
  const stats = programStats(
    program,
    passTexts.map((p) => p.optimized),
  );
  const data: InspectData = {
    format: INSPECT_FORMAT,
    version: INSPECT_VERSION,
    model: model.name,
    batch: opts.batch ?? model.def.batch,
    train,
    graphs,
    entries: infos,
    kernels,
    kernelStages,
    program: printProgram(program),
    arenaBytes: program.memory.arenaBytes,
    buffers,
    stats: {
      ops: stats.ops,
      kernels: stats.kernels,
      arenaBytes: stats.arenaBytes,
      bytesMoved: stats.bytesMoved,
      bytesMovedUnfused: stats.bytesMovedUnfused,
    },
    sources,
  };
  return { data, program, entries };
}
