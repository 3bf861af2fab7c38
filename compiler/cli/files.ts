// Files the CLI reads and writes. Output paths are checked before any work starts (checkOutputPath)
// and written atomically (writeAtomic: a temporary file in the same folder, flushed, then renamed),
// so a failed or interrupted run never leaves a half-written file or loses an earlier one. An existing
// output is kept unless the user passes --force: kiln never overwrites a file it was not told to.
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fail } from '../../ir/errors.ts';

/** A file's text, or K8002 naming the file and the command when it cannot be read. */
export function readText(command: string, path: string): string {
  return readFileBytes(command, path).toString('utf8');
}

/** A file's bytes, or K8002 naming the file and the command when it cannot be read. */
export function readFileBytes(command: string, path: string): Buffer {
  let folder = false;
  try {
    folder = statSync(path).isDirectory();
    if (!folder) return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return fail(
      'K8002',
      `${command}: cannot read '${path}': ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
    );
  }
  return fail('K8002', `${command}: '${path}' is a folder, not a file`);
}

/** Folders whose files are the kernel's, not the user's: never written to. */
const SPECIAL = ['/proc', '/sys', '/dev'];

export interface OutputSpec {
  /** The command and flag, for messages: 'train', '--save'. */
  readonly command: string;
  readonly flag: string;
  /** 'folder': `path` is a folder that will hold `file`; 'file': `path` is the file itself. */
  readonly kind: 'folder' | 'file';
  /** With kind 'folder': the file written inside it. */
  readonly file?: string;
  /** Overwrite an existing output. */
  readonly force?: boolean;
}

/** The nearest existing ancestor of an absolute path (the path itself when it exists). */
function existingAncestor(p: string): string {
  let cur = p;
  while (!existsSync(cur)) {
    const up = dirname(cur);
    if (up === cur) break;
    cur = up;
  }
  return cur;
}

/**
 * Checks an output path before any work: not empty, not on /proc, /sys or /dev, not a file where a
 * folder is meant (or the reverse), inside a writable folder (probed by creating and removing a file),
 * and not an existing file unless `force`. Returns the absolute path of the file that will be written.
 */
export function checkOutputPath(path: string, o: OutputSpec): string {
  const what = `${o.command}: ${o.flag} '${path}'`;
  if (path.trim() === '') fail('K8001', `${o.command}: ${o.flag} needs a path, got an empty string`);
  const abs = resolve(path);
  const anc = existingAncestor(abs);
  let real: string;
  try {
    real = join(realpathSync(anc), abs.slice(anc.length));
  } catch {
    real = abs;
  }
  if (SPECIAL.some((s) => real === s || real.startsWith(s + '/')))
    fail(
      'K8002',
      `${what} is on ${SPECIAL.find((s) => real === s || real.startsWith(s + '/'))}, a special file system; write to a folder of your own`,
    );
  const target = o.kind === 'folder' ? join(abs, o.file ?? 'out') : abs;
  const folder = dirname(target);
  if (existsSync(abs)) {
    const isDir = statSync(abs).isDirectory();
    if (o.kind === 'folder' && !isDir)
      fail('K8002', `${what} is an existing file; ${o.flag} names a folder (it will hold ${o.file})`);
    if (o.kind === 'file' && isDir) fail('K8002', `${what} is a folder; ${o.flag} names a file`);
  }
  const base = existingAncestor(folder);
  if (!statSync(base).isDirectory()) fail('K8002', `${what}: '${base}' is a file, so no folder can be made under it`);
  try {
    accessSync(base, constants.W_OK | constants.X_OK);
    const probe = join(base, `.kiln-probe-${process.pid}`);
    closeSync(openSync(probe, 'wx'));
    unlinkSync(probe);
  } catch (e) {
    fail(
      'K8002',
      `${what}: cannot write in '${base}' (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); choose a folder you can write to`,
    );
  }
  if (existsSync(target)) {
    if (statSync(target).isDirectory())
      fail('K8002', `${what}: '${target}' is a folder; remove it or choose another path`);
    if (!o.force)
      fail('K8005', `${what}: '${target}' exists; pass --force to overwrite it, or choose another ${o.flag}`);
  }
  return target;
}

/** Temporary files being written, removed if the process exits before they are renamed. */
const pending = new Set<string>();
process.on('exit', () => {
  for (const p of pending) {
    try {
      unlinkSync(p);
    } catch {
      // already gone
    }
  }
});

/**
 * Writes `bytes` to `path` atomically: a temporary file in the same folder, written and fsynced, then
 * renamed over `path` (with `force`) or hard-linked to it (without: fails with K8005 if `path` appeared
 * meanwhile, leaving it untouched). A crash at any point leaves either the old file or the new one.
 */
export function writeAtomic(path: string, bytes: Uint8Array, o: { force?: boolean } = {}): void {
  const folder = dirname(path);
  mkdirSync(folder, { recursive: true });
  const tmp = join(folder, `.${basename(path)}.tmp-${process.pid}-${Date.now().toString(36)}`);
  pending.add(tmp);
  try {
    const fd = openSync(tmp, 'wx', 0o644);
    try {
      for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (o.force) renameSync(tmp, path);
    else {
      try {
        linkSync(tmp, path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST')
          fail(
            'K8005',
            `'${path}' appeared while kiln was writing it; nothing was overwritten (pass --force to overwrite)`,
          );
        throw e;
      }
      unlinkSync(tmp);
    }
    syncFolder(folder);
  } finally {
    if (existsSync(tmp)) unlinkSync(tmp);
    pending.delete(tmp);
  }
}

/** fsync a folder so a rename in it survives a crash (not possible on every platform: best effort). */
function syncFolder(folder: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(folder, 'r');
    fsyncSync(fd);
  } catch {
    // Windows cannot open folders; the rename is still atomic there
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
