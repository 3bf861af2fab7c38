// Reverse-mode automatic differentiation on the Graph IR. Each op's VJP rule (its registry entry)
// is written with other ops, so the backward pass is ordinary IR: one graph holds forward and
// backward together and fusion works across both.
//
// Only nodes on a path from a `wrt` value to `of` get work; integer and boolean values get no
// cotangent; cotangents reaching a value along several paths are accumulated with `add`.
import { makeNode, opDef } from '../../ir/builder.ts';
import { fail, type Loc } from '../../ir/errors.ts';
import type { Attrs, Graph, Node, Output, Value } from '../../ir/graph.ts';
import { makeGraph, topoOrder } from '../../ir/graph.ts';
import type { Emit } from '../../ir/ops/def.ts';
import { formatType, sameType } from '../../ir/types.ts';

/** Adds a node, located at the forward node whose VJP rule asked for it. */
export type LocEmit = (op: string, inputs: readonly Value[], attrs?: Attrs, loc?: Loc) => Node;

const defaultEmit: LocEmit = (op, inputs, attrs, loc) => makeNode(op, inputs, attrs, loc);

export interface GradRoots {
  /** The value differentiated (usually a scalar loss); must be f32. */
  readonly of: Value;
  /** The values the gradient is taken with respect to (params, inputs or intermediate nodes). */
  readonly wrt: readonly Value[];
  /** The cotangent of `of` (default: ones, so a non-scalar `of` is differentiated as its sum). */
  readonly seed?: Value;
}

function describe(v: Value): string {
  return v.kind === 'node' ? `${v.op} : ${formatType(v.type)}` : `%${v.name} : ${formatType(v.type)}`;
}

/** The values whose cotangent can be non-zero: the f32 `wrt` values and f32 nodes depending on one. */
function activeSet(order: readonly Node[], wrt: readonly Value[]): Set<Value> {
  const active = new Set<Value>(wrt);
  for (const n of order) {
    if (n.type.dtype === 'f32' && n.inputs.some((i) => active.has(i))) active.add(n);
  }
  return active;
}

/** Reverse mode from `of` back to each `wrt`; returns the cotangent of every `wrt` value (zeros when
 *  `of` does not depend on it). Every node the rules create goes through `emit`, with the location of
 *  the forward node being differentiated. */
export function grad(roots: GradRoots, emit: LocEmit = defaultEmit): Map<Value, Value> {
  const { of, wrt } = roots;
  if (of.type.dtype !== 'f32')
    fail('K5001', `grad: the value differentiated is ${describe(of)}; only f32 values have gradients`);
  for (const w of wrt) {
    if (w.type.dtype !== 'f32')
      fail(
        'K5001',
        `grad: cannot differentiate with respect to ${describe(w)}; integer and boolean values get no gradient`,
      );
  }
  const seed =
    roots.seed ??
    emit(
      'constant',
      [],
      { value: [1], shape: [...of.type.shape], dtype: 'f32' },
      of.kind === 'node' ? of.loc : undefined,
    );
  if (!sameType(seed.type, of.type)) {
    fail(
      'K5001',
      `grad: seed is ${formatType(seed.type)} but the value differentiated is ${formatType(of.type)}; give a seed of the same type`,
    );
  }
  const order = topoOrder([of]);
  const active = activeSet(order, wrt);
  const cot = new Map<Value, Value>();
  if (active.has(of)) cot.set(of, seed);

  for (let k = order.length - 1; k >= 0; k--) {
    const n = order[k]!;
    const g = cot.get(n);
    if (!g || !n.inputs.some((i) => active.has(i))) continue;
    const rule = opDef(n.op, n.loc).vjp;
    if (rule === 'none') {
      fail(
        'K5001',
        `${n.op}: has no gradient, but ${describe(n)} lies on the path from a differentiated value to the loss; wrap its input in stop_gradient if no gradient should flow`,
        n.loc,
      );
    }
    const at: Emit = (op, inputs, attrs) => emit(op, inputs, attrs, n.loc);
    const cots = rule({ emit: at, inputs: n.inputs, out: n, g, attrs: n.attrs });
    n.inputs.forEach((x, i) => {
      const c = cots[i];
      if (!c || !active.has(x)) return;
      if (!sameType(c.type, x.type)) {
        fail(
          'K5001',
          `${n.op}: VJP rule gave a ${formatType(c.type)} cotangent for input ${i} of type ${formatType(x.type)}; the rule is wrong`,
          n.loc,
        );
      }
      const prev = cot.get(x);
      cot.set(x, prev ? at('add', [prev, c]) : c);
    });
  }

  const out = new Map<Value, Value>();
  for (const w of wrt) {
    out.set(w, cot.get(w) ?? emit('constant', [], { value: [0], shape: [...w.type.shape], dtype: 'f32' }));
  }
  return out;
}

/** One graph with the forward pass and the gradients of output `of` with respect to the named params
 *  (or inputs): the original outputs plus one output `grad/<name>` per `wrt` name. */
export function gradGraph(g: Graph, opts: { of: string; wrt: readonly string[] }): Graph {
  const of = g.outputs.find((o) => o.name === opts.of);
  if (!of)
    fail(
      'K5001',
      `gradGraph: graph @${g.name} has no output '${opts.of}'; outputs: ${g.outputs.map((o) => o.name).join(', ')}`,
    );
  const byName = new Map<string, Value>([...g.inputs, ...g.params].map((v) => [v.name, v]));
  const wrt = opts.wrt.map(
    (name) => byName.get(name) ?? fail('K5001', `gradGraph: graph @${g.name} has no param or input '${name}'`),
  );
  const grads = grad({ of: of.value, wrt });
  const outputs: Output[] = [
    ...g.outputs,
    ...wrt.map((w, i) => ({ name: `grad/${opts.wrt[i]!}`, value: grads.get(w)! })),
  ];
  return makeGraph({ name: g.name, inputs: g.inputs, params: g.params, outputs, assigns: g.assigns });
}
