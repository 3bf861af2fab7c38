// `kiln compile <model.ts> --out DIR`: compiles a model ahead of time into an artifact folder
// (docs/artifact.md) that the kiln runtime loads. Self-contained: it registers as one line in main.ts.
import { readFileSync } from 'node:fs';
import { fail } from '../../ir/errors.ts';
import { decodeSafetensors } from '../../runtime/safetensors.ts';
import { buildArtifact, TARGET_NAMES, type TargetName } from '../artifact/build.ts';
import { checkOutDir, writeArtifact } from '../artifact/write.ts';
import { pickModel } from '../dsl/model.ts';
import { parseArgs, usageOf, type CommandSpec } from './args.ts';
import { intFlag } from './train.ts';

export const summary = 'compile a model ahead of time into an artifact folder';

const SPEC: CommandSpec = {
  name: 'compile',
  usage: '<model.ts> --out DIR [options]',
  flags: {
    out: { type: 'string', help: 'the artifact folder to write (new, empty, or a previous artifact)' },
    model: { type: 'string', help: 'which exported model (default: the only one, or the default export)' },
    target: { type: 'string', help: `${[...TARGET_NAMES, 'all'].join(' | ')} (default wasm)` },
    batch: { type: 'string', help: 'the compile-time batch size (default: the model\'s)' },
    'no-train': { type: 'boolean', help: 'compile infer only, no train_step' },
    weights: { type: 'string', help: 'a weights.safetensors to start from (e.g. from kiln train --save)' },
  },
};

const kb = (n: number): string => (n < 1024 ? `${n} B` : `${(n / 1024).toFixed(n < 10240 ? 1 : 0)} KB`);

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(SPEC, argv);
  if (args.flags.help) {
    process.stdout.write(usageOf(SPEC));
    return 0;
  }
  if (args.positionals.length !== 1) fail('K8001', `compile: expected one model file, got ${args.positionals.length}\n${usageOf(SPEC)}`);
  const file = args.positionals[0]!;
  const out = args.flags.out;
  if (typeof out !== 'string') fail('K8001', `compile: missing --out DIR\n${usageOf(SPEC)}`);
  const t = (args.flags.target ?? 'wasm') as string;
  if (t !== 'all' && !TARGET_NAMES.includes(t as TargetName)) fail('K8001', `compile: --target '${t}' is not one of ${[...TARGET_NAMES, 'all'].join(', ')}`);
  // 'all' is every target this kiln has; naming webgpu alone asks for it.
  const targets: TargetName[] = t === 'all' ? ['wasm'] : [t as TargetName];
  checkOutDir('compile', out);
  let weights;
  if (typeof args.flags.weights === 'string') {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(args.flags.weights);
    } catch (e) {
      return fail('K8001', `compile: cannot read --weights ${args.flags.weights}: ${(e as Error).message}`);
    }
    weights = decodeSafetensors(bytes, args.flags.weights).tensors;
  }
  const model = await pickModel(file, args.flags.model as string | undefined, 'compile');
  const batch = args.flags.batch === undefined ? undefined : intFlag(args.flags.batch, 'batch', model.def.batch, 1, 'compile');

  const tty = process.stderr.isTTY === true;
  const t0 = performance.now();
  const { manifest, files } = await buildArtifact(model, {
    targets,
    train: args.flags['no-train'] === true ? false : undefined,
    batch,
    weights,
    weightsFile: typeof args.flags.weights === 'string' ? args.flags.weights : undefined,
    onStage: tty ? (s, i, n) => process.stderr.write(`\r\x1b[2K${model.name}: [${'#'.repeat(i)}${'.'.repeat(n - i)}] ${s}...`) : undefined,
  });
  writeArtifact(out, files);
  if (tty) process.stderr.write('\r\x1b[2K');
  const sizes = Object.entries(files).filter(([k]) => !k.startsWith('index.')).map(([k, v]) => `${k} ${kb(v.length)}`).join(', ');
  const entries = manifest.entries.map((e) => `${e.name} ${manifest.targets.wasm!.kernels[e.name]!.length} kernels`).join(', ');
  process.stdout.write(`${model.name}: wrote ${out} (${sizes}; ${entries}; batch ${manifest.model.batch}, ${manifest.params.length} params) in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  return 0;
}
