// `kiln inspect`'s views (compiler/inspect/): kernels mapped back to the DSL lines they came from,
// the WAT comments, pass diffs, flags that do not apply, the cost table and profile, artifact folders.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { inspect } from '../../compiler/cli/inspect.ts';
import { pickModel } from '../../compiler/dsl/model.ts';
import { compileProgram, modelEntries } from '../../compiler/pipeline.ts';
import { collect } from '../../compiler/inspect/collect.ts';
import type { InspectData } from '../../compiler/inspect/data.ts';
import { diffLines, unifiedDiff } from '../../compiler/inspect/diff.ts';
import { alignNumbering } from '../../compiler/inspect/text.ts';
import { KilnError } from '../../compiler/index.ts';
import { buildArtifact } from '../../compiler/artifact/build.ts';
import { writeArtifact } from '../../compiler/artifact/write.ts';
import { loadModel } from '../../runtime/index.ts';

const MNIST = 'examples/mnist-cnn.ts';
/** The line of examples/mnist-cnn.ts holding `text` (so the tests follow edits of the example). */
const lineOf = (text: string): number =>
  readFileSync(MNIST, 'utf8')
    .split('\n')
    .findIndex((l) => l.includes(text)) + 1;
const CONV1 = lineOf('nn.conv2d(32, 3'),
  CONV2 = lineOf('nn.conv2d(64, 3'),
  FORWARD = lineOf('forward: ({ x })');
const CONV3 =
  CONV2 +
  readFileSync(MNIST, 'utf8')
    .split('\n')
    .slice(CONV2)
    .findIndex((l) => l.includes('nn.conv2d(64, 3')) +
  1;
let mnist: InspectData;
beforeAll(async () => {
  mnist = collect(await pickModel(MNIST, undefined, 'test'), { train: true }).data;
});

