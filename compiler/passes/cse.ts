// Common-subexpression elimination: nodes equal by structure (op, inputs, attributes; not the
// source location) become one node, the first one met.
import type { Graph, Node, Value } from '../../ir/graph.ts';
import { rewriteGraph } from './dce.ts';

export function cse(g: Graph): Graph {
  const ids = new Map<Value, number>();
  let next = 0;
  const id = (v: Value): number => {
    let i = ids.get(v);
    if (i === undefined) ids.set(v, (i = next++));
    return i;
  };
  const seen = new Map<string, Node>();
  return rewriteGraph(g, (n, inputs) => {
    const key = `${n.op}(${inputs.map(id).join(',')})${JSON.stringify(n.attrs)}`;
    const first = seen.get(key);
    if (first) return first;
    seen.set(key, n);
    return undefined;
  });
}
