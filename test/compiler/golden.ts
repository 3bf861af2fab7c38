// Golden Kernel IR dumps: the training steps of seed models, lowered and printed (kernels and memory
// plan), kept in test/compiler/golden/ so a change in fusion or lowering shows as a readable diff.
// `npm run golden` compares; `npm run golden -- --accept` rewrites the files.
import { loadModels } from '../../compiler/dsl/model.ts';
import { compileProgram, modelEntries } from '../../compiler/pipeline.ts';
import { printProgram } from '../../ir/print-kernels.ts';
import { INSPECT_GOLDEN_CASES } from './inspect-golden.ts';

export const GOLDEN_DIR = new URL('./golden/', import.meta.url).pathname;

/** A golden file: its name under golden/, what it dumps, and the dump. */
export interface GoldenCase {
  readonly name: string;
  readonly what: string;
  readonly dump: () => Promise<string>;
}

/** examples/<file>'s model, its training step at its own batch, lowered and printed. */
async function trainStepKernels(file: string, model: string): Promise<string> {
  const models = await loadModels(new URL(`../../examples/${file}`, import.meta.url).pathname);
  const train = modelEntries(models[model]!, { train: true }).filter((e) => e.name === 'train_step');
  return printProgram(compileProgram(train, { verifyEach: true }));
}

export const GOLDEN_CASES: readonly GoldenCase[] = [
  { name: 'xor-train-step.kernels.txt', what: "xor's training step", dump: () => trainStepKernels('xor.ts', 'xor') },
  {
    name: 'mnist-cnn-train-step.kernels.txt',
    what: "mnist_cnn's training step",
    dump: () => trainStepKernels('mnist-cnn.ts', 'mnist_cnn'),
  },
  ...INSPECT_GOLDEN_CASES,
];

export const goldenDump = (c: GoldenCase): Promise<string> => c.dump();
