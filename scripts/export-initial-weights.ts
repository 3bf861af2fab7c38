// Writes, for each seed model, what scripts/make-train-fixtures.py needs to compute the PyTorch
// fixtures: kiln's training loss graph (serialized), its initial params, the fixture batch, the
// trainable param names and the optimizers compared. Run:
//   npx tsx scripts/export-initial-weights.ts [outDir=/tmp/kiln-train-export] [model ...]
//   /usr/bin/python3 scripts/make-train-fixtures.py /tmp/kiln-train-export test/fixtures
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { initParams } from '../ir/init.ts';
import type { Tensor } from '../ir/types.ts';
import { lossGraph, traceTrain } from '../compiler/passes/train-step.ts';
import {
  FIXTURE_OPTIMIZERS,
  FIXTURE_STEPS,
  FULL_LIMIT,
  PROJECTIONS,
  SAMPLES,
  fixtureBatch,
  serializeGraph,
} from '../test/grad/train-fixtures.ts';
import { COMPILED_SEED_MODELS, SEED_MODELS, type SeedModel } from '../test/grad/seed-model-list.ts';

const plain = (t: Tensor) => ({ dtype: t.type.dtype, shape: [...t.type.shape], data: Array.from(t.data) });

/** Writes `<outDir>/<name>.json` for one model; returns the file written. */
export async function exportModel(seed: SeedModel, outDir: string): Promise<string> {
  const model = await seed.load();
  const g = lossGraph(model, { batch: seed.batch });
  const trainable = traceTrain(model, { batch: seed.batch }).traced.trainable.map((p) => p.name);
  const params = initParams(g);
  const batch = fixtureBatch(g, seed.fills);
  const out = {
    model: seed.name,
    batch: seed.batch,
    graph: serializeGraph(g),
    params: Object.fromEntries(Object.entries(params).map(([k, t]) => [k, plain(t)])),
    inputs: Object.fromEntries(Object.entries(batch).map(([k, t]) => [k, plain(t)])),
    trainable,
    optimizers: Object.fromEntries(Object.entries(FIXTURE_OPTIMIZERS).map(([k, o]) => [k, o.torch])),
    steps: FIXTURE_STEPS,
    summary: { fullLimit: FULL_LIMIT, samples: SAMPLES, projections: PROJECTIONS },
  };
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `${seed.name}.json`);
  writeFileSync(file, JSON.stringify(out));
  console.log(`${file}: ${g.nodes.length} nodes, ${trainable.length} trainable params`);
  return file;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [outDir = '/tmp/kiln-train-export', ...only] = process.argv.slice(2);
  for (const seed of [...SEED_MODELS, ...COMPILED_SEED_MODELS])
    if (!only.length || only.includes(seed.name)) await exportModel(seed, outDir);
}
