// The user's source location of a DSL call, read from the JavaScript stack: the first frame outside
// kiln's own compiler/ and ir/ folders, as a path relative to the working directory.
import { isAbsolute, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Loc } from '../../ir/errors.ts';

const KILN_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SKIP = ['compiler', 'ir'].map((d) => KILN_ROOT + d + sep);

const FRAME = /\(?((?:file:\/\/)?[^\s()]+):(\d+):(\d+)\)?\s*$/;

function framePath(raw: string): string {
  return raw.startsWith('file://') ? fileURLToPath(raw) : raw;
}

/** A path as messages show it: relative to the working directory when inside it, else absolute. */
export function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel.startsWith('..') || isAbsolute(rel) ? file : rel;
}

/** Where the user's code called into the DSL, or undefined when no user frame is on the stack. */
export function callerLoc(): Loc | undefined {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 64;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  for (const line of stack.split('\n').slice(1)) {
    const m = FRAME.exec(line);
    if (!m) continue;
    const file = framePath(m[1]!);
    if (!file.startsWith('/') || file.includes(`${sep}node_modules${sep}`)) continue;
    if (SKIP.some((d) => file.startsWith(d))) continue;
    return { file: displayPath(file), line: Number(m[2]), col: Number(m[3]) };
  }
  return undefined;
}
