// The verifier: checks the invariants every pass must keep, so it can run after each one.
//   K4001 not SSA: a node uses a value that is not defined earlier in this graph, or appears twice;
//   K4002 types: a node's type differs from what its op infers, or an assign's value type from its param's;
//   K4003 structure: duplicate or invalid names, outputs or assigns that refer to values outside the graph.
// Errors print the offending line of the graph with its neighbours, and carry the node's source location.
import { normalizeAttrs, opDef } from './builder.ts';
import { KilnError, type DiagnosticCode, type Loc } from './errors.ts';
import type { Graph, Node, Value } from './graph.ts';
import { NAME_RE, printLines } from './print.ts';
import { formatType, sameType, type TensorType } from './types.ts';

/** Lines of context printed on each side of the offending line. */
const CONTEXT = 2;

/** The graph's text around line `at` (an index into the printed lines), the line itself marked with `>`. */
export function excerpt(lines: readonly string[], at: number, context = CONTEXT): string {
  const lo = Math.max(0, at - context),
    hi = Math.min(lines.length, at + context + 1);
  return lines
    .slice(lo, hi)
    .map((l, k) => `${lo + k === at ? '>' : ' '} ${l}`)
    .join('\n');
}

export function verify(g: Graph): void {
  // Line indices of the printed graph: the header, one per node, one per assign, then return. It is
  // printed only when something is wrong, so verifying after every pass stays cheap.
  const broken: (code: DiagnosticCode, at: number, rule: string, loc?: Loc) => never = (code, at, rule, loc) => {
    throw new KilnError(code, `verify @${g.name}: ${rule}\n${excerpt(printLines(g).lines, at)}`, loc);
  };
  const header = 0;
  const assignLine = (k: number): number => 1 + g.nodes.length + k;
  const returnLine = assignLine(g.assigns.length);

  const defined = new Set<Value>();
  const names = new Set<string>();
  const decls = [...g.inputs.map((v) => ({ v, kind: 'input' })), ...g.params.map((v) => ({ v, kind: 'param' }))];
  for (const { v, kind } of decls) {
    if (v.kind !== kind) broken('K4003', header, `%${v.name} is listed as a ${kind} but is a ${v.kind}`);
    if (!NAME_RE.test(v.name))
      broken(
        'K4003',
        header,
        `${kind} name '${v.name}' is not valid (letters, digits, _ . / -, not starting with a digit)`,
      );
    if (names.has(v.name)) broken('K4003', header, `the name %${v.name} is declared twice; rename one`);
    names.add(v.name);
    defined.add(v);
  }

  g.nodes.forEach((n, i) => {
    const at = 1 + i;
    if (defined.has(n)) broken('K4001', at, `${n.op}: the same node appears twice in the node list`, n.loc);
    n.inputs.forEach((v, i) => {
      if (defined.has(v)) return;
      const why =
        v.kind !== 'node'
          ? `%${v.name} is not an input or param of @${g.name}`
          : g.nodes.includes(v)
            ? `input ${i} is used before it is defined (nodes must be in topological order)`
            : `input ${i} (a ${v.op} node) is not a node of @${g.name}`;
      broken('K4001', at, `${n.op}: ${why}`, n.loc);
    });
    const inferred = reinfer(n);
    if (typeof inferred === 'string') broken('K4002', at, `${n.op}: ${inferred}`, n.loc);
    if (!sameType(inferred, n.type)) {
      broken(
        'K4002',
        at,
        `${n.op}: the node's type ${formatType(n.type)} differs from the inferred ${formatType(inferred)}`,
        n.loc,
      );
    }
    defined.add(n);
  });

  const assigned = new Set<Value>();
  g.assigns.forEach((a, k) => {
    const at = assignLine(k);
    if (!g.params.includes(a.param)) broken('K4003', at, `assign: %${a.param.name} is not a param of @${g.name}`);
    if (!defined.has(a.value))
      broken('K4003', at, `assign: the new value of %${a.param.name} is not a value of @${g.name}`);
    if (assigned.has(a.param)) broken('K4003', at, `assign: %${a.param.name} is assigned twice`);
    if (!sameType(a.param.type, a.value.type)) {
      broken(
        'K4002',
        at,
        `assign: param %${a.param.name} is ${formatType(a.param.type)} but the new value is ${formatType(a.value.type)}`,
      );
    }
    assigned.add(a.param);
  });

  const outNames = new Set<string>();
  for (const o of g.outputs) {
    if (!defined.has(o.value)) broken('K4003', returnLine, `return: output '${o.name}' is not a value of @${g.name}`);
    if (outNames.has(o.name)) broken('K4003', returnLine, `return: output '${o.name}' is returned twice; rename one`);
    outNames.add(o.name);
  }
}

/** The node's type as its op infers it now, or why the op rejects the node. */
function reinfer(n: Node): TensorType | string {
  try {
    const def = opDef(n.op);
    if (def.arity !== 'variadic' && n.inputs.length !== def.arity)
      return `takes ${def.arity} inputs, has ${n.inputs.length}`;
    return def.infer(
      n.inputs.map((v) => v.type),
      normalizeAttrs(n.op, def, n.attrs),
    );
  } catch (e) {
    if (!(e instanceof KilnError)) throw e;
    return `the op rejects this node (${e.code}: ${e.detail})`;
  }
}

/** Verifies each graph of a program. */
export function verifyAll(graphs: readonly Graph[]): void {
  for (const g of graphs) verify(g);
}
