// The reference interpreter: runs a graph on typed arrays, node by node, with each op's `eval`.
// It is the oracle for every other backend, so it stays simple.
import { fail } from './errors.ts';
import type { Graph, Value } from './graph.ts';
import { opDef } from './builder.ts';
import type { EvalContext } from './ops/def.ts';
import { formatType, sameType, type Tensor } from './types.ts';

export interface InterpretOptions {
  /** Evaluate f32 values in float64 (finite-difference gradient checks). */
  readonly float64?: boolean;
}

export interface InterpretResult {
  readonly outputs: Record<string, Tensor>;
  /** New values of assigned params, by param name. */
  readonly assigns: Record<string, Tensor>;
}

function feed(kind: string, name: string, expected: Value, given: Tensor | undefined): Tensor {
  if (!given) fail('K7002', `missing ${kind} '${name}' (${formatType(expected.type)})`);
  if (!sameType(given.type, expected.type)) {
    fail('K7002', `${kind} '${name}' is ${formatType(given.type)}, expected ${formatType(expected.type)}`);
  }
  return given;
}

export function interpret(
  g: Graph,
  inputs: Readonly<Record<string, Tensor>>,
  params: Readonly<Record<string, Tensor>> = {},
  opts: InterpretOptions = {},
): InterpretResult {
  const ctx: EvalContext = { float64: opts.float64 ?? false };
  const env = new Map<Value, Tensor>();
  for (const i of g.inputs) env.set(i, feed('input', i.name, i, inputs[i.name]));
  for (const p of g.params) env.set(p, feed('param', p.name, p, params[p.name]));
  for (const n of g.nodes) {
    const args = n.inputs.map((v) => env.get(v)!);
    env.set(n, opDef(n.op).eval(args, n.attrs, n.type, ctx));
  }
  const outputs: Record<string, Tensor> = {};
  for (const o of g.outputs) outputs[o.name] = env.get(o.value)!;
  const assigns: Record<string, Tensor> = {};
  for (const a of g.assigns) assigns[a.param.name] = env.get(a.value)!;
  return { outputs, assigns };
}
