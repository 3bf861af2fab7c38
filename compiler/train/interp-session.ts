// A training session on the reference interpreter: slow, but the oracle the compiled sessions are
// compared with, and enough for tiny models such as XOR.
import type { Graph } from '../../ir/graph.ts';
import { initParams } from '../../ir/init.ts';
import { interpret } from '../../ir/interpret.ts';
import type { Tensor } from '../../ir/types.ts';
import type { NamedArray } from '../../runtime/safetensors.ts';
import type { Column } from '../data/dataset.ts';
import type { Session } from './loop.ts';
import type { SessionGraphs } from './session.ts';

export function tensorOf(g: Graph, name: string, data: Column): Tensor {
  const v = g.inputs.find((i) => i.name === name);
  if (!v) throw new Error(`session: graph @${g.name} has no input '${name}'`);
  return { type: v.type, data };
}

/** A tensor's elements in the runtime's typed-array kind of its dtype (f32 -> Float32Array). */
export function typedData(t: Tensor): Float32Array | Int32Array | Uint8Array {
  return t.type.dtype === 'f32'
    ? Float32Array.from(t.data)
    : t.type.dtype === 'i32'
      ? Int32Array.from(t.data)
      : Uint8Array.from(t.data);
}

export function namedArray(t: Tensor): NamedArray {
  const dtype = t.type.dtype === 'f32' ? 'F32' : t.type.dtype === 'i32' ? 'I32' : 'BOOL';
  return { dtype, shape: [...t.type.shape], data: typedData(t) };
}

const scalars = (outs: Record<string, Tensor>): Record<string, number> =>
  Object.fromEntries(Object.entries(outs).map(([k, t]) => [k, t.data[0]!]));

export function interpSession(graphs: SessionGraphs, batch: number): Session {
  const params: Record<string, Tensor> = initParams(graphs.train);
  const feed = (g: Graph, cols: Readonly<Record<string, Column>>): Record<string, Tensor> =>
    Object.fromEntries(g.inputs.map((i) => [i.name, tensorOf(g, i.name, cols[i.name] ?? missing(g, i.name))]));
  const pick = (g: Graph): Record<string, Tensor> => Object.fromEntries(g.params.map((p) => [p.name, params[p.name]!]));
  return {
    batch,
    step(cols) {
      const r = interpret(graphs.train, feed(graphs.train, cols), pick(graphs.train));
      Object.assign(params, r.assigns);
      return r.outputs.loss!.data[0]!;
    },
    predict(cols) {
      const r = interpret(graphs.infer, feed(graphs.infer, cols), pick(graphs.infer));
      return Object.fromEntries(Object.entries(r.outputs).map(([k, t]) => [k, t.data as Column]));
    },
    evaluate: (cols) => scalars(interpret(graphs.evaluate, feed(graphs.evaluate, cols), pick(graphs.evaluate)).outputs),
    params: () => Object.fromEntries(Object.entries(params).map(([k, t]) => [k, namedArray(t)])),
    load(saved) {
      for (const [name, a] of Object.entries(saved)) {
        const cur = params[name];
        if (!cur) throw new Error(`session: the model has no param '${name}'`);
        if (cur.data.length !== a.data.length)
          throw new Error(`session: param '${name}' has ${cur.data.length} values, the saved one ${a.data.length}`);
        cur.data.set(a.data);
      }
    },
  };
}

function missing(g: Graph, name: string): never {
  throw new Error(`session: the batch has no column '${name}' for graph @${g.name}'s input`);
}
