// The pipeline as one list (compiler/pipeline.ts): a compile dumps every stage in STAGE_NAMES order,
// each stage is printable on its own, and verifyEach checks every graph and kernel stage.
import { expect, it } from 'vitest';
import { loadModels } from '../../compiler/dsl/model.ts';
import { compileProgram, modelEntries, PIPELINE_STAGES, STAGE_NAMES } from '../../compiler/pipeline.ts';

it('dumps every stage in order, each printable by name', async () => {
  const models = await loadModels(new URL('../../examples/xor.ts', import.meta.url).pathname);
  const entries = modelEntries(models.xor!, { train: true });
  const seen: string[] = [];
  compileProgram(entries, {
    verifyEach: true,
    dump: (stage) => {
      if (seen.at(-1) !== stage) seen.push(stage);
    },
  });
  // the graph stages run once per entry, then the kernel stages once
  const graphStages = STAGE_NAMES.slice(0, STAGE_NAMES.indexOf('lowered'));
  expect(seen).toEqual([...graphStages, ...graphStages, ...STAGE_NAMES.slice(graphStages.length)]);
  for (const stage of [...STAGE_NAMES, 'simplified'])
    expect(PIPELINE_STAGES[stage]!(entries).length, stage).toBeGreaterThan(0);
  expect(PIPELINE_STAGES.lowered!(entries)).toMatch(/^program @xor\n/);
  expect(PIPELINE_STAGES.kernels!(entries)).toMatch(/^program @xor arena \d+ bytes/);
});
