// Shared by the compiler tests: random feeds and the check that a compiled Program, run by the
// Kernel IR interpreter, gives the graph interpreter's outputs and assigns.
import { expect } from 'vitest';
import type { Graph } from '../../ir/graph.ts';
import { interpret } from '../../ir/interpret.ts';
import { interpretProgram } from '../../ir/interpret-kernels.ts';
import type { Program } from '../../ir/kernel.ts';
import { formatType, type Tensor } from '../../ir/types.ts';
import { compileProgram, type CompileOptions } from '../../compiler/pipeline.ts';
import { randomTensor, rng } from '../grad/check-vjp.ts';

export function toF32(t: Tensor): Tensor {
  return t.type.dtype === 'f32' && !(t.data instanceof Float32Array)
    ? { type: t.type, data: Float32Array.from(t.data) }
    : t;
}

/** Random values for every input and param of `g` (i32 in [0, intHi)). */
export function feeds(
  g: Graph,
  seed = 1,
  intHi = 3,
): { inputs: Record<string, Tensor>; params: Record<string, Tensor> } {
  const next = rng(seed);
  const make = (t: Tensor['type']): Tensor =>
    toF32(randomTensor(t, next, t.dtype === 'i32' ? 0 : -1, t.dtype === 'i32' ? intHi : 1));
  return {
    inputs: Object.fromEntries(g.inputs.map((i) => [i.name, make(i.type)])),
    params: Object.fromEntries(g.params.map((p) => [p.name, make(p.type)])),
  };
}

export function expectClose(got: Tensor, want: Tensor, what: string, tol = 1e-4): void {
  expect(formatType(got.type), what).toBe(formatType(want.type));
  for (let i = 0; i < want.data.length; i++) {
    const a = got.data[i]!,
      b = want.data[i]!;
    if (Number.isNaN(b)) {
      expect(Number.isNaN(a), `${what}[${i}]`).toBe(true);
      continue;
    }
    if (Math.abs(a - b) > tol * (1 + Math.abs(b))) expect(a, `${what}[${i}]`).toBe(b);
  }
}

/** Compiles `g` alone and checks the kernels against the graph interpreter; returns the program. */
export function checkLowering(g: Graph, opts: CompileOptions & { seed?: number; tol?: number } = {}): Program {
  const { inputs, params } = feeds(g, opts.seed ?? 1);
  const want = interpret(g, inputs, params);
  const program = compileProgram([{ name: 'main', graph: g }], opts);
  const got = interpretProgram(program, 'main', inputs, params);
  for (const o of g.outputs) expectClose(got.outputs[o.name]!, want.outputs[o.name]!, `output ${o.name}`, opts.tol);
  for (const p of g.params) {
    expectClose(got.params[p.name]!, want.assigns[p.name] ?? params[p.name]!, `param ${p.name}`, opts.tol);
  }
  return program;
}
