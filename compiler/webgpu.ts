// Running compiled programs on WebGPU from Node (the CLI, tests, benchmarks): renders the WGSL and
// loads it into the runtime's worker-thread executor (runtime/webgpu-node.ts). The worker's code is
// the runtime's TypeScript, bundled once per process with esbuild into node_modules/.cache.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Program } from '../ir/kernel.ts';
import { loadRemote, webgpuThread, type RemoteWebGpuExecutor, type Transport } from '../runtime/webgpu-node.ts';
import { renderWgsl, type WgslOptions } from '../targets/wgsl/index.ts';
import { toManifest } from './artifact/manifest.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundled = new Map<string, Promise<string>>();

/** The path of a worker bundled from `entry` (a .ts file under the repository; default the runtime's
 *  WebGPU worker), built on first use. */
export function webgpuWorkerFile(entry = 'runtime/webgpu-worker.ts'): Promise<string> {
  let file = bundled.get(entry);
  if (!file) bundled.set(entry, (file = bundle(entry)));
  return file;
}

async function bundle(entry: string): Promise<string> {
  const { build } = await import('esbuild');
  const out = await build({
    entryPoints: [join(ROOT, entry)],
    bundle: true,
    format: 'esm',
    platform: 'node',
    write: false,
    logLevel: 'silent',
  });
  const dir = join(ROOT, 'node_modules/.cache/kiln');
  mkdirSync(dir, { recursive: true });
  const text = out.outputFiles[0]!.text;
  const name = basename(entry, '.ts');
  const file = join(dir, `${name}-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.mjs`);
  if (!existsSync(file)) {
    writeFileSync(`${file}.${process.pid}.tmp`, text);
    renameSync(`${file}.${process.pid}.tmp`, file);
  }
  return file;
}

/** Renders `program` to WGSL and loads it on a WebGPU host: by default this process's worker thread. */
export async function loadOnWebGpu(
  program: Program,
  opts: WgslOptions & { transport?: Transport } = {},
): Promise<RemoteWebGpuExecutor> {
  return loadRemote(
    opts.transport ?? webgpuThread(await webgpuWorkerFile()),
    renderWgsl(program, opts),
    toManifest(program),
  );
}
