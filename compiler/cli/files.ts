// Files the CLI reads and writes. Reading: a K8001 naming the file and what went wrong.
import { readFileSync } from 'node:fs';
import { fail } from '../../ir/errors.ts';

/** A file's text, or K8001 naming the file and the command when it cannot be read. */
export function readText(command: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    return fail('K8001', `${command}: cannot read '${path}': ${why}`);
  }
}
