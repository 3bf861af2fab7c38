// The command line, run as a user runs it: `node bin/kiln.js <command>` in a child process.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { initParams } from '../../ir/init.ts';
import { interpret } from '../../ir/interpret.ts';
import type { OpDef } from '../../ir/ops/def.ts';
import { OPS, OP_NAMES } from '../../ir/ops/index.ts';
import { parseGraph } from '../../ir/parse.ts';
import { tensor } from '../../ir/types.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MLP = 'test/ir/examples/mlp.kir';
const MLP_INPUTS = 'test/ir/examples/mlp.inputs.json';
const tmp = mkdtempSync(join(tmpdir(), 'kiln-cli-'));

function kiln(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, ['bin/kiln.js', ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

function writeTmp(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

interface TensorJson {
  dtype: string;
  shape: number[];
  data: number[];
}

/** -mean over rows of log softmax(logits)[label]. */
function crossEntropy(logits: number[], classes: number, labels: number[]): number {
  return labels.reduce((s, label, r) => {
    const row = logits.slice(r * classes, (r + 1) * classes);
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((a, l) => a + Math.exp(l - m), 0));
    return s + (lse - row[label]!) / labels.length;
  }, 0);
}

describe('the command line', () => {
  it('--help lists every command with its summary; kiln alone prints it as an error', () => {
    const r = kiln('--help');
    expect(r.code).toBe(0);
    for (const c of ['train', 'inspect', 'demo', 'ops', 'fmt', 'eval', 'help'])
      expect(r.out).toMatch(new RegExp(`^  ${c} .*  \\S`, 'm'));
    expect(r.out).toContain('train a model on its dataset');
    const bare = kiln();
    expect(bare.code).toBe(1);
    expect(bare.err).toBe(r.out);
  });

  it('kiln help <command>, <command> -h and --help print the same help', () => {
    const help = kiln('help', 'train');
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/^Usage: kiln train \[options\] <model\.ts>/);
    expect(help.out).toMatch(/--epochs <n> +number of epochs \(default: 1\)/);
    expect(kiln('train', '-h').out).toBe(help.out);
    expect(kiln('train', '--help').out).toBe(help.out);
    expect(kiln('help', 'fmt').out).toMatch(/--no-locations +leave out loc/);
  });

  it('--version prints the package version', () => {
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    expect(kiln('--version')).toMatchObject({ code: 0, out: `${version}\n` });
  });

  it('unknown commands and misspelled flags are K8001 with a suggestion', () => {
    expect(kiln('trian')).toMatchObject({
      code: 1,
      err: "error K8001: unknown command 'trian'; did you mean train?; see kiln --help\n",
    });
    expect(kiln('train', 'examples/xor.ts', '--epoch', '2').err).toMatch(
      /^error K8001: train: unknown option '--epoch'; did you mean --epochs\?; see kiln help train\n$/,
    );
    expect(kiln('train', 'examples/xor.ts', '--epochs', '1.5').err).toBe(
      "error K8001: train: --epochs must be an integer >= 1, got '1.5'; see kiln help train\n",
    );
    expect(kiln('inspect', 'examples/xor.ts', '--stage', 'fused?').err).toBe(
      "error K8001: inspect: --stage 'fused?' is not one of ir, train, simplified, fused, lowered, winograd, specialize, transpose, split-reduce, kernels, wat, wgsl; see kiln help inspect\n",
    );
  });
});

describe('kiln ops', () => {
  it('--json lists every op of the registry with its kind and gradient', () => {
    const r = kiln('ops', '--json');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.out) as { op: string; kind: string; vjp: boolean; wasm: boolean; wgsl: boolean }[];
    expect(rows.map((x) => x.op).sort()).toEqual([...OP_NAMES].sort());
    for (const row of rows) {
      const def = (OPS as Record<string, OpDef>)[row.op]!;
      expect(row.kind).toBe(def.kind);
      expect(row.vjp).toBe(def.vjp !== 'none');
      expect(typeof row.wasm).toBe('boolean');
      expect(typeof row.wgsl).toBe('boolean');
    }
  });

  it('prints a table by default', () => {
    const r = kiln('ops');
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    expect(lines[0]).toMatch(/^op +kind +vjp +wasm +wgsl +doc$/);
    expect(lines.find((l) => l.startsWith('matmul '))).toMatch(/^matmul +contraction +yes +(yes|no) +(yes|no) /);
    expect(lines.find((l) => l.startsWith('less '))).toMatch(/^less +elementwise +no /);
    expect(lines.length).toBe(OP_NAMES.length + 3);
  });
});

describe('kiln fmt', () => {
  it('prints the canonical example unchanged', () => {
    const r = kiln('fmt', MLP);
    expect(r.err).toBe('');
    expect(r.out).toBe(readFileSync(join(ROOT, MLP), 'utf8'));
    expect(kiln('fmt', MLP, '--no-locations').out).toBe(r.out.replace(/ {2}loc\([^)]*\)/g, ''));
  });

  it('canonicalizes spacing, names, attribute order and defaults; --check tells', () => {
    const messy = writeTmp(
      'messy.kir',
      [
        '// a hand-written graph',
        'graph @f(%x:f32[2,2]) params(%w : f32[2,2] = random_uniform{seed=1,min=-0.5, max=0.5}) {',
        '   %h = matmul(%x,%w)   : f32[2,2]',
        '   %0 = relu(%h) : f32[2,2] // rectified',
        '   return %0 as y }',
      ].join('\n'),
    );
    const canonical = [
      'graph @f(%x: f32[2,2]) params(%w: f32[2,2] = random_uniform{max=0.5, min=-0.5, seed=1}) {',
      '  %0 = matmul(%x, %w) {transpose_a=false, transpose_b=false} : f32[2,2]',
      '  %1 = relu(%0) : f32[2,2]',
      '  return %1 as y',
      '}',
      '',
    ].join('\n');
    expect(kiln('fmt', messy).out).toBe(canonical);
    const check = kiln('fmt', messy, '--check');
    expect(check.code).toBe(1);
    expect(check.err).toContain('not in canonical form');
    expect(kiln('fmt', writeTmp('canonical.kir', canonical), '--check').code).toBe(0);
  });

  it('reports errors with their file:line:col', () => {
    const bad = writeTmp('bad.kir', 'graph @f(%x: f32[2]) {\n  %0 = exp(%x) : f32[3]\n  return %0 as y\n}\n');
    const r = kiln('fmt', bad);
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      `error K4002: ${bad}:2:18: exp: annotated type f32[3] differs from the inferred f32[2]; fix the annotation or the inputs\n`,
    );
  });
});

