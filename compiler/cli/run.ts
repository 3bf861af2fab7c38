// `kiln run <artifact> --input name=file.npy ...`: loads a compiled artifact with the runtime (every
// check of loadModel), runs one entry point on .npy inputs, prints the outputs or writes them as
// .npy files. Self-contained: one line registers it in main.ts.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fail } from '../../ir/errors.ts';
import { formatSpec } from '../../runtime/manifest.ts';
import { loadModel } from '../../runtime/model.ts';
import { readNpy, writeNpy } from '../../runtime/npy.ts';
import { webgpuThread } from '../../runtime/webgpu-node.ts';
import { webgpuWorkerFile } from '../webgpu.ts';
import { checkOutputPath, writeAtomic } from './files.ts';
import { choice, defineCommand, flag, list, text } from './command.ts';

const preview = (d: ArrayLike<number>): string => {
  const xs = Array.from({ length: Math.min(d.length, 10) }, (_, i) => Number(d[i]!.toPrecision(6)));
  return `[${xs.join(', ')}${d.length > 10 ? `, ... (${d.length} values)` : ''}]`;
};

export default defineCommand({
  name: 'run',
  summary: 'run a compiled artifact on .npy inputs',
  args: ['<artifact-dir>'],
  options: {
    input: list('name=file.npy: an input of the entry', { value: 'name=file.npy' }),
    entry: text('the entry point to run', { value: 'name', default: 'infer' }),
    out: text('a folder to write each output to as <name>.npy', { value: 'dir' }),
    backend: choice('where it runs', ['auto', 'wasm', 'webgpu'], { default: 'auto' }),
    json: flag('print the outputs as one JSON object'),
  },
  epilog: 'Example:\n  kiln run build/mnist --input x=digits.npy --out predictions/',
  run: async ([dir], opts) => {
    const out = opts.out;
    // outputs replace earlier <name>.npy files in the folder; the folder is checked before any work
    if (out) checkOutputPath(out, { command: 'run', flag: '--out', kind: 'folder', file: 'output.npy', force: true });
    const given: Record<string, { file: string; bytes: Uint8Array }> = {};
    for (const spec of opts.input ?? []) {
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
    // WebGPU in Node runs in the process's worker thread: from source, the runtime's worker bundled on first use
    if (opts.backend !== 'wasm') webgpuThread(await webgpuWorkerFile());
    const model = await loadModel(dir!, { backend: opts.backend });
    const entry = model.manifest.entries.find((e) => e.name === opts.entry);
    if (!entry)
      fail(
        'K7002',
        `run: expected an entry point (${model.manifest.entries.map((e) => e.name).join(', ')}), found '${opts.entry}'`,
      );
    const feeds = Object.fromEntries(
      Object.entries(given).map(([name, g]) => {
        const a = readNpy(g.bytes, g.file);
        const want = entry.inputs.find((i) => i.name === name);
        if (want && a.dtype !== want.dtype)
          fail('K7002', `run: ${g.file} for input '${name}': expected ${formatSpec(want)}, found ${formatSpec(a)}`);
        return [name, { data: a.data, shape: a.shape }];
      }),
    );
    const t0 = performance.now();
    const outputs = await model.run(entry.name, feeds);
    const ms = performance.now() - t0;
    if (out) {
      mkdirSync(out, { recursive: true });
      for (const o of entry.outputs)
        writeAtomic(join(out, `${o.name}.npy`), writeNpy({ dtype: o.dtype, shape: o.shape, data: outputs[o.name]! }), {
          force: true,
        });
    }
    if (opts.json) {
      process.stdout.write(
        JSON.stringify({
          backend: model.backendInfo,
          ms,
          outputs: Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, Array.from(v)])),
        }) + '\n',
      );
    } else {
      for (const o of entry.outputs) process.stdout.write(`${o.name}: ${formatSpec(o)} ${preview(outputs[o.name]!)}\n`);
      process.stdout.write(
        `${model.manifest.model.name} ${entry.name} on ${model.backendInfo} in ${ms.toFixed(2)} ms${out ? `; wrote ${entry.outputs.map((o) => `${o.name}.npy`).join(', ')} to ${out}` : ''}\n`,
      );
    }
    return 0;
  },
});
