// Golden Kernel IR dumps: the training steps of seed models, lowered and printed (kernels and memory
// plan), kept in test/compiler/golden/ so a change in fusion or lowering shows as a readable diff.
// `npm run golden` compares; `npm run golden -- --accept` rewrites the files.
import { loadModels } from '../../compiler/dsl/model.ts';
import { compileProgram, modelEntries } from '../../compiler/pipeline.ts';
import { printProgram } from '../../ir/print-kernels.ts';

export const GOLDEN_DIR = new URL('./golden/', import.meta.url).pathname;

/** examples/<file>'s model, its training step at its own batch, dumped to golden/<name>. */
export const GOLDEN_CASES = [
  { file: 'xor.ts', model: 'xor', name: 'xor-train-step.kernels.txt' },
  { file: 'mnist-cnn.ts', model: 'mnist_cnn', name: 'mnist-cnn-train-step.kernels.txt' },
] as const;

export async function goldenDump(c: (typeof GOLDEN_CASES)[number]): Promise<string> {
  const models = await loadModels(new URL(`../../examples/${c.file}`, import.meta.url).pathname);
  const train = modelEntries(models[c.model]!, { train: true }).filter((e) => e.name === 'train_step');
  return printProgram(compileProgram(train, { verifyEach: true }));
}