describe('kiln eval', () => {
  it('runs the MLP on the interpreter with params from their initializers', () => {
    const r = kiln('eval', MLP, '--inputs', MLP_INPUTS);
    expect(r.err).toBe('');
    const out = JSON.parse(r.out) as Record<string, TensorJson>;
    expect(Object.keys(out)).toEqual(['logits', 'loss']);
    expect(out.logits!.shape).toEqual([4, 3]);
    expect(out.loss).toMatchObject({ dtype: 'f32', shape: [] });
    const inputs = JSON.parse(readFileSync(join(ROOT, MLP_INPUTS), 'utf8')) as { x: number[][]; y: { data: number[] } };
    // the printed loss is the cross-entropy of the printed logits
    expect(out.loss!.data[0]).toBeCloseTo(crossEntropy(out.logits!.data, 3, inputs.y.data), 5);
    // and the printed logits are the in-process interpreter's, with initializer params
    const g = parseGraph(readFileSync(join(ROOT, MLP), 'utf8'));
    const ref = interpret(
      g,
      { x: tensor('f32', [4, 3], inputs.x.flat()), y: tensor('i32', [4], inputs.y.data) },
      initParams(g),
    );
    out.logits!.data.forEach((v, i) => expect(v).toBeCloseTo(ref.outputs.logits!.data[i]!, 6));
  });

  it('takes params from the JSON when given (nested arrays)', () => {
    const zeros = (r: number, c: number) => Array.from({ length: r }, () => new Array<number>(c).fill(0));
    const json = writeTmp(
      'params.json',
      JSON.stringify({
        x: zeros(4, 3),
        y: [0, 2, 1, 2],
        w1: zeros(3, 5),
        b1: [0, 0, 0, 0, 0],
        w2: zeros(5, 3),
        b2: [1, 2, 3],
        step: 41,
      }),
    );
    const out = JSON.parse(kiln('eval', MLP, '--inputs', json).out) as Record<string, TensorJson>;
    expect(out.logits!.data).toEqual([1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3]);
    // logsumexp(1,2,3) = 3 + log(1 + e^-1 + e^-2); labels 0,2,1,2 pick logits 1,3,2,3
    const lse = 3 + Math.log(1 + Math.exp(-1) + Math.exp(-2));
    expect(out.loss!.data[0]).toBeCloseTo(lse - (1 + 3 + 2 + 3) / 4, 6);
  });

  it('picks a graph of a program with --graph', () => {
    const prog = writeTmp(
      'prog.kir',
      [
        'graph @double(%x: f32[2]) {',
        '  %0 = add(%x, %x) : f32[2]',
        '  return %0 as y',
        '}',
        '',
        'graph @square(%x: f32[2]) {',
        '  %0 = mul(%x, %x) : f32[2]',
        '  return %0 as y',
        '}',
        '',
      ].join('\n'),
    );
    const json = writeTmp('x.json', '{"x": {"shape": [2], "data": [3, "-inf"]}}');
    expect(JSON.parse(kiln('eval', prog, '--inputs', json, '--graph', 'square').out)).toEqual({
      y: { dtype: 'f32', shape: [2], data: [9, 'inf'] },
    });
    expect(JSON.parse(kiln('eval', prog, '--inputs', json, '--graph=@double').out)).toEqual({
      y: { dtype: 'f32', shape: [2], data: [6, '-inf'] },
    });
    const r = kiln('eval', prog, '--inputs', json);
    expect(r.code).toBe(1);
    expect(r.err).toBe('error K8001: eval: the file holds 2 graphs (@double, @square); pick one with --graph <name>\n');
  });

  it('reports missing flags, missing files and bad inputs clearly', () => {
    expect(kiln('eval', MLP).err).toBe(
      "error K8001: eval: required option '--inputs <file.json>' not specified; see kiln help eval\n",
    );
    expect(kiln('eval', 'nowhere.kir', '--inputs', MLP_INPUTS).err).toBe(
      "error K8002: eval: cannot read 'nowhere.kir': no such file\n",
    );
    expect(kiln('fmt').err).toBe("error K8001: fmt: missing required argument 'file.kir'; see kiln help fmt\n");
    expect(kiln('fmt', 'a.kir', 'b.kir').err).toBe(
      "error K8001: fmt: too many arguments for 'fmt'. Expected 1 argument but got 2; see kiln help fmt\n",
    );
    expect(kiln('ops', '--tabel').err).toBe(
      "error K8001: ops: unknown option '--tabel'; accepted: --json; see kiln help ops\n",
    );
    const wrong = writeTmp('wrong.json', '{"x": [[1, 2], [3, 4]], "y": [0, 1, 2, 0]}');
    const r = kiln('eval', MLP, '--inputs', wrong);
    expect(r.code).toBe(1);
    expect(r.err).toBe("error K7002: eval: 'x' has shape [2,2], the graph declares f32[4,3]\n");
  });
});