describe('source maps', () => {
  test('every fused kernel names the graph values it stores and the MNIST lines of the ops it computes', () => {
    const lines = readFileSync(MNIST, 'utf8').split('\n');
    for (const k of mnist.kernels) {
      const e = mnist.entries.find((x) => x.name === k.entry)!;
      if (k.group === undefined) {
        expect(k.kir).toMatch(/^loop /); // the copy of a param update
        continue;
      }
      const g = e.groups[k.group]!;
      expect(g.kernels).toContain(k.name);
      // the Winograd rewrite's filter, input, dy and product kernels and a split reduction's partials
      // kernel store temporaries, no graph value
      for (const s of k.stores)
        if (s.value === undefined) expect(k.name).toMatch(/(_w(f|i\d|d\d|g)|_part)$/);
        else expect(g.roots).toContain(s.value);
      expect(k.locs.length).toBeGreaterThan(0);
      for (const l of k.locs) {
        expect(l.file).toBe(MNIST);
        expect(lines[l.line - 1]!.length).toBeGreaterThanOrEqual(l.col);
      }
    }
    const conv1 = mnist.kernels.find((k) => k.entry === 'train_step' && k.kind === 'contraction(conv2d)')!;
    expect(conv1.locs.map((l) => l.line)).toEqual([CONV1]);
    const filterGrads = mnist.kernels
      .filter((k) => k.kind === 'contraction(conv2d_filter_grad)')
      .map((k) => k.locs.map((l) => l.line));
    expect(filterGrads).toEqual(expect.arrayContaining([[CONV1], [CONV2], [CONV3]]));
  });

  test('bar: kiln inspect examples/mnist-cnn.ts --train --stage wat --kernel <first kernel> names lines of the model file', () => {
    const first = mnist.entries[0]!.kernels[0]!;
    const out = execFileSync(
      process.execPath,
      ['bin/kiln.js', 'inspect', MNIST, '--train', '--stage', 'wat', '--kernel', first],
      { encoding: 'utf8' },
    );
    const comments = out.split('\n').filter((l) => l.startsWith(';;'));
    expect(comments[0]).toBe(`;; kernel ${first}: loop, fusion group 0 of infer`);
    expect(comments).toContain(
      `;;   from   examples/mnist-cnn.ts:${FORWARD}:40  forward: ({ x }) => net(x!.sub(MEAN).div(STD)),`,
    );
    expect(
      comments.some((l) =>
        new RegExp(`stores infer_t\\d+ <- %3 = div: f32\\[64,28,28,1\\]  examples/mnist-cnn.ts:${FORWARD}:40`).test(l),
      ),
    ).toBe(true);
    expect(out).toMatch(new RegExp(`^\\(func \\$e0_k0_${first} `, 'm'));
  }, 60_000);

  test('--stage wgsl --kernel prints the compute shader of a convolution, commented with its layer line', () => {
    const conv = mnist.kernels.find((k) => k.entry === 'train_step' && k.kind === 'contraction(conv2d)')!;
    const out = execFileSync(
      process.execPath,
      ['bin/kiln.js', 'inspect', MNIST, '--train', '--stage', 'wgsl', '--kernel', conv.name],
      {
        encoding: 'utf8',
      },
    );
    const comments = out.split('\n').filter((l) => l.startsWith('//'));
    expect(comments[0]).toMatch(new RegExp(`^// kernel ${conv.name}: contraction\\(conv2d\\)`));
    expect(comments.some((l) => /from {3}examples\/mnist-cnn\.ts:\d+:\d+ {2}nn\.conv2d\(/.test(l))).toBe(true);
    expect(out).toMatch(/^@compute @workgroup_size\(/m);
    expect(out).toMatch(/^fn main\(/m);
  }, 60_000);

  test("a convolution gradient kernel's WAT names its layer's line", async () => {
    const k = mnist.kernels.find((x) => x.kind === 'contraction(conv2d_filter_grad)' && x.locs[0]!.line === CONV2)!;
    const wat = await inspect(MNIST, { train: true, stage: 'wat', kernel: k.name });
    expect(wat).toContain(`;;   from   examples/mnist-cnn.ts:${CONV2}:6  nn.conv2d(64, 3, { activation: 'relu' }),`);
    expect(wat).toContain(`(func $e1_k`);
  });

  test("the fused stage lists each group's source lines and kernels", async () => {
    const text = await inspect(MNIST, { stage: 'fused' });
    expect(text).toContain(
      `      examples/mnist-cnn.ts:${CONV1}:6  conv2d add relu  | nn.conv2d(32, 3, { activation: 'relu' }),\n      -> infer_k1`,
    );
  });
});

describe('pass diffs', () => {
  test('a line diff keeps, removes and adds lines; a unified diff has hunks; equal texts give none', () => {
    expect(diffLines(['a', 'b', 'c'], ['a', 'x', 'c'])).toEqual([
      { op: ' ', text: 'a' },
      { op: '-', text: 'b' },
      { op: '+', text: 'x' },
      { op: ' ', text: 'c' },
    ]);
    const long = Array.from({ length: 20 }, (_, i) => `l${i}`);
    const d = unifiedDiff('a', 'b', long.join('\n'), long.map((l) => (l === 'l10' ? 'L10' : l)).join('\n'));
    expect(d).toBe(
      ['--- a', '+++ b', '@@ -8,7 +8,7 @@', ' l7', ' l8', ' l9', '-l10', '+L10', ' l11', ' l12', ' l13', ''].join('\n'),
    );
    expect(unifiedDiff('a', 'b', 'same', 'same')).toBe('');
  });

  test('renumbering: a dropped node does not renumber the lines after it', () => {
    const before = '  %0 = neg(%x) : f32[2]\n  %1 = neg(%0) : f32[2]\n  %2 = exp(%x) : f32[2]\n  return %2 as y';
    const after = '  %0 = exp(%x) : f32[2]\n  %1 = log(%0) : f32[2]\n  return %1 as y';
    expect(alignNumbering(before, after)).toBe(
      '  %2 = exp(%x) : f32[2]\n  %new.1 = log(%2) : f32[2]\n  return %new.1 as y',
    );
  });

  test('a stage no pass changed says so; --diff shows what simplify did to the training step', async () => {
    expect(await inspect(MNIST, { stage: 'simplified' })).toMatch(
      /^\/\/ simplified: simplify, cse, dce changed nothing in entry infer\ngraph @mnist_cnn\(/,
    );
    expect(await inspect('examples/xor.ts', { diff: 'cse' })).toBe('// cse changed nothing in entry infer\n');
    const d = await inspect(MNIST, { diff: 'simplify', train: true, entry: 'train_step', locations: false });
    expect(d).toMatch(/^--- train_step as built\n\+\+\+ train_step after simplify/);
    // mask_relu: x > 0 -> relu(x) > 0 (the mask reads the activation; CSE then merges the new relu)
    const relu = /\+  (%new\.\d+) = relu\(%6\) : f32\[64,26,26,32\]/.exec(d);
    expect(relu).not.toBeNull();
    expect(d).toContain(`+  %new.45 = greater(${relu![1]}, %43) : bool[64,26,26,32]\n`);
    expect(d).toContain('-  %44 = greater(%6, %43) : bool[64,26,26,32]\n');
  });
});

describe('Kernel IR stages', () => {
  test('--stage lowered and specialize print the Kernel IR stages the pipeline dumps; --diff specialize shows what the pass changed', async () => {
    const dumps: Record<string, string> = {};
    compileProgram(modelEntries(await pickModel(MNIST, undefined, 'test'), { train: true }), {
      dump: (stage, text) => {
        dumps[stage] = text;
      },
    });
    expect(await inspect(MNIST, { stage: 'lowered', train: true })).toBe(dumps.lowered);
    expect(await inspect(MNIST, { stage: 'specialize', train: true })).toBe(dumps.specialize);
    const d = await inspect(MNIST, { diff: 'specialize', train: true });
    expect(d).toMatch(/^--- the Kernel IR after winograd\n\+\+\+ the Kernel IR after specialize\n@@ /);
    expect(d).toMatch(/^\+ .* specialize v\d/m);
    expect(await inspect(MNIST, { diff: 'kernels' })).toMatch(/^\+program @mnist_cnn arena \d+ bytes$/m);
  });
});

describe('flags', () => {
  const cases: [Parameters<typeof inspect>[1], RegExp][] = [
    [{ stage: 'ir', train: true }, /--train does not apply to --stage ir/],
    [{ stage: 'train', train: true }, /--train does not apply to --stage train/],
    [{ json: true }, /--json applies only with --stats/],
    [{ stage: 'fused', kernel: 'infer_k0' }, /--kernel applies only with/],
    [{ stage: 'ir', entry: 'infer' }, /--entry does not apply to --stage ir/],
    [{ stage: 'kernels', entry: 'infer' }, /--entry does not apply to --stage kernels/],
    [{ stage: 'fused', diff: 'cse' }, /--stage and --diff ask for different views/],
    [{ stats: true, locations: false }, /--no-locations applies only/],
    [{ stage: 'fused', profile: true }, /--profile applies only with --stats or --html/],
    [{ stats: true, target: 'webgpu' }, /--target applies only with --profile/],
    [{ stage: 'nope' }, /--stage nope is not a stage/],
    [
      { diff: 'fused' },
      /--diff fused: a diff compares a pass's input and output; passes: simplified, simplify, cse, dce, train, winograd, specialize, transpose, split-reduce, kernels/,
    ],
    [{ stage: 'specialize', entry: 'infer' }, /--entry does not apply to --stage specialize/],
    [
      { stage: 'simplified', entry: 'train_step' },
      /--entry train_step: no such entry point; entries: infer \(compile the training step with --train\)/,
    ],
    [{ stage: 'wat', kernel: 'nope', train: true }, /--kernel nope: no such kernel/],
    [{ html: join(tmpdir(), 'no-such-folder-kiln', 'r.html') }, /--html .*: the folder .* does not exist/],
  ];
  test.each(cases)('%o is an error naming the flag', async (opts, message) => {
    const err = await inspect('examples/xor.ts', opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).code).toBe('K8001');
    expect((err as Error).message).toMatch(message);
  });
});

describe('costs and profile', () => {
  test('--stats: a row per kernel and the total; --json keeps the program totals', async () => {
    const table = (await inspect(MNIST, { stats: true, train: true })).split('\n');
    expect(table[0]).toMatch(/^kernel\s+kind\s+FLOPs\s+read\s+written\s+FLOP\/B$/);
    expect(table.filter((l) => /^(infer|train_step)_k\d+(_w\w+|_part)? /.test(l))).toHaveLength(mnist.kernels.length);
    const json = JSON.parse(await inspect(MNIST, { stats: true, json: true, train: true }));
    expect(json.kernels).toBe(mnist.kernels.length);
    expect(json.kernelCosts.reduce((s: number, k: { flops: number }) => s + k.flops, 0)).toBe(
      mnist.kernels.reduce((s, k) => s + k.cost.flops, 0),
    );
    expect(json.kernelCosts.find((k: { name: string }) => k.name === 'infer_k1').locs).toEqual([
      `examples/mnist-cnn.ts:${CONV1}:6`,
    ]);
  });

  test("--profile times every kernel of the compiled wasm and measures the target's peaks", async () => {
    const json = JSON.parse(await inspect('examples/xor.ts', { stats: true, json: true, train: true, profile: true }));
    expect(json.profiles).toHaveLength(1);
    const [p] = json.profiles;
    expect(p.target).toMatch(/^wasm-(relaxed|simd)$/);
    expect(p.peaks.gflops).toBeGreaterThan(0);
    expect(p.peaks.gbps).toBeGreaterThan(0);
    for (const k of json.kernelCosts) {
      const t = k.times[p.target];
      expect(t.ms).toBeGreaterThan(0);
      expect(t.gflops).toBeCloseTo(k.flops / t.ms / 1e6, 6);
    }
  });
});

describe('artifact folders', () => {
  test('kiln compile --inspect: the folder gives the same views as the model file and still loads; a folder without inspect.json is an error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-inspect-'));
    const { files } = await buildArtifact(await pickModel('examples/xor.ts', undefined, 'test'), {
      targets: ['wasm'],
      inspect: true,
    });
    writeArtifact(dir, files);
    for (const stage of ['train', 'simplified', 'fused', 'kernels', 'wat']) {
      expect(await inspect(dir, { stage })).toBe(
        await inspect('examples/xor.ts', stage === 'train' ? { stage } : { stage, train: true }),
      );
    }
    expect(await inspect(dir, { stats: true })).toBe(await inspect('examples/xor.ts', { stats: true, train: true }));
    const model = await loadModel(dir);
    const out = await model.infer({ x: new Float32Array([0, 0, 0, 1, 1, 0, 1, 1]) });
    expect(Object.values(out)[0]).toHaveLength(4);
    await expect(inspect(dir, { stage: 'ir', batch: 2 })).rejects.toThrow(
      /--batch does not apply to an artifact folder/,
    );
    await expect(inspect(mkdtempSync(join(tmpdir(), 'kiln-empty-')), { stage: 'fused' })).rejects.toThrow(
      /holds no inspect.json/,
    );
  });
});
