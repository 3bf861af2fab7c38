// Peer libraries live in bench/node_modules (bench/package.json), not in kiln's dependencies: they
// are imported by a computed specifier so that kiln type-checks and installs without them.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const BENCH_DIR = dirname(dirname(fileURLToPath(import.meta.url)));

const requireFromBench = createRequire(join(BENCH_DIR, 'package.json'));

/** Imports a package installed in bench/node_modules; its error says how to install it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function importPeer(name: string, subpath = ''): Promise<any> {
  let resolved: string;
  try {
    resolved = requireFromBench.resolve(name + subpath);
  } catch {
    throw new Error(`${name} is not installed: run \`ONNXRUNTIME_NODE_INSTALL=skip npm install\` in bench/`);
  }
  return import(pathToFileURL(resolved).href);
}

/** Resolves a file of an installed package (a .wasm next to its loader). */
export function peerFile(name: string, file: string): string {
  return join(dirname(requireFromBench.resolve(`${name}/package.json`)), file);
}
