// A model file named on the command line: checked to be a readable file, type-checked (unless the
// user opts out), then imported and its model picked. Every failure is a typed error.
import { statSync } from 'node:fs';
import { fail, formatLoc, KilnError } from '../../ir/errors.ts';
import { pickModel, type Model } from '../dsl/model.ts';
import { excerpt } from './report.ts';

export interface LoadOptions {
  /** Which exported model (default: the only one, or the default export). */
  readonly model?: string;
  /** Type-check the file first (default true). */
  readonly typecheck?: boolean;
}

/** Fails unless `file` is an existing regular file. */
export function checkModelPath(command: string, file: string): void {
  let isFile: boolean;
  try {
    isFile = statSync(file).isFile();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return fail(
      'K8002',
      `${command}: cannot read the model file '${file}': ${code === 'ENOENT' ? 'no such file' : code === 'ENOTDIR' ? 'a part of the path is not a folder' : (e as Error).message}`,
    );
  }
  if (!isFile)
    fail('K8002', `${command}: '${file}' is a folder, not a model file; name the .ts file that calls defineModel`);
}

/** TypeScript's errors in `file` as one K8004 (each with its position and line), or nothing. */
export async function checkTypes(command: string, file: string): Promise<void> {
  const { typecheckFile } = await import('./typecheck.ts'); // TypeScript itself: loaded only when used
  const diags = typecheckFile(file);
  if (diags.length === 0) return;
  const lines = diags
    .slice(0, 20)
    .map((d) => `${d.loc ? formatLoc(d.loc) + ': ' : ''}error ${d.code}: ${d.message}\n${d.loc ? excerpt(d.loc) : ''}`);
  const more = diags.length > 20 ? `... and ${diags.length - 20} more\n` : '';
  throw new KilnError(
    'K8004',
    `${command}: ${file} has ${diags.length} TypeScript error${diags.length === 1 ? '' : 's'}; fix ${diags.length === 1 ? 'it' : 'them'} or pass --no-typecheck\n${lines.join('')}${more}`.trimEnd(),
  );
}

export async function loadModel(command: string, file: string, opts: LoadOptions = {}): Promise<Model> {
  checkModelPath(command, file);
  if (opts.typecheck ?? true) await checkTypes(command, file);
  return pickModel(file, opts.model, command);
}
