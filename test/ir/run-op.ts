// Runs one op on concrete tensors through the reference interpreter (the way a graph would).
import { makeNode } from '../../ir/builder.ts';
import { KilnError } from '../../ir/errors.ts';
import type { Attrs, Input } from '../../ir/graph.ts';
import { makeGraph } from '../../ir/graph.ts';
import { interpret } from '../../ir/interpret.ts';
import { tensor, type Shape, type Tensor } from '../../ir/types.ts';

export function runOp(op: string, args: readonly Tensor[], attrs: Attrs = {}): Tensor {
  const inputs: Input[] = args.map((t, i) => ({ kind: 'input', name: `x${i}`, type: t.type }));
  const node = makeNode(op, inputs, attrs);
  const g = makeGraph({ name: op, inputs, params: [], outputs: [{ name: 'y', value: node }] });
  return interpret(g, Object.fromEntries(args.map((t, i) => [`x${i}`, t]))).outputs.y!;
}

/** An f32 tensor of the given shape holding 1, 2, 3, ... (or the given values). */
export function f32(shape: Shape, values?: readonly number[]): Tensor {
  const n = shape.reduce((p, d) => p * d, 1);
  return tensor('f32', shape, values ?? Array.from({ length: n }, (_, i) => i + 1));
}

/** Plain numbers of a result, for toEqual / toBeCloseTo comparisons. */
export function values(t: Tensor): number[] {
  return Array.from(t.data);
}

/** The KilnError `f` throws; any other outcome fails the test. */
export function kilnErrorOf(f: () => unknown): KilnError {
  try {
    f();
  } catch (e) {
    if (e instanceof KilnError) return e;
    throw e;
  }
  throw new Error('expected a KilnError');
}
