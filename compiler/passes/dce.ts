// Dead-code elimination, and the one graph rebuilder the rewriting passes share.
import type { Graph, Node, Value } from '../../ir/graph.ts';
import { makeGraph } from '../../ir/graph.ts';
import { makeNode } from '../../ir/builder.ts';

/** Keeps only the nodes reachable from the outputs and assigns (inputs and params all stay). */
export function dce(g: Graph): Graph {
  return makeGraph({ name: g.name, inputs: g.inputs, params: g.params, outputs: g.outputs, assigns: g.assigns });
}

/** Rebuilds `g` node by node: `rule(node, inputs)` sees the node with its inputs already rewritten
 *  and returns its replacement (or undefined to keep the node, rebuilt only if an input changed). */
export function rewriteGraph(g: Graph, rule: (n: Node, inputs: readonly Value[]) => Value | undefined): Graph {
  const map = new Map<Value, Value>();
  const get = (v: Value): Value => map.get(v) ?? v;
  for (const n of g.nodes) {
    const inputs = n.inputs.map(get);
    const same = inputs.every((x, i) => x === n.inputs[i]);
    const self = same ? n : makeNode(n.op, inputs, n.attrs, n.loc);
    map.set(n, rule(self, inputs) ?? self);
  }
  return makeGraph({
    name: g.name,
    inputs: g.inputs,
    params: g.params,
    outputs: g.outputs.map((o) => ({ name: o.name, value: get(o.value) })),
    assigns: g.assigns.map((a) => ({ param: a.param, value: get(a.value) })),
  });
}
