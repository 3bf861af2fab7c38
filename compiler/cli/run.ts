// `kiln run <artifact> --input name=file.npy ...`: loads a compiled artifact with the runtime (every
// check of loadModel), runs one entry point on .npy inputs, prints the outputs or writes them as
// .npy files. Self-contained: it registers as one line in main.ts.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fail } from '../../ir/errors.ts';
import { formatSpec } from '../../runtime/manifest.ts';
import { loadModel } from '../../runtime/model.ts';
import { readNpy, writeNpy } from '../../runtime/npy.ts';
import { checkOutDir, writeAtomic } from '../artifact/write.ts';
import { parseArgs, usageOf, type CommandSpec } from './args.ts';

export const summary = 'run a compiled artifact on .npy inputs';

const SPEC: CommandSpec = {
  name: 'run',
  usage: '<artifact-dir> --input name=file.npy ... [options]',
  flags: {
    input: { type: 'string', help: 'name=file.npy, once per input (repeatable)' },
    entry: { type: 'string', help: 'the entry point to run (default infer)' },
    out: { type: 'string', help: 'a folder to write each output to as <name>.npy' },
    backend: { type: 'string', help: 'auto | wasm | webgpu (default auto)' },
    json: { type: 'boolean', help: 'print the outputs as one JSON object' },
  },
};

/** The --input flags (repeatable), and the other arguments for parseArgs. */
function splitInputs(argv: readonly string[]): { inputs: string[]; rest: string[] } {
  const inputs: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--input') {
      const v = argv[++i];
      if (v === undefined) fail('K8001', 'run: flag --input needs a value name=file.npy');
      inputs.push(v);
    } else if (a.startsWith('--input=')) inputs.push(a.slice('--input='.length));
    else rest.push(a);
  }
  return { inputs, rest };
}

const preview = (d: ArrayLike<number>): string => {
  const xs = Array.from({ length: Math.min(d.length, 10) }, (_, i) => Number(d[i]!.toPrecision(6)));
  return `[${xs.join(', ')}${d.length > 10 ? `, ... (${d.length} values)` : ''}]`;
};

export async function run(argv: string[]): Promise<number> {
  const { inputs, rest } = splitInputs(argv);
  const args = parseArgs(SPEC, rest);
  if (args.flags.help) {
    process.stdout.write(usageOf(SPEC));
    return 0;
  }
  if (args.positionals.length !== 1) fail('K8001', `run: expected one artifact folder, got ${args.positionals.length}\n${usageOf(SPEC)}`);
  const out = typeof args.flags.out === 'string' ? args.flags.out : undefined;
  if (out) checkOutDir('run', out);
  const given: Record<string, { file: string; bytes: Uint8Array }> = {};
  for (const spec of inputs) {
    const eq = spec.indexOf('=');
    if (eq <= 0) fail('K8001', `run: --input expects name=file.npy, got '${spec}'`);
    const [name, file] = [spec.slice(0, eq), spec.slice(eq + 1)];
    if (given[name]) fail('K8001', `run: input '${name}' is given twice`);
    try {
      given[name] = { file, bytes: readFileSync(file) };
    } catch (e) {
      fail('K8001', `run: cannot read ${file} for input '${name}': ${(e as Error).message}`);
    }
  }
  const model = await loadModel(args.positionals[0]!, { backend: (args.flags.backend ?? 'auto') as 'auto' });
  const entryName = typeof args.flags.entry === 'string' ? args.flags.entry : 'infer';
  const entry = model.manifest.entries.find((e) => e.name === entryName);
  if (!entry) fail('K7002', `run: expected an entry point (${model.manifest.entries.map((e) => e.name).join(', ')}), found '${entryName}'`);
  const feeds = Object.fromEntries(Object.entries(given).map(([name, g]) => {
    const a = readNpy(g.bytes, g.file);
    const want = entry.inputs.find((i) => i.name === name);
    if (want && a.dtype !== want.dtype) fail('K7002', `run: ${g.file} for input '${name}': expected ${formatSpec(want)}, found ${formatSpec(a)}`);
    return [name, { data: a.data, shape: a.shape }];
  }));
  const t0 = performance.now();
  const outputs = await model.run(entryName, feeds);
  const ms = performance.now() - t0;
  if (out) {
    mkdirSync(out, { recursive: true });
    for (const o of entry.outputs) writeAtomic(join(out, `${o.name}.npy`), writeNpy({ dtype: o.dtype, shape: o.shape, data: outputs[o.name]! }));
  }
  if (args.flags.json) {
    process.stdout.write(JSON.stringify({ backend: model.backendInfo, ms, outputs: Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, Array.from(v)])) }) + '\n');
  } else {
    for (const o of entry.outputs) process.stdout.write(`${o.name}: ${formatSpec(o)} ${preview(outputs[o.name]!)}\n`);
    process.stdout.write(`${model.manifest.model.name} ${entryName} on ${model.backendInfo} in ${ms.toFixed(2)} ms${out ? `; wrote ${entry.outputs.map((o) => `${o.name}.npy`).join(', ')} to ${out}` : ''}\n`);
  }
  return 0;
}
