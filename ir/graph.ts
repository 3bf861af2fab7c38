// The Graph IR: SSA values in topological order. A Value is a graph input, a param (persistent
// state with an initializer) or the result of a Node. Nodes are immutable once built.
import type { Loc } from './errors.ts';
import type { TensorType } from './types.ts';

export type AttrValue = number | boolean | string | readonly number[];
export type Attrs = Readonly<Record<string, AttrValue>>;

/** How a param gets its first value: an initializer name and its attributes (see ir/init.ts). */
export interface Init {
  readonly name: string;
  readonly attrs: Attrs;
}

export interface Input {
  readonly kind: 'input';
  readonly name: string;
  readonly type: TensorType;
}

export interface Param {
  readonly kind: 'param';
  readonly name: string;
  readonly type: TensorType;
  readonly init: Init;
}

export interface Node {
  readonly kind: 'node';
  readonly op: string;
  readonly inputs: readonly Value[];
  readonly attrs: Attrs;
  readonly type: TensorType;
  readonly loc?: Loc | undefined;
}

export type Value = Input | Param | Node;

export interface Output {
  readonly name: string;
  readonly value: Value;
}

/** A param written back in place when the graph runs (training steps, running statistics, counters). */
export interface Assign {
  readonly param: Param;
  readonly value: Value;
}

export interface Graph {
  readonly name: string;
  readonly inputs: readonly Input[];
  readonly params: readonly Param[];
  readonly nodes: readonly Node[];
  readonly outputs: readonly Output[];
  readonly assigns: readonly Assign[];
}

export function isNode(v: Value): v is Node {
  return v.kind === 'node';
}

/** Nodes reachable from the given roots, in topological order (inputs before users). */
export function topoOrder(roots: readonly Value[]): Node[] {
  const seen = new Set<Value>();
  const order: Node[] = [];
  const stack: { v: Value; i: number }[] = [];
  for (const r of roots) {
    if (seen.has(r)) continue;
    seen.add(r);
    stack.push({ v: r, i: 0 });
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const v = top.v;
      if (v.kind === 'node' && top.i < v.inputs.length) {
        const next = v.inputs[top.i++]!;
        if (!seen.has(next)) {
          seen.add(next);
          stack.push({ v: next, i: 0 });
        }
      } else {
        stack.pop();
        if (v.kind === 'node') order.push(v);
      }
    }
  }
  return order;
}

/** Builds a graph whose nodes are exactly those reachable from its outputs and assigns. */
export function makeGraph(parts: {
  name: string;
  inputs: readonly Input[];
  params: readonly Param[];
  outputs: readonly Output[];
  assigns?: readonly Assign[];
}): Graph {
  const assigns = parts.assigns ?? [];
  const nodes = topoOrder([...parts.outputs.map((o) => o.value), ...assigns.map((a) => a.value)]);
  return {
    name: parts.name,
    inputs: [...parts.inputs],
    params: [...parts.params],
    nodes,
    outputs: [...parts.outputs],
    assigns: [...assigns],
  };
}

/** Users of each value within a graph. */
export function usersOf(g: Graph): Map<Value, Node[]> {
  const m = new Map<Value, Node[]>();
  for (const n of g.nodes) {
    for (const i of n.inputs) {
      const l = m.get(i);
      if (l) l.push(n);
      else m.set(i, [n]);
    }
  }
  return m;
}
