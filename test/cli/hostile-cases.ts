// The hostile-input cases run by hostile.test.ts: each a command line against files made in its own
// folder, and the outcome expected (an exit code 0, or an error code with the message's beginning).
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const KILN_BY_PATH = JSON.stringify(ROOT + 'compiler/index.ts');

export interface Case {
  readonly name: string;
  /** Files to create in the case's folder: name -> text or bytes. */
  readonly files?: Readonly<Record<string, string | Uint8Array>>;
  /** Arguments after `node bin/kiln.js`; `@/` is replaced by the case's folder. */
  readonly args: readonly string[];
  /** 'ok' (exit 0), or the Kxxxx code of the one error message. */
  readonly expect: 'ok' | `K${number}`;
  /** A regular expression the error message (or stdout for 'ok') must match. */
  readonly message?: RegExp;
  /** Files of the case's folder that must exist afterwards, byte for byte as created. */
  readonly keep?: readonly string[];
  /** Paths that must not exist afterwards ('@/' for the case's folder). */
  readonly absent?: readonly string[];
  /** Run these arguments first (a setup step that must succeed), e.g. a first save. */
  readonly before?: readonly string[];
}

/** The XOR model's text with `edit` applied; imports kiln by path unless `from` is given. */
export function xorModel(edit: (src: string) => string = (s) => s, from = KILN_BY_PATH): string {
  return edit(`import { defineModel, losses, nn, optimizers } from ${from};

export default defineModel({
  name: 'xor',
  batch: 4,
  inputs: { x: { dtype: 'f32', shape: [2] } },
  targets: { y: { dtype: 'f32', shape: [1] } },
  forward: nn.sequential([
    nn.dense(4, { activation: 'sigmoid' }),
    nn.dense(1, { activation: 'sigmoid' }),
  ]),
  train: { loss: losses.meanSquaredError(), optimizer: optimizers.sgd({ learningRate: 0.5 }) },
  dataset: () => {
    const split = { size: 4, columns: { x: Float32Array.from([0, 0, 0, 1, 1, 0, 1, 1]), y: Float32Array.from([0, 1, 1, 0]) } };
    return { name: 'xor', train: split, test: split };
  },
});
`);
}

/** A 3-class classifier over i32 labels (sparse cross-entropy: labels must be in [0, 3)). */
export function classifier(labels: string): string {
  return `import { defineModel, losses, nn, optimizers } from ${KILN_BY_PATH};
export default defineModel({
  name: 'cls', batch: 4,
  inputs: { x: { dtype: 'f32', shape: [2] } },
  targets: { y: { dtype: 'i32', shape: [] } },
  forward: nn.sequential([nn.dense(3)]),
  train: { loss: losses.sparseCategoricalCrossentropy({ fromLogits: true }), optimizer: optimizers.sgd({ learningRate: 0.1 }) },
  dataset: () => {
    const split = { size: 4, columns: { x: Float32Array.from([0, 0, 0, 1, 1, 0, 1, 1]), y: Int32Array.from(${labels}) } };
    return { name: 'c', train: split, test: split };
  },
});
`;
}

/** Token ids read by an embedding of 10 rows. */
function embedder(ids: string): string {
  return `import { defineModel, losses, nn, optimizers } from ${KILN_BY_PATH};
export default defineModel({
  name: 'emb', batch: 2,
  inputs: { x: { dtype: 'i32', shape: [3] } },
  targets: { y: { dtype: 'f32', shape: [1] } },
  forward: nn.sequential([nn.embedding(10, 2), nn.flatten(), nn.dense(1)]),
  train: { loss: losses.meanSquaredError(), optimizer: optimizers.sgd({ learningRate: 0.1 }) },
  dataset: () => {
    const split = { size: 2, columns: { x: Int32Array.from(${ids}), y: Float32Array.from([0, 1]) } };
    return { name: 'e', train: split, test: split };
  },
});
`;
}

const data =
  (old: string, now: string) =>
  (s: string): string => {
    if (!s.includes(old)) throw new Error(`fixture: '${old}' not in the model`);
    return s.replace(old, now);
  };
