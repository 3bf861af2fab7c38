// The cotangents an op's VJP rule gives for concrete inputs and a concrete output cotangent, run
// through the interpreter in float64: for checking rules at points where finite differences
// cannot (ties, kinks, the edge of a domain).
import { makeNode, opDef } from '../../ir/builder.ts';
import type { Attrs, Input, Value } from '../../ir/graph.ts';
import { makeGraph } from '../../ir/graph.ts';
import { interpret } from '../../ir/interpret.ts';
import type { Tensor } from '../../ir/types.ts';

/** One entry per input: its cotangent's values, or null where the rule gives none. */
export function cotangentsOf(op: string, xs: readonly Tensor[], attrs: Attrs, g: readonly number[]): (number[] | null)[] {
  const ins: Input[] = xs.map((x, i) => ({ kind: 'input', name: `x${i}`, type: x.type }));
  const out = makeNode(op, ins, attrs);
  const gIn: Input = { kind: 'input', name: 'g', type: out.type };
  const rule = opDef(op).vjp;
  if (rule === 'none') throw new Error(`${op} has no VJP rule`);
  const cots = rule({ emit: (o, i, a) => makeNode(o, i, a), inputs: ins, out, g: gIn, attrs: out.attrs });
  const outputs = cots.flatMap((c, i): { name: string; value: Value }[] => (c ? [{ name: `d${i}`, value: c }] : []));
  const bwd = makeGraph({ name: 'bwd', inputs: [...ins, gIn], params: [], outputs });
  const feeds = Object.fromEntries(xs.map((x, i) => [`x${i}`, x]));
  const res = interpret(bwd, { ...feeds, g: { type: out.type, data: Float64Array.from(g) } }, {}, { float64: true }).outputs;
  return cots.map((c, i) => (c ? Array.from(res[`d${i}`]!.data) : null));
}
