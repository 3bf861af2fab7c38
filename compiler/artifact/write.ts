// Writing an artifact folder: the output path is checked before any work, and every file is written
// atomically (compiler/cli/files.ts's writeAtomic: a temporary file in the folder, fsynced, renamed),
// manifest.json last.
import { accessSync, constants, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fail } from '../../ir/errors.ts';
import { checkOutputPath, writeAtomic } from '../cli/files.ts';

/** Files `kiln compile` may replace in an existing folder. */
const ARTIFACT_FILE =
  /^(manifest\.json|program(\.threads)?(\.relaxed)?\.wasm|kernels\.wgsl|weights\.safetensors|index\.(ts|js|d\.ts)|inspect\.json)$/;

/** Refuses an output path that is a file, an unwritable folder, or a non-empty folder that holds no artifact. */
export function checkOutDir(command: string, dir: string): void {
  const abs = resolve(dir);
  if (existsSync(abs)) {
    if (!statSync(abs).isDirectory())
      fail('K8001', `${command}: --out ${dir} is a file; expected a folder (new, empty, or a previous artifact)`);
    const entries = readdirSync(abs);
    if (entries.length && !entries.includes('manifest.json')) {
      fail(
        'K8001',
        `${command}: --out ${dir} is a non-empty folder with no manifest.json (holds ${entries.slice(0, 4).join(', ')}${entries.length > 4 ? ', ...' : ''}); choose a new or empty folder`,
      );
    }
    const foreign = entries.filter((e) => !ARTIFACT_FILE.test(e) && !/^\..*\.tmp-/.test(e)); // a temporary file of an interrupted write
    if (foreign.length)
      fail(
        'K8001',
        `${command}: --out ${dir} holds files that are not part of an artifact (${foreign.slice(0, 4).join(', ')}); choose a new or empty folder`,
      );
    try {
      accessSync(abs, constants.W_OK);
    } catch {
      fail('K8001', `${command}: --out ${dir} is not writable`);
    }
    return;
  }
  let parent = dirname(abs);
  while (!existsSync(parent)) parent = dirname(parent);
  if (!statSync(parent).isDirectory()) fail('K8001', `${command}: --out ${dir}: ${parent} is a file, not a folder`);
  try {
    accessSync(parent, constants.W_OK);
  } catch {
    fail('K8001', `${command}: --out ${dir}: cannot create it, ${parent} is not writable`);
  }
  // and what every output path must pass: not on /proc, /sys or /dev (Node's recursive mkdir spins
  // there), writable in fact (a probe file), a folder that really takes its files
  checkOutputPath(dir, { command, flag: '--out', kind: 'folder', file: 'manifest.json', force: true });
}

/** Writes the artifact's files into `dir` (created if needed), manifest.json last. */
export function writeArtifact(dir: string, files: Readonly<Record<string, Uint8Array>>): void {
  mkdirSync(dir, { recursive: true });
  const names = Object.keys(files).sort((a, b) => Number(a === 'manifest.json') - Number(b === 'manifest.json'));
  for (const name of names) writeAtomic(join(dir, name), files[name]!, { force: true });
}