const X = 'Float32Array.from([0, 0, 0, 1, 1, 0, 1, 1])';
const SPLIT = "return { name: 'xor', train: split, test: split };";
const TRAIN = ['train', '@/m.ts', '--no-typecheck'];
const xor = (edit: (s: string) => string) => ({ 'm.ts': xorModel(edit) });

export function cases(weights: {
  good: Uint8Array;
  transposed: Uint8Array;
  missing: Uint8Array;
  extra: Uint8Array;
  i32: Uint8Array;
  nan: Uint8Array;
  noSlots: Uint8Array;
}): Case[] {
  const saved = { 'm.ts': xorModel(), 'w/weights.safetensors': weights.good };
  return [
    // the command line
    { name: 'train -h prints help', args: ['train', '-h'], expect: 'ok', message: /^Usage: kiln train/ },
    { name: 'help train prints help', args: ['help', 'train'], expect: 'ok', message: /--save <dir>/ },
    { name: '--version', args: ['--version'], expect: 'ok', message: /^\d+\.\d+\.\d+\n$/ },
    { name: 'unknown command', args: ['trian'], expect: 'K8001', message: /did you mean train/ },
    { name: 'help for an unknown command', args: ['help', 'nope'], expect: 'K8001', message: /unknown command 'nope'/ },
    {
      name: 'train without a model file',
      args: ['train'],
      expect: 'K8001',
      message: /missing required argument 'model.ts'/,
    },
    {
      name: 'misspelled flag',
      files: xor((s) => s),
      args: [...TRAIN, '--epoch', '2'],
      expect: 'K8001',
      message: /did you mean --epochs/,
    },
    { name: '--epochs zero', files: xor((s) => s), args: [...TRAIN, '--epochs', 'zero'], expect: 'K8001' },
    { name: '--epochs 1.5', files: xor((s) => s), args: [...TRAIN, '--epochs', '1.5'], expect: 'K8001' },
    { name: '--epochs empty', files: xor((s) => s), args: [...TRAIN, '--epochs', ''], expect: 'K8001' },
    { name: '--batch 0', files: xor((s) => s), args: [...TRAIN, '--batch', '0'], expect: 'K8001' },
    { name: '--batch -4', files: xor((s) => s), args: [...TRAIN, '--batch=-4'], expect: 'K8001' },
    { name: '--batch 1.5', files: xor((s) => s), args: [...TRAIN, '--batch', '1.5'], expect: 'K8001' },
    { name: '--batch Infinity', files: xor((s) => s), args: [...TRAIN, '--batch', 'Infinity'], expect: 'K8001' },
    { name: '--batch NaN', files: xor((s) => s), args: [...TRAIN, '--batch', 'NaN'], expect: 'K8001' },
    {
      name: '--batch above the train split',
      files: xor((s) => s),
      args: [...TRAIN, '--batch', '8'],
      expect: 'K8001',
      message: /larger than the train split \(4 examples\)/,
    },
    { name: '--batch 1e8', files: xor((s) => s), args: [...TRAIN, '--batch', '1e8'], expect: 'K8001' },
    { name: '--batch 1e12', files: xor((s) => s), args: [...TRAIN, '--batch', '1e12'], expect: 'K8001' },
    {
      name: '--target gpu',
      files: xor((s) => s),
      args: [...TRAIN, '--target', 'gpu'],
      expect: 'K8001',
      message: /not one of wasm, webgpu, interp/,
    },
    { name: '--seed -1', files: xor((s) => s), args: [...TRAIN, '--seed=-1'], expect: 'K8001' },

    // the model file
    { name: 'model path missing', args: ['train', '@/nowhere.ts'], expect: 'K8002', message: /no such file/ },
    {
      name: 'model path is a folder',
      files: { 'd/x.txt': '' },
      args: ['train', '@/d'],
      expect: 'K8002',
      message: /is a folder/,
    },
    {
      name: 'syntax error (type-checked)',
      files: { 'm.ts': xorModel((s) => s.slice(0, -4)) },
      args: ['train', '@/m.ts'],
      expect: 'K8004',
      message: /m\.ts\(\d+,\d+\): error TS1005/,
    },
    {
      name: 'syntax error (--no-typecheck)',
      files: { 'm.ts': xorModel((s) => s.slice(0, -4)) },
      args: TRAIN,
      expect: 'K8003',
      message: /m\.ts\(\d+,\d+\): error K8003: syntax error/,
    },
    {
      name: 'misspelled activation option',
      files: xor(data("{ activation: 'sigmoid' }", "{ activaton: 'sigmoid' }")),
      args: ['train', '@/m.ts'],
      expect: 'K8004',
      message: /'activaton' does not exist/,
    },
    {
      name: 'misspelled optimizer option',
      files: xor(data('learningRate', 'learningRat')),
      args: ['train', '@/m.ts'],
      expect: 'K8004',
      message: /'learningRat' does not exist/,
    },
    {
      name: 'model throws when imported',
      files: xor((s) => s + "\nthrow new Error('broken model');\n"),
      args: TRAIN,
      expect: 'K8003',
      message: /m\.ts\(\d+,\d+\): error K8003: the model file threw Error: broken model/,
    },
    {
      name: 'dataset throws',
      files: xor(data('const split =', "if (Date.now() > 0) throw new RangeError('no data');\n    const split =")),
      args: TRAIN,
      expect: 'K8003',
      message: /threw RangeError: no data/,
    },
    {
      name: 'exports no model',
      files: { 'm.ts': 'export const a = 1;\n' },
      args: TRAIN,
      expect: 'K8001',
      message: /exports no model/,
    },
    {
      name: 'several models, none picked',
      files: xor(
        (s) =>
          s.replace('export default', 'export const a =') +
          s
            .replace(/^import.*$/m, '')
            .replace('export default', 'export const b =')
            .replace("name: 'xor'", "name: 'xor2'"),
      ),
      args: TRAIN,
      expect: 'K8001',
      message: /exports several models/,
    },
    {
      name: '--model that does not exist',
      files: xor((s) => s),
      args: [...TRAIN, '--model', 'nope'],
      expect: 'K8001',
      message: /has no model 'nope'/,
    },
    {
      name: 'model without a dataset',
      files: xor(data('dataset: () =>', 'ignored: () =>')),
      args: TRAIN,
      expect: 'K8001',
      message: /names no dataset/,
    },
    {
      name: 'import of a missing module',
      files: xor((s) => "import { helper } from './helpers.ts';\nconsole.log(helper);\n" + s),
      args: TRAIN,
      expect: 'K8003',
      message: /helpers\.ts/,
    },
    {
      name: 'import of a missing module (type-checked)',
      files: xor((s) => "import { helper } from './helpers.ts';\nconsole.log(helper);\n" + s),
      args: ['train', '@/m.ts'],
      expect: 'K8004',
      message: /TS2307/,
    },
    {
      name: "model importing 'kiln' by package name, no package.json",
      files: { 'm.ts': xorModel((s) => s, "'kiln'") },
      args: ['train', '@/m.ts', '--epochs', '2'],
      expect: 'ok',
      message: /epoch 2: loss/,
    },
    {
      name: 'model importing kiln by path, no package.json',
      files: { 'm.ts': xorModel() },
      args: ['train', '@/m.ts', '--epochs', '2', '--no-typecheck'],
      expect: 'ok',
      message: /epoch 2: loss/,
    },
    {
      name: 'model in a CommonJS package',
      files: { 'package.json': '{"type":"commonjs"}', 'm.ts': xorModel((s) => s, "'kiln'") },
      args: [...TRAIN, '--epochs', '2'],
      expect: 'ok',
    },
    {
      name: 'model as .mts',
      files: { 'm.mts': xorModel() },
      args: ['train', '@/m.mts', '--no-typecheck'],
      expect: 'ok',
    },

    {
      name: 'compile: misspelled option',
      files: xor(data("{ activation: 'sigmoid' }", "{ activaton: 'sigmoid' }")),
      args: ['compile', '@/m.ts', '--out', '@/art'],
      expect: 'K8004',
      message: /'activaton' does not exist/,
      absent: ['@/art'],
    },
    {
      name: 'compile: --out /proc/kiln',
      files: xor((s) => s),
      args: ['compile', '@/m.ts', '--no-typecheck', '--out', '/proc/kiln'],
      expect: 'K8002',
      absent: ['/proc/kiln'],
    },

    // shapes and sizes in the DSL
    {
      name: 'input shape [-4]',
      files: xor(data('shape: [2] }', 'shape: [-4] }')),
      args: TRAIN,
      expect: 'K2002',
      message: /m\.ts\(3,16\).*input 'x'.*-4 \(not positive\)/,
    },
    {
      name: 'input shape [1.5]',
      files: xor(data('shape: [2] }', 'shape: [1.5] }')),
      args: TRAIN,
      expect: 'K2002',
      message: /1\.5 \(fractional\)/,
    },
    { name: 'input shape [0]', files: xor(data('shape: [2] }', 'shape: [0] }')), args: TRAIN, expect: 'K2002' },
    {
      name: 'input shape [NaN]',
      files: xor(data('shape: [2] }', 'shape: [NaN] }')),
      args: TRAIN,
      expect: 'K2002',
      message: /not finite/,
    },
    {
      name: 'dense(-4)',
      files: xor(data('nn.dense(4,', 'nn.dense(-4,')),
      args: TRAIN,
      expect: 'K2002',
      message: /m\.ts\(9,8\).*dense_1/,
    },
    {
      name: 'dense(2.5)',
      files: xor(data('nn.dense(4,', 'nn.dense(2.5,')),
      args: TRAIN,
      expect: 'K2002',
      message: /dense_1.*fractional/,
    },
    { name: 'dense(Infinity)', files: xor(data('nn.dense(4,', 'nn.dense(Infinity,')), args: TRAIN, expect: 'K2002' },
    { name: 'batch 0 in defineModel', files: xor(data('batch: 4', 'batch: 0')), args: TRAIN, expect: 'K2002' },
    { name: 'batch 2.5 in defineModel', files: xor(data('batch: 4', 'batch: 2.5')), args: TRAIN, expect: 'K2002' },
    {
      name: 'program over 4 GiB of wasm memory',
      files: xor(data('nn.dense(4,', 'nn.dense(2000000000,')),
      args: TRAIN,
      expect: 'K6002',
      message: /more than wasm32's 4 GiB.*reduce the batch size/,
    },

    // datasets
    {
      name: 'split without size',
      files: xor(data(SPLIT, "return { name: 'xor', train: { columns: split.columns }, test: split } as any;")),
      args: TRAIN,
      expect: 'K7010',
      message: /train has no 'size'/,
    },
    {
      name: 'dataset without test',
      files: xor(data(SPLIT, "return { name: 'xor', train: split } as any;")),
      args: TRAIN,
      expect: 'K7010',
      message: /test is missing/,
    },
    { name: 'dataset() returns null', files: xor(data(SPLIT, 'return null as any;')), args: TRAIN, expect: 'K7010' },
    { name: 'negative size', files: xor(data('size: 4,', 'size: -4,')), args: TRAIN, expect: 'K7010' },
    { name: 'fractional size', files: xor(data('size: 4,', 'size: 2.5,')), args: TRAIN, expect: 'K7010' },
    {
      name: 'empty train split',
      files: xor(
        data(
          SPLIT,
          "return { name: 'xor', train: { size: 0, columns: { x: new Float32Array(0), y: new Float32Array(0) } }, test: split };",
        ),
      ),
      args: TRAIN,
      expect: 'K7010',
      message: /train split is empty/,
    },
    {
      name: 'NaN in the data',
      files: xor(data(X, 'Float32Array.from([0, 0, 0, NaN, 1, 0, 1, 1])')),
      args: TRAIN,
      expect: 'K7010',
      message: /column 'x': example 1 \(value 1\) is NaN/,
    },
    {
      name: 'infinity in the data',
      files: xor(data(X, 'Float32Array.from([0, 0, 0, 1, 1, 0, Infinity, 1])')),
      args: TRAIN,
      expect: 'K7010',
      message: /example 3 \(value 0\) is Infinity/,
    },
    {
      name: 'column too short',
      files: xor(data(X, 'Float32Array.from([0, 0, 0, 1, 1, 0, 1])')),
      args: TRAIN,
      expect: 'K7010',
      message: /has 7 values.*needs 8/,
    },
    {
      name: 'column of the wrong dtype',
      files: xor(data(X, 'Int32Array.from([0, 0, 0, 1, 1, 0, 1, 1])')),
      args: TRAIN,
      expect: 'K7010',
      message: /is an Int32Array.*Float32Array/,
    },
    {
      name: 'column as a plain array',
      files: xor(data(X, '[0, 0, 0, 1, 1, 0, 1, 1] as any')),
      args: TRAIN,
      expect: 'K7010',
      message: /plain Array/,
    },
    {
      name: 'column misnamed',
      files: xor(data('columns: { x:', 'columns: { xs:')),
      args: TRAIN,
      expect: 'K7010',
      message: /column 'x' is missing.*xs, y/,
    },
    {
      name: 'label 7 for 3 classes',
      files: { 'm.ts': classifier('[0, 1, 7, 2]') },
      args: TRAIN,
      expect: 'K7010',
      message: /column 'y': example 2 is 7, outside \[0, 3\)/,
    },
    {
      name: 'label -1',
      files: { 'm.ts': classifier('[0, -1, 1, 2]') },
      args: TRAIN,
      expect: 'K7010',
      message: /example 1 is -1/,
    },
    {
      name: 'label 100',
      files: { 'm.ts': classifier('[100, 1, 1, 2]') },
      args: TRAIN,
      expect: 'K7010',
      message: /example 0 is 100/,
    },
    { name: 'labels in range train', files: { 'm.ts': classifier('[0, 1, 2, 2]') }, args: TRAIN, expect: 'ok' },
    {
      name: 'token id outside the embedding',
      files: { 'm.ts': embedder('[1, 2, 3, 4, 10, 5]') },
      args: TRAIN,
      expect: 'K7010',
      message: /example 1 \(value 1\) is 10, outside \[0, 10\)/,
    },
    {
      name: 'diverging training',
      files: xor((s) =>
        s
          .replace("{ activation: 'sigmoid' }", '{}')
          .replace("nn.dense(1, { activation: 'sigmoid' })", 'nn.dense(1)')
          .replace('learningRate: 0.5', 'learningRate: 1e30'),
      ),
      args: [...TRAIN, '--epochs', '50'],
      expect: 'K7012',
      message: /training diverged/,
    },

    // output paths
    {
      name: '--save names a file',
      files: { ...xor((s) => s), f: 'precious' },
      args: [...TRAIN, '--save', '@/f'],
      expect: 'K8002',
      message: /is an existing file/,
      keep: ['f'],
    },
    {
      name: '--save empty',
      files: xor((s) => s),
      args: [...TRAIN, '--save', ''],
      expect: 'K8001',
      message: /needs a path/,
    },
    {
      name: '--save /proc/kiln',
      files: xor((s) => s),
      args: [...TRAIN, '--save', '/proc/kiln'],
      expect: 'K8002',
      message: /special file system/,
      absent: ['/proc/kiln'],
    },
    {
      name: '--save /sys/kiln',
      files: xor((s) => s),
      args: [...TRAIN, '--save', '/sys/kiln'],
      expect: 'K8002',
      absent: ['/sys/kiln'],
    },
    {
      name: '--save /dev/kiln',
      files: xor((s) => s),
      args: [...TRAIN, '--save', '/dev/kiln'],
      expect: 'K8002',
      absent: ['/dev/kiln'],
    },
    {
      name: '--save under a file',
      files: { ...xor((s) => s), f: 'precious' },
      args: [...TRAIN, '--save', '@/f/sub'],
      expect: 'K8002',
      keep: ['f'],
    },
    {
      name: '--save where the weights file is a folder',
      files: { ...xor((s) => s), 'w/weights.safetensors/x': '' },
      args: [...TRAIN, '--save', '@/w'],
      expect: 'K8002',
    },
    {
      name: '--save over earlier weights without --force',
      files: saved,
      args: [...TRAIN, '--save', '@/w'],
      expect: 'K8005',
      message: /exists; pass --force/,
      keep: ['w/weights.safetensors'],
    },
    {
      name: 'save twice: the second refuses, the first is kept',
      files: xor((s) => s),
      before: [...TRAIN, '--epochs', '300', '--save', '@/w'],
      args: [...TRAIN, '--epochs', '2', '--save', '@/w'],
      expect: 'K8005',
      keep: ['w/weights.safetensors'],
    },
    {
      name: '--save --force overwrites',
      files: saved,
      args: [...TRAIN, '--save', '@/w', '--force'],
      expect: 'ok',
      message: /saved .*weights\.safetensors/,
    },
    {
      name: '--save into a new nested folder',
      files: xor((s) => s),
      args: [...TRAIN, '--save', '@/a/b/c'],
      expect: 'ok',
      message: /saved .*a\/b\/c\/weights\.safetensors/,
    },

    // training practice: plots, checkpoints, resuming
    {
      name: '--plot names a folder',
      files: { ...xor((s) => s), 'p.svg/x': '' },
      args: [...TRAIN, '--plot', '@/p.svg'],
      expect: 'K8002',
      message: /is a folder/,
    },
    {
      name: '--plot as PNG',
      files: xor((s) => s),
      args: [...TRAIN, '--plot', '@/p.png'],
      expect: 'K8001',
      message: /name a \.svg file/,
      absent: ['@/p.png'],
    },
    {
      name: '--plot over an existing file without --force',
      files: { ...xor((s) => s), 'p.svg': 'precious' },
      args: [...TRAIN, '--plot', '@/p.svg'],
      expect: 'K8005',
      keep: ['p.svg'],
    },
    {
      name: '--checkpoint names a file',
      files: { ...xor((s) => s), c: 'precious' },
      args: [...TRAIN, '--checkpoint', '@/c'],
      expect: 'K8002',
      keep: ['c'],
    },
    {
      name: '--checkpoint then --resume',
      files: xor((s) => s),
      before: [...TRAIN, '--epochs', '2', '--checkpoint', '@/c'],
      args: [...TRAIN, '--epochs', '3', '--resume', '@/c', '--checkpoint', '@/c'],
      expect: 'ok',
      message: /resuming after epoch 2\nepoch 3:/,
    },
    {
      name: '--resume a folder without a checkpoint',
      files: { ...xor((s) => s), 'c/x': '' },
      args: [...TRAIN, '--resume', '@/c'],
      expect: 'K8001',
      message: /no checkpoint\.json there/,
    },
    {
      name: '--resume a damaged checkpoint',
      files: { ...xor((s) => s), 'c/checkpoint.json': '{"format": "kiln-checkpoint"' },
      args: [...TRAIN, '--resume', '@/c'],
      expect: 'K7001',
      message: /not JSON/,
    },
    {
      name: '--init and --resume together',
      files: { ...xor((s) => s), 'w.st': weights.good },
      args: [...TRAIN, '--init', '@/w.st', '--resume', '@/c'],
      expect: 'K8001',
      message: /give one of them/,
    },
    {
      name: '--early-stopping without validation',
      files: xor((s) => s),
      args: [...TRAIN, '--early-stopping', '2'],
      expect: 'K8001',
      message: /watches the validation loss/,
    },
    {
      name: '--lr-schedule of an unknown kind',
      files: xor((s) => s),
      args: [...TRAIN, '--lr-schedule', 'linear'],
      expect: 'K8001',
      message: /unknown kind 'linear'/,
    },
    {
      name: '--freeze matching nothing',
      files: xor((s) => s),
      args: [...TRAIN, '--freeze', 'conv*'],
      expect: 'K8001',
      message: /matches none of the model's params/,
    },

    // weights files
    {
      name: '--init missing',
      files: xor((s) => s),
      args: [...TRAIN, '--init', '@/none.safetensors'],
      expect: 'K8002',
      message: /no such file/,
    },
    {
      name: '--init a folder',
      files: { ...xor((s) => s), 'd/x': '' },
      args: [...TRAIN, '--init', '@/d'],
      expect: 'K8002',
      message: /is a folder/,
    },
    {
      name: '--init garbage',
      files: { ...xor((s) => s), 'w.st': 'not a weights file at all' },
      args: [...TRAIN, '--init', '@/w.st'],
      expect: 'K7006',
    },
    {
      name: '--init truncated',
      files: { ...xor((s) => s), 'w.st': weights.good.subarray(0, weights.good.length - 5) },
      args: [...TRAIN, '--init', '@/w.st'],
      expect: 'K7006',
    },
    {
      name: '--init transposed kernel',
      files: { ...xor((s) => s), 'w.st': weights.transposed },
      args: [...TRAIN, '--init', '@/w.st'],
      expect: 'K7011',
      message: /'dense_1\/kernel' is F32\[4,2\], the model's is F32\[2,4\] \(transposed\?\)/,
    },
    // --init loads the model's params the file holds and says what it left out (fine-tuning); a matching name of another shape is refused
    {
      name: '--init missing a tensor',
      files: { ...xor((s) => s), 'w.st': weights.missing },
      args: [...TRAIN, '--init', '@/w.st'],
      expect: 'ok',
      message: /left at initialization: dense_2\/bias/,
    },
    {
      name: '--init with an unexpected tensor',
      files: { ...xor((s) => s), 'w.st': weights.extra },
      args: [...TRAIN, '--init', '@/w.st'],
      expect: 'ok',
      message: /skipped \(the model has no such param\): dense_9\/kernel/,
    },
    {
      name: '--init with the wrong dtype',
      files: { ...xor((s) => s), 'w.st': weights.i32 },
      args: [...TRAIN, '--init', '@/w.st'],
      expect: 'K7011',
      message: /is I32\[4\]/,
    },
    {
      name: '--init with NaN weights',
      files: { ...xor((s) => s), 'w.st': weights.nan },
      args: [...TRAIN, '--init', '@/w.st'],
      expect: 'K7012',
      message: /NaN or infinite weights/,
    },
    {
      name: '--init without optimizer state',
      files: { ...xor((s) => s), 'w.st': weights.noSlots },
      args: [...TRAIN, '--init', '@/w.st'],
      expect: 'ok',
    },
    {
      name: '--init from another model',
      files: { 'm.ts': classifier('[0, 1, 2, 2]'), 'w.st': weights.good },
      args: [...TRAIN, '--init', '@/w.st'],
      expect: 'K7011',
    },

    // kiln eval, fmt
    ...evalCases(),

    // --debug shows the stack of a user error
    {
      name: '--debug prints the stack',
      files: xor(data(X, 'Float32Array.from([0, 0, 0, NaN, 1, 0, 1, 1])')),
      args: [...TRAIN, '--debug'],
      expect: 'K7010',
      message: /\n\s+at /,
    },
  ];
}

