// An entry's optimized graph in Graphviz's DOT language: one box per node labelled with its value
// and type, inputs and params as ellipses, and (at the fused stage) each fusion group a coloured
// cluster. SVG element ids name the entry and the value or group (`e1-v7`, `e1-g3`) so the report's
// script can map a click back to them. Constants are left out: they are inlined everywhere.
import type { EntryInfo } from './data.ts';

const PALETTE = [
  '#fde2e4',
  '#e2ece9',
  '#dfe7fd',
  '#fff1c1',
  '#e8dff5',
  '#d7f2f7',
  '#fce1c8',
  '#e3f0cf',
  '#f5d9e8',
  '#dbe4ee',
];

/** A DOT string; a newline becomes DOT's centred line break. */
const q = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

/** Graphs with more values than this are drawn one box per fusion group, and past MAX_DRAWN_GROUPS
 *  groups not drawn (Graphviz's layout of an unrolled recurrence's training step, 565 groups, did not
 *  finish in ten minutes). */
export const MAX_DRAWN_VALUES = 1200;
export const MAX_DRAWN_GROUPS = 250;

/** How an entry is drawn. */
export function drawing(e: EntryInfo): 'values' | 'groups' | 'none' {
  return e.values.length <= MAX_DRAWN_VALUES ? 'values' : e.groups.length <= MAX_DRAWN_GROUPS ? 'groups' : 'none';
}

/** Graphviz settings that bound the layout's work (fewer network-simplex and crossing-minimization
 *  passes) on graphs past a few hundred boxes. */
export function layoutLimits(e: EntryInfo): Record<string, string | number> {
  const boxes = drawing(e) === 'groups' ? e.groups.length : e.values.length;
  return boxes > 300 ? { nslimit: 2, nslimit1: 2, mclimit: 0.1, searchsize: 10 } : {};
}

/** One box per fusion group, an edge where a group reads a value another one computes. */
function groupDot(e: EntryInfo, ei: number): string {
  const lines = [
    `digraph ${q(e.name)} {`,
    '  rankdir=TB; nodesep=0.25; ranksep=0.35;',
    '  node [fontname="Helvetica", fontsize=10, margin="0.08,0.03", height=0.3, shape=box, style="rounded,filled"];',
    '  edge [arrowsize=0.6, color="#777777"];',
  ];
  const groupOf = new Map(e.values.map((v) => [v.id, v.group]));
  for (const g of e.groups) {
    const label = `group ${g.index}: ${g.head}\n${g.roots.map((r) => `${r}: ${e.values.find((v) => v.id === r)?.type ?? ''}`).join('\n')}`;
    lines.push(
      `  ${q(`g${g.index}`)} [id=${q(`e${ei}-g${g.index}`)}, label=${q(label)}, fillcolor=${q(PALETTE[g.index % PALETTE.length]!)}];`,
    );
  }
  const edges = new Set<string>();
  const values = new Map(e.values.map((v) => [v.id, v]));
  for (const g of e.groups) {
    for (const id of g.nodes) {
      for (const i of values.get(id)?.inputs ?? []) {
        const from = groupOf.get(i);
        if (from !== undefined && from !== g.index && !g.nodes.includes(i))
          edges.add(`  ${q(`g${from}`)} -> ${q(`g${g.index}`)};`);
      }
    }
  }
  return [...lines, ...edges, '}'].join('\n');
}

export function entryDot(e: EntryInfo, ei: number, clusters: boolean): string {
  if (drawing(e) === 'groups') return groupDot(e, ei);
  const shown = e.values.filter((v) => v.op !== 'constant');
  const index = new Map(e.values.map((v, i) => [v.id, i]));
  const node = (v: EntryInfo['values'][number]): string => {
    const i = index.get(v.id)!;
    const label = `${v.id} ${v.kind === 'node' ? v.op : v.kind}\n${v.type}`;
    const shape =
      v.kind === 'node'
        ? `shape=box, style="rounded,filled${v.stored ? ',bold' : ''}", fillcolor=white`
        : 'shape=ellipse, style=filled, fillcolor="#eeeeee"';
    return `  ${q(`v${i}`)} [id=${q(`e${ei}-v${i}`)}, label=${q(label)}, ${shape}];`;
  };
  const lines = [
    `digraph ${q(e.name)} {`,
    '  rankdir=TB; nodesep=0.25; ranksep=0.35;',
    '  node [fontname="Helvetica", fontsize=10, margin="0.08,0.03", height=0.3];',
    '  edge [arrowsize=0.6, color="#777777"];',
  ];
  const grouped = new Set<string>();
  if (clusters) {
    e.groups.forEach((g) => {
      const members = shown.filter((v) => v.kind === 'node' && v.group === g.index);
      if (!members.length) return;
      members.forEach((v) => grouped.add(v.id));
      lines.push(
        `  subgraph ${q(`cluster_${g.index}`)} {`,
        `    id=${q(`e${ei}-g${g.index}`)}; label=${q(`group ${g.index}: ${g.head} -> ${g.kernels.join(', ')}`)};`,
        `    style=filled; color="#888888"; fillcolor=${q(PALETTE[g.index % PALETTE.length]!)}; fontname="Helvetica"; fontsize=10;`,
      );
      for (const v of members) lines.push(`  ${node(v)}`);
      lines.push('  }');
    });
  }
  for (const v of shown) if (!grouped.has(v.id)) lines.push(node(v));
  const shownIds = new Set(shown.map((v) => v.id));
  for (const v of shown) {
    for (const i of new Set(v.inputs))
      if (shownIds.has(i)) lines.push(`  ${q(`v${index.get(i)}`)} -> ${q(`v${index.get(v.id)}`)};`);
  }
  lines.push('}');
  return lines.join('\n');
}
