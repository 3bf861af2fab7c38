// The CLI's one error boundary: every error reaching main becomes one message and an exit code.
// A user's mistake (a KilnError, a bad flag, a file that cannot be read, a model file that does not
// load or throws) prints `[file(line,col): ]error Kxxxx: what; what to do` and, with a location, the
// offending line; exit 1. Anything else is kiln's own bug: K9001 with the stack and how to report it,
// exit 70. `--debug` adds the stack to every message.
import { readFileSync } from 'node:fs';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CommanderError } from 'commander';
import { formatLoc, type Loc } from '../../ir/errors.ts';
import { displayPath } from '../dsl/loc.ts';

export interface ReportOptions {
  readonly debug: boolean;
  readonly write: (text: string) => void;
}

/** Exit codes: 1 for what the user can fix, 70 (EX_SOFTWARE) for kiln's bugs, 130 for Ctrl-C. */
export const EXIT = { user: 1, internal: 70, interrupted: 130 } as const;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OWN = ['ir', 'compiler', 'runtime', 'targets', 'bin', 'node_modules'].map((d) => ROOT + d + sep);

/** The error as a K8001 message naming the command: commander's "error: unknown option '--x'" and its hint. */
function commanderMessage(e: CommanderError & { command?: string; accepted?: string[] }): string {
  const accepted =
    e.code === 'commander.unknownOption' && e.accepted && !e.message.includes('Did you mean')
      ? `\naccepted: ${e.accepted.join(', ')}`
      : '';
  const text = (e.message + accepted)
    .replace(/^error: /, '')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) =>
      l
        .replace(/^\((.*)\)$/, '$1')
        .replace(/^Did/, 'did')
        .replace(/\.$/, ''),
    )
    .join('; ');
  const where = e.command ? `${e.command}: ` : '';
  const help = e.command ? `kiln help ${e.command}` : 'kiln --help';
  return `error K8001: ${where}${text}; see ${help}`;
}

/** The source line at `loc` with a caret under its column, or '' when the file cannot be read. */
export function excerpt(loc: Loc): string {
  let line: string | undefined;
  try {
    line = readFileSync(loc.file, 'utf8').split(/\r?\n/)[loc.line - 1];
  } catch {
    return '';
  }
  if (line === undefined) return '';
  const n = String(loc.line);
  return `${n} | ${line}\n${' '.repeat(n.length)} | ${' '.repeat(Math.max(0, loc.col - 1))}^\n`;
}

const FRAME = /\(?((?:file:\/\/)?[^\s()]+):(\d+):(\d+)\)?\s*$/;

/** The first stack frame, when it is in the user's code (not kiln's folders, node_modules or Node's own). */
function userFrame(e: Error): Loc | undefined {
  for (const line of (e.stack ?? '').split('\n').slice(1)) {
    const m = FRAME.exec(line);
    if (!m) continue;
    const file = m[1]!.startsWith('file://') ? fileURLToPath(m[1]!) : m[1]!;
    if (!file.startsWith(sep) || OWN.some((d) => file.startsWith(d))) return undefined;
    return { file: displayPath(file), line: Number(m[2]), col: Number(m[3]) };
  }
  return undefined;
}

interface Located {
  readonly loc?: Loc;
  readonly text: string;
}

const ERRNO: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a folder',
  ENOTDIR: 'a part of the path is not a folder',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EEXIST: 'already exists',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'the name is too long',
  EINVAL: 'invalid argument',
  EBUSY: 'busy',
  EIO: 'input/output error',
  EXDEV: 'crosses file systems',
};

/** A user-caused error as a message, or undefined for kiln's own bugs. */
function userMessage(e: unknown): Located | undefined {
  if (e instanceof CommanderError) return { text: commanderMessage(e) };
  if (!(e instanceof Error)) return undefined;
  // KilnError (ir/errors.ts), RuntimeError and WeightsError (runtime/): `[loc: ]error Kxxxx: ...`
  if (/^(\S.*: )?error K\d{4}: /.test(e.message) && !e.message.includes('(a kiln bug)'))
    return { loc: (e as { loc?: Loc }).loc, text: e.message };
  const err = e as NodeJS.ErrnoException & {
    errors?: { text: string; location?: { file: string; line: number; column: number } }[];
  };
  // esbuild's TransformError (tsx compiling a model file): a syntax error at the user's line
  // esbuild's TransformError (tsx compiling a model file), as it arrives from the loader thread:
  // "Transform failed with 1 error:\n/path/m.ts:3:0: ERROR: Expected "}" but found end of file"
  const syntax = e.name === 'TransformError' || err.errors ? /^(.+):(\d+):(\d+): ERROR: (.*)$/m.exec(e.message) : null;
  if (syntax) {
    const loc = { file: displayPath(syntax[1]!), line: Number(syntax[2]), col: Number(syntax[3]) + 1 };
    return { loc, text: `${formatLoc(loc)}: error K8003: syntax error: ${syntax[4]}` };
  }
  if (err.code && err.syscall && /^E[A-Z]+$/.test(err.code)) {
    const why = ERRNO[err.code] ?? err.code;
    return { text: `error K8002: cannot ${err.syscall} '${err.path ?? '?'}': ${why} (${err.code})` };
  }
  if (
    err.code === 'ERR_MODULE_NOT_FOUND' ||
    err.code === 'ERR_UNSUPPORTED_DIR_IMPORT' ||
    err.code === 'ERR_UNKNOWN_FILE_EXTENSION'
  ) {
    return { text: `error K8003: the model file does not load: ${err.message.split('\n')[0]}; check its imports` };
  }
  if (
    e instanceof RangeError &&
    /allocation failed|Invalid typed array length|Array buffer allocation|Out of memory/i.test(e.message)
  ) {
    return {
      text: `error K6002: out of memory: ${e.message}; the model or the batch is too large for this machine — reduce the batch size or the layer sizes`,
    };
  }
  const loc = userFrame(e);
  if (loc) return { loc, text: `${formatLoc(loc)}: error K8003: the model file threw ${e.name}: ${e.message}` };
  return undefined;
}

/** Prints `e` and returns the exit code. */
export function reportError(e: unknown, o: ReportOptions): number {
  const user = userMessage(e);
  const stack = e instanceof Error ? (e.stack ?? String(e)) : String(e);
  if (!user) {
    o.write(
      `error K9001: internal error in kiln (a bug, not your model): ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}\n` +
        `${stack}\n` +
        `Please report it with the command you ran, the model file and the output above (kiln --version prints the version).\n`,
    );
    return EXIT.internal;
  }
  o.write(user.text + '\n');
  if (user.loc) o.write(excerpt(user.loc));
  if (o.debug) o.write(stack + '\n');
  return EXIT.user;
}
