// A training session on the compiled WebAssembly program: `train_step`, `infer` and `evaluate` are
// entry points of one module sharing its params, so a step is one call into wasm.
import { initParams } from '../../ir/init.ts';
import { loadWasm } from '../../runtime/index.ts';
import type { NamedArray } from '../../runtime/safetensors.ts';
import { renderWasm } from '../../targets/wasm/index.ts';
import type { Column } from '../data/dataset.ts';
import { compileProgram } from '../pipeline.ts';
import { namedArray } from './interp-session.ts';
import type { Session } from './loop.ts';
import { toManifest } from '../artifact/manifest.ts';
import type { SessionGraphs } from './session.ts';

/** The session on `threads` threads (the threaded build on a worker pool when more than one). */
export async function wasmSession(graphs: SessionGraphs, batch: number, threads = 1): Promise<Session> {
  const program = compileProgram([
    { name: 'infer', graph: graphs.infer },
    { name: 'train_step', graph: graphs.train },
    { name: 'evaluate', graph: graphs.evaluate },
  ]);
  const bins = await renderWasm(program, { relaxed: true, threads: threads > 1 });
  const exec = await loadWasm(
    { simd: bins.binary, relaxed: bins.relaxed, threads: bins.threads },
    toManifest(program),
    {
      threads: bins.threads ? threads : 1,
    },
  );
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
