// The `inspect` section of an artifact's manifest.json: the InspectData of the compiled model (the
// text of every stage, kernel names, source maps with the source lines, Kernel IR, WAT, costs), so
// `kiln inspect <artifact-dir>` and its HTML report work without the model's source. The artifact
// writer calls `inspectSection`; the section is optional and the runtime never reads it.
import { join } from 'node:path';
import { fail } from '../../ir/errors.ts';
import { readFileSync } from 'node:fs';
import type { Model } from '../dsl/model.ts';
import { collect, type CollectOptions } from './collect.ts';
import { INSPECT_FORMAT, INSPECT_VERSION, type InspectData } from './data.ts';

/** The value an artifact stores under `inspect` in its manifest. */
export function inspectSection(model: Model, opts: CollectOptions = {}): InspectData {
  return collect(model, opts).data;
}

/** The `inspect` section of the artifact in `dir`, checked for its format and version. */
export function readInspectSection(dir: string): InspectData {
  const path = join(dir, 'manifest.json');
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    if ((e as { code?: string }).code === 'K8001') throw e;
    return fail('K7001', `inspect: ${path} is not JSON: ${(e as Error).message}`);
  }
  const section = (manifest as { inspect?: Partial<InspectData> } | null)?.inspect;
  if (!section) fail('K7001', `inspect: ${path} has no 'inspect' section; compile the model with it, or inspect the model file`);
  if (section.format !== INSPECT_FORMAT || section.version !== INSPECT_VERSION) {
    fail('K7001', `inspect: ${path}: the inspect section is ${section.format ?? '?'} version ${section.version ?? '?'}; this kiln reads ${INSPECT_FORMAT} version ${INSPECT_VERSION}`);
  }
  if (!Array.isArray(section.entries) || !Array.isArray(section.kernels) || typeof section.graphs !== 'object') fail('K7001', `inspect: ${path}: the inspect section lacks its entries, kernels or graphs`);
  return section as InspectData;
}
