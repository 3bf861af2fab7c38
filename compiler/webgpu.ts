// Running compiled programs on WebGPU from Node (the CLI, tests, benchmarks): renders the WGSL and
// loads it on a WebGPU host in a worker thread of this process (runtime/webgpu-node.ts). The host:
// with KILN_WEBGPU=node, the `webgpu` package (Dawn) in the worker; otherwise, where Chromium is
// installed, a headless Chromium page the worker forwards to (compiler/chromium.ts), because Dawn
// 0.6.2 on SwiftShader crashes the process within a few calls (scripts/dawn-gc-crash.mjs; measured
// here: a training loop dies at its second to fifth step, in a worker or not). A worker's code is
// bundled once per process with esbuild into node_modules/.cache.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Program } from '../ir/kernel.ts';
import {
  BlockingWebGpuExecutor,
  loadRemote,
  webgpuThread,
  type RemoteWebGpuExecutor,
  type Transport,
} from '../runtime/webgpu-node.ts';
import { renderWgsl, type WgslOptions } from '../targets/wgsl/index.ts';
import { toManifest } from './artifact/manifest.ts';
import { CHROMIUM, WEBGPU_PAGE } from './chromium.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundled = new Map<string, Promise<string>>();

/** The path of a worker bundled from `entry` (a .ts file under the repository; default the runtime's
 *  WebGPU worker), built on first use; packages stay imports. */
export function webgpuWorkerFile(entry = 'runtime/webgpu-worker.ts'): Promise<string> {
  let file = bundled.get(entry);
  if (!file)
    bundled.set(
      entry,
      (file = (async () => {
        const { build } = await import('esbuild');
        const out = await build({
          entryPoints: [join(ROOT, entry)],
          bundle: true,
          format: 'esm',
          platform: 'node',
          packages: 'external',
          write: false,
          logLevel: 'silent',
        });
        const dir = join(ROOT, 'node_modules/.cache/kiln');
        mkdirSync(dir, { recursive: true });
        const text = out.outputFiles[0]!.text;
        const name = basename(entry, '.ts');
        const path = join(dir, `${name}-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.mjs`);
        if (!existsSync(path)) {
          writeFileSync(`${path}.${process.pid}.tmp`, text);
          renameSync(`${path}.${process.pid}.tmp`, path);
        }
        return path;
      })()),
    );
  return file;
}

/** Where this process runs WebGPU: 'node' (Dawn) with KILN_WEBGPU=node or without Chromium, else 'chromium'. */
export function webgpuHostKind(): 'node' | 'chromium' {
  return process.env.KILN_WEBGPU === 'node' || !existsSync(CHROMIUM) ? 'node' : 'chromium';
}

/** This process's WebGPU worker thread (webgpuHostKind says which host it drives). */
export async function webgpuHost(): Promise<Transport> {
  return webgpuHostKind() === 'node'
    ? webgpuThread(await webgpuWorkerFile())
    : webgpuThread(await webgpuWorkerFile('compiler/webgpu-chromium-worker.ts'), { page: WEBGPU_PAGE });
}

/** Renders `program` to WGSL and loads it on a WebGPU host: by default this process's worker thread. */
export async function loadOnWebGpu(
  program: Program,
  opts: WgslOptions & { transport?: Transport } = {},
): Promise<RemoteWebGpuExecutor> {
  return loadRemote(opts.transport ?? (await webgpuHost()), renderWgsl(program, opts), toManifest(program));
}

/** Renders `program` and loads it on this process's WebGPU worker thread, for synchronous callers
 *  (a training session): every call blocks until the GPU has answered. */
export async function loadOnWebGpuBlocking(program: Program, opts: WgslOptions = {}): Promise<BlockingWebGpuExecutor> {
  const t = await webgpuHost();
  return new BlockingWebGpuExecutor(await loadRemote(t, renderWgsl(program, opts), toManifest(program)), t);
}
