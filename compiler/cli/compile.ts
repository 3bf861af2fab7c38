// `kiln compile <model.ts> --out DIR`: compiles a model ahead of time into an artifact folder
// (docs/artifact.md) that the kiln runtime loads. Self-contained: one line registers it in main.ts.
import { readFileSync } from 'node:fs';
import { fail } from '../../ir/errors.ts';
import { decodeSafetensors } from '../../runtime/safetensors.ts';
import { checkOutDir } from '../artifact/write.ts';
import { choice, defineCommand, flag, int, text } from './command.ts';
import { loadModel } from './model-file.ts';

const kb = (n: number): string => (n < 1024 ? `${n} B` : `${(n / 1024).toFixed(n < 10240 ? 1 : 0)} KB`);

export default defineCommand({
  name: 'compile',
  summary: 'compile a model ahead of time into an artifact folder (manifest, wasm, WGSL, weights, typed API)',
  args: ['<model.ts>'],
  options: {
    out: text('the artifact folder to write (new, empty, or a previous artifact)', { value: 'dir', required: true }),
    model: text('which exported model (default: the only one, or the default export)', { value: 'name' }),
    target: choice('the targets to compile for (all: every target this kiln has)', ['wasm', 'webgpu', 'all'], {
      default: 'wasm',
    }),
    batch: int("the compile-time batch size (default: the model's)"),
    noTrain: flag('compile infer only, no train_step'),
    weights: text('a weights.safetensors to start from (e.g. from kiln train --save)', { value: 'file' }),
    noTypecheck: flag('compile the model file without type-checking it first'),
    noWinograd: flag('keep every convolution direct: no Winograd F(4x4, 3x3) for 3x3 stride-1 ones (docs/winograd.md)'),
    inspect: flag(
      "also write inspect.json (each stage's text, kernels' source maps, Kernel IR and WAT) for kiln inspect <dir>",
    ),
  },
  epilog:
    'Example:\n  kiln compile examples/mnist-cnn.ts --target all --out build/mnist\n  node examples/node/classify.js build/mnist',
  run: async ([file], opts) => {
    checkOutDir('compile', opts.out);
    let weights;
    if (opts.weights !== undefined) {
      let bytes: Uint8Array;
      try {
        bytes = readFileSync(opts.weights);
      } catch (e) {
        return fail('K8001', `compile: cannot read --weights ${opts.weights}: ${(e as Error).message}`);
      }
      weights = decodeSafetensors(bytes, opts.weights).tensors;
    }
    const model = await loadModel('compile', file!, { model: opts.model, typecheck: !opts.noTypecheck });
    const { buildArtifact } = await import('../artifact/build.ts'); // ts-morph loads only for this command
    const { writeArtifact } = await import('../artifact/write.ts');
    const tty = process.stderr.isTTY === true;
    const t0 = performance.now();
    const { manifest, files } = await buildArtifact(model, {
      targets: opts.target === 'all' ? ['wasm', 'webgpu'] : [opts.target],
      train: opts.noTrain ? false : undefined,
      batch: opts.batch,
      weights,
      weightsFile: opts.weights,
      inspect: opts.inspect,
      winograd: opts.noWinograd ? false : undefined,
      onStage: tty
        ? (s, i, n) => process.stderr.write(`\r\x1b[2K${model.name}: [${'#'.repeat(i)}${'.'.repeat(n - i)}] ${s}...`)
        : undefined,
    });
    writeArtifact(opts.out, files);
    if (tty) process.stderr.write('\r\x1b[2K');
    const sizes = Object.entries(files)
      .filter(([k]) => !k.startsWith('index.'))
      .map(([k, v]) => `${k} ${kb(v.length)}`)
      .join(', ');
    const kernels = (manifest.targets.wasm ?? manifest.targets.webgpu)!.kernels;
    const entries = manifest.entries.map((e) => `${e.name} ${kernels[e.name]!.length} kernels`).join(', ');
    process.stdout.write(
      `${model.name}: wrote ${opts.out} (${sizes}; ${entries}; batch ${manifest.model.batch}, ${manifest.params.length} params) in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
    );
    return 0;
  },
});
