// Golden dumps of `kiln inspect` at each stage of the XOR and MNIST CNN examples (training step
// included), kept with the Kernel IR dumps in test/compiler/golden/inspect/ and checked and accepted
// by the same test and command (golden.ts): the graphs as built, after the graph passes, what those
// passes changed, the fusion groups with their source lines, the Kernel IR with its memory plan, and
// each kernel's WAT header (the comment naming its IR values and source lines, and its function
// line; the WAT bodies are checked by running them in test/targets, not here).
import { inspect, type InspectOptions } from '../../compiler/cli/inspect.ts';

/** The comment lines and the `(func` line of each kernel of the wat stage. */
const watHeaders = (wat: string): string =>
  wat
    .split('\n')
    .filter((l) => l.startsWith(';;') || l.startsWith('(func '))
    .map((l) => l.replace(/^(\(func \$\S+).*/, '$1'))
    .join('\n') + '\n';

const MODELS = { xor: 'examples/xor.ts', 'mnist-cnn': 'examples/mnist-cnn.ts' };

const VIEWS: readonly [string, InspectOptions, ((s: string) => string)?][] = [
  ['ir', { stage: 'ir', locations: false }],
  ['train', { stage: 'train', locations: false }],
  ['simplified', { stage: 'simplified', train: true, locations: false }],
  ['diff-simplified', { diff: 'simplified', train: true, locations: false }],
  ['fused', { stage: 'fused', train: true }],
  ['kernels', { stage: 'kernels', train: true }],
  ['wat-headers', { stage: 'wat', train: true }, watHeaders],
];

export const INSPECT_GOLDEN_CASES = Object.entries(MODELS).flatMap(([model, file]) =>
  VIEWS.map(([view, opts, post]) => ({
    name: `inspect/${model}.${view}.txt`,
    what: `kiln inspect ${file} (${view})`,
    dump: async (): Promise<string> => (post ?? ((s: string) => s))(await inspect(file, opts)),
  })),
);