const MLP = `graph @mlp(%x: f32[2,2], %y: i32[2]) {
  %0 = sum(%x) {axes=[1], keepdims=false} : f32[2]
  %1 = cast(%y) {dtype=f32} : f32[2]
  %2 = add(%0, %1) : f32[2]
  return %2 as z
}
`;

function evalCases(): Case[] {
  const run = (inputs: string): Case['args'] => ['eval', '@/g.kir', '--inputs', '@/in.json'];
  const files = (json: string, kir = MLP) => ({ 'g.kir': kir, 'in.json': json });
  return [
    {
      name: 'eval: correct inputs',
      files: files('{"x": [[1, 2], [3, 4]], "y": [1, -2]}'),
      args: run(''),
      expect: 'ok',
      message: /"data":\[4,5\]/,
    },
    {
      name: 'eval: 0.5 for an i32',
      files: files('{"x": [[1, 2], [3, 4]], "y": [0.5, 1]}'),
      args: run(''),
      expect: 'K7002',
      message: /'y'\[0\] is 0\.5, not an integer/,
    },
    {
      name: 'eval: 3e9 for an i32',
      files: files('{"x": [[1, 2], [3, 4]], "y": [3e9, 1]}'),
      args: run(''),
      expect: 'K7002',
      message: /outside i32's range/,
    },
    {
      name: 'eval: 1e39 for an f32',
      files: files('{"x": [[1e39, 2], [3, 4]], "y": [0, 1]}'),
      args: run(''),
      expect: 'K7002',
      message: /outside f32's range/,
    },
    {
      name: 'eval: -1e39 for an f32',
      files: files('{"x": [[1, -1e39], [3, 4]], "y": [0, 1]}'),
      args: run(''),
      expect: 'K7002',
    },
    {
      name: 'eval: "inf" is an f32',
      files: files('{"x": [[1, "inf"], [3, 4]], "y": [0, 1]}'),
      args: run(''),
      expect: 'ok',
      message: /"inf"/,
    },
    {
      name: 'eval: "inf" for an i32',
      files: files('{"x": [[1, 2], [3, 4]], "y": ["inf", 1]}'),
      args: run(''),
      expect: 'K7002',
    },
    {
      name: 'eval: a string value',
      files: files('{"x": [[1, "two"], [3, 4]], "y": [0, 1]}'),
      args: run(''),
      expect: 'K7002',
    },
    {
      name: 'eval: ragged rows',
      files: files('{"x": [[1, 2], [3]], "y": [0, 1]}'),
      args: run(''),
      expect: 'K7002',
      message: /ragged/,
    },
    { name: 'eval: wrong shape', files: files('{"x": [1, 2, 3, 4], "y": [0, 1]}'), args: run(''), expect: 'K7002' },
    {
      name: 'eval: unknown tensor',
      files: files('{"x": [[1, 2], [3, 4]], "y": [0, 1], "q": 1}'),
      args: run(''),
      expect: 'K7002',
    },
    {
      name: 'eval: invalid JSON',
      files: files('{"x": [[1, 2], [3, 4]'),
      args: run(''),
      expect: 'K8001',
      message: /not valid JSON/,
    },
    { name: 'eval: JSON array', files: files('[1, 2]'), args: run(''), expect: 'K8001' },
    {
      name: 'eval: broadcast to 4e11 elements',
      files: files(
        '{"x": [1]}',
        'graph @b(%x: f32[1]) {\n  %0 = broadcast_to(%x) {shape=[400000,1000000]} : f32[400000,1000000]\n  return %0 as y\n}\n',
      ),
      args: run(''),
      expect: 'K7002',
      message: /4\.00e\+11 elements/,
    },
    {
      name: 'eval: input of 4e11 elements',
      files: files(
        '{}',
        'graph @b(%x: f32[400000,1000000]) {\n  %0 = neg(%x) : f32[400000,1000000]\n  return %0 as y\n}\n',
      ),
      args: run(''),
      expect: 'K7002',
    },
    {
      name: 'eval: syntax error in the graph',
      files: files('{}', 'graph @b(%x: f32[1]) {\n  %0 = neg(%x :\n}\n'),
      args: run(''),
      expect: 'K3001',
    },
    { name: 'eval: graph file is a folder', files: { 'g.kir/x': '', 'in.json': '{}' }, args: run(''), expect: 'K8002' },
    { name: 'fmt: missing file', args: ['fmt', '@/none.kir'], expect: 'K8002' },
    {
      name: 'fmt: binary garbage',
      files: { 'g.kir': new Uint8Array([0, 255, 1, 2, 200, 10, 0]) },
      args: ['fmt', '@/g.kir'],
      expect: 'K3001',
    },
  ];
}
