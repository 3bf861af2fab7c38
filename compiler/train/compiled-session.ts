// A training session on the compiled program (WebAssembly, or WGSL on WebGPU): `train_step`,
// `infer` and `evaluate` are entry points of one program sharing its params, so a step is one call
// (one call into wasm; one submit on WebGPU).
import { initParams } from '../../ir/init.ts';
import type { NamedArray } from '../../runtime/safetensors.ts';
import type { Column } from '../data/dataset.ts';
import { compileProgram } from '../pipeline.ts';
import { loadProgram, type CompiledTarget } from './executor.ts';
import { namedArray } from './interp-session.ts';
import type { Session } from './loop.ts';
import type { SessionGraphs } from './session.ts';

/** The session on `target` (wasm: on `threads` threads, the threaded build on a worker pool when more than one). */
export async function compiledSession(
  graphs: SessionGraphs,
  batch: number,
  target: CompiledTarget,
  threads = 1,
): Promise<Session> {
  const program = compileProgram([
    { name: 'infer', graph: graphs.infer },
    { name: 'train_step', graph: graphs.train },
    { name: 'evaluate', graph: graphs.evaluate },
  ]);
  const exec = await loadProgram(program, target, threads);
  for (const [name, t] of Object.entries(initParams(graphs.train))) {
    exec.writeParam(name, namedArray(t).data);
  }
  const run = (entry: string, cols: Readonly<Record<string, Column>>): Record<string, Column> => {
    const e = program.entries.find((x) => x.name === entry)!;
    const ins = Object.fromEntries(e.inputs.map((i) => [i.name, cols[i.name]!]));
    const out = exec.run(entry, ins);
    return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, t.data as Column]));
  };
  return {
    batch,
    step: (cols) => run('train_step', cols).loss![0]!,
    predict: (cols) => run('infer', cols),
    evaluate: (cols) => Object.fromEntries(Object.entries(run('evaluate', cols)).map(([k, v]) => [k, v[0]!])),
    params(): Record<string, NamedArray> {
      return Object.fromEntries(program.params.map((p) => [p.name, namedArray(exec.readParam(p.name))]));
    },
    load(saved) {
      for (const [name, a] of Object.entries(saved)) exec.writeParam(name, a.data);
    },
  };
}
