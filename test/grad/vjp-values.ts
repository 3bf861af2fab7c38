// The cotangents an op's VJP rule gives for concrete inputs and a concrete output cotangent, run
// through the interpreter in float64: for checking rules at points where finite differences
// cannot (ties, kinks, the edge of a domain).
import { makeNode, opDef } from '../../ir/builder.ts';
import type { Attrs, Graph, Input, Value } from '../../ir/graph.ts';
import { makeGraph } from '../../ir/graph.ts';
import { interpret } from '../../ir/interpret.ts';
import { tensorType, type Tensor, type TensorType } from '../../ir/types.ts';

export interface VjpGraphs {
  readonly out: Value;
  /** One per input: the rule's cotangent, or null. */
  readonly cots: readonly (Value | null)[];
  /** Inputs x0..xn-1 -> output y. */
  readonly fwd: Graph;
  /** Inputs x0..xn-1 and g -> outputs d<i> for each input that gets a cotangent. */
  readonly bwd: Graph;
}

/** The forward graph of one op and the backward graph its VJP rule builds. */
export function vjpGraphs(op: string, inputTypes: readonly TensorType[], attrs: Attrs): VjpGraphs {
  const ins: Input[] = inputTypes.map((t, i) => ({ kind: 'input', name: `x${i}`, type: tensorType(t.dtype, t.shape) }));
  const out = makeNode(op, ins, attrs);
  const gIn: Input = { kind: 'input', name: 'g', type: out.type };
  const rule = opDef(op).vjp;
  if (rule === 'none') throw new Error(`${op} has no VJP rule`);
  const cots = rule({ emit: (o, i, a) => makeNode(o, i, a), inputs: ins, out, g: gIn, attrs: out.attrs });
  const outputs = cots.flatMap((c, i): { name: string; value: Value }[] => (c ? [{ name: `d${i}`, value: c }] : []));
  const fwd = makeGraph({ name: 'fwd', inputs: ins, params: [], outputs: [{ name: 'y', value: out }] });
  const bwd = makeGraph({ name: 'bwd', inputs: [...ins, gIn], params: [], outputs });
  return { out, cots, fwd, bwd };
}

/** One entry per input: its cotangent's values, or null where the rule gives none. */
export function cotangentsOf(
  op: string,
  xs: readonly Tensor[],
  attrs: Attrs,
  g: readonly number[],
): (number[] | null)[] {
  const { out, cots, bwd } = vjpGraphs(
    op,
    xs.map((x) => x.type),
    attrs,
  );
  const feeds = Object.fromEntries(xs.map((x, i) => [`x${i}`, x]));
  const res = interpret(
    bwd,
    { ...feeds, g: { type: out.type, data: Float64Array.from(g) } },
    {},
    { float64: true },
  ).outputs;
  return cots.map((c, i) => (c ? Array.from(res[`d${i}`]!.data) : null));
}
