// The IR text format, printing side. MLIR-like, linear and deterministic:
//   graph @NAME(%x: f32[2,3]) params(%w: f32[3,4] = random_uniform{max=0.05, min=-0.05, seed=1}) {
//     %0 = matmul(%x, %w) {transpose_a=false, transpose_b=false} : f32[2,4]  loc("model.ts":9:14)
//     %w <- %0
//     return %0 as y
//   }
// Node values are numbered in order; inputs and params keep their names; attributes are sorted.
// ir/parse.ts reads it back: print(parse(print(g))) === print(g).
import type { Attrs, AttrValue, Graph, Init, Value } from './graph.ts';
import { formatType } from './types.ts';

export interface PrintOptions {
  /** Print `loc(...)` after nodes that have a source location (default true). */
  readonly locations?: boolean;
}

/** Value names as the user's identifiers (inputs, params, outputs) must spell them. */
export const NAME_RE = /^[A-Za-z_][A-Za-z0-9_./-]*$/;
/** Words the lexer reads as something other than a string. */
const KEYWORDS = new Set(['true', 'false', 'nan', 'inf']);

/** Shortest round-tripping spelling of a number: `0.1`, `1e-7`, `nan`, `inf`, `-inf`, `-0`. */
export function formatNumber(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (Object.is(x, -0)) return '-0';
  return String(x);
}

/** A string as a bare word when it is one identifier (and not a keyword), else double-quoted. */
export function formatString(s: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(s) && !KEYWORDS.has(s) ? s : JSON.stringify(s);
}

export function formatAttrValue(v: AttrValue): string {
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return formatString(v);
  return `[${v.map(formatNumber).join(',')}]`;
}

/** `{a=1, b=[2,3]}` with keys sorted; '' when there are none. */
export function formatAttrs(a: Attrs): string {
  const keys = Object.keys(a).sort();
  if (keys.length === 0) return '';
  return `{${keys.map((k) => `${k}=${formatAttrValue(a[k]!)}`).join(', ')}}`;
}

export function formatInit(i: Init): string {
  return i.name + formatAttrs(i.attrs);
}

/** A name that is not a valid identifier (an output called "my loss") prints quoted. */
function formatName(name: string): string {
  return NAME_RE.test(name) && !KEYWORDS.has(name) ? name : JSON.stringify(name);
}

/** The printed lines of a graph and, for each value printed on a line of its own, its line index. */
export interface PrintedGraph {
  readonly lines: readonly string[];
  readonly lineOf: ReadonlyMap<Value, number>;
}

/** Names every value of g: inputs and params by name, nodes %0, %1, ... in order. A node outside the
 *  graph (only in a broken graph, which the verifier reports) prints as `%?op`. */
function namer(g: Graph): (v: Value) => string {
  const ids = new Map<Value, string>();
  g.nodes.forEach((n, i) => ids.set(n, `%${i}`));
  return (v) => (v.kind === 'node' ? (ids.get(v) ?? `%?${v.op}`) : `%${formatName(v.name)}`);
}

export function printLines(g: Graph, opts: PrintOptions = {}): PrintedGraph {
  const name = namer(g);
  const lineOf = new Map<Value, number>();
  const lines: string[] = [];
  const ins = g.inputs.map((i) => `${name(i)}: ${formatType(i.type)}`).join(', ');
  const params = g.params.map((p) => `${name(p)}: ${formatType(p.type)} = ${formatInit(p.init)}`).join(', ');
  lines.push(`graph @${formatName(g.name)}(${ins})${params ? ` params(${params})` : ''} {`);
  for (const n of g.nodes) {
    const attrs = formatAttrs(n.attrs);
    const loc =
      n.loc && opts.locations !== false ? `  loc(${JSON.stringify(n.loc.file)}:${n.loc.line}:${n.loc.col})` : '';
    lineOf.set(n, lines.length);
    lines.push(
      `  ${name(n)} = ${n.op}(${n.inputs.map(name).join(', ')})${attrs ? ' ' + attrs : ''} : ${formatType(n.type)}${loc}`,
    );
  }
  for (const a of g.assigns) lines.push(`  ${name(a.param)} <- ${name(a.value)}`);
  const outs = g.outputs.map((o) => `${name(o.value)} as ${formatName(o.name)}`).join(', ');
  lines.push(`  return${outs ? ' ' + outs : ''}`);
  lines.push('}');
  return { lines, lineOf };
}

export function printGraph(g: Graph, opts: PrintOptions = {}): string {
  return printLines(g, opts).lines.join('\n') + '\n';
}

/** Several graphs (a program: entry points sharing params), separated by blank lines. */
export function print(graphs: Graph | readonly Graph[], opts: PrintOptions = {}): string {
  const list: readonly Graph[] = Array.isArray(graphs) ? graphs : [graphs as Graph];
  return list.map((g) => printGraph(g, opts)).join('\n');
}
