// The inspection file of an artifact folder, `inspect.json`: the InspectData of the compiled model
// (the text of every stage, kernel names, source maps with the source lines, Kernel IR, WAT,
// costs), so `kiln inspect <artifact-dir>` and its HTML report work without the model's source.
// The artifact writer adds it to the folder's files with `inspectFile`; it is optional, and the
// runtime never reads it (the manifest stays what an executor needs).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fail } from '../../ir/errors.ts';
import type { Model } from '../dsl/model.ts';
import { collect, type CollectOptions } from './collect.ts';
import { INSPECT_FORMAT, INSPECT_VERSION, type InspectData } from './data.ts';

export const INSPECT_FILE = 'inspect.json';

/** The bytes of `inspect.json` for a model compiled with these options. */
export function inspectFile(model: Model, opts: CollectOptions = {}): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(collect(model, opts).data));
}

/** The inspection data of the artifact in `dir`, checked for its format and version. */
export function readInspectSection(dir: string): InspectData {
  const path = join(dir, INSPECT_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return fail(
      'K7001',
      `inspect: ${dir} holds no ${INSPECT_FILE}; compile the model with its inspection file, or inspect the model file`,
    );
  }
  let data: Partial<InspectData>;
  try {
    data = JSON.parse(text) as Partial<InspectData>;
  } catch (e) {
    return fail('K7001', `inspect: ${path} is not JSON: ${(e as Error).message}`);
  }
  if (data?.format !== INSPECT_FORMAT || data.version !== INSPECT_VERSION) {
    fail(
      'K7001',
      `inspect: ${path} is ${data?.format ?? '?'} version ${data?.version ?? '?'}; this kiln reads ${INSPECT_FORMAT} version ${INSPECT_VERSION}`,
    );
  }
  if (!Array.isArray(data.entries) || !Array.isArray(data.kernels) || typeof data.graphs !== 'object')
    fail('K7001', `inspect: ${path} lacks its entries, kernels or graphs`);
  return data as InspectData;
}
