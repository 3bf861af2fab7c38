// The runtime as published and used by apps: `npm run build:runtime` bundles runtime/ alone (no
// compiler code, no eval) into dist/, within the 20 KB minified+gzipped bar; plain `node` imports
// kiln/runtime; `kiln compile` writes an artifact whose generated index.ts type-checks under
// tsc --strict (a wrong input name or array kind fails), whose index.js runs under plain node; and
// examples/node/classify.js classifies digits with it, exiting with the typed hash error when a
// byte of program.wasm, weights.safetensors or kernels.wgsl is flipped.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = new URL('../..', import.meta.url).pathname;
// loadModel's 'auto' asks Dawn (the `webgpu` package, in a worker thread) for an adapter; with SwiftShader's Vulkan
// driver (as CI sets it) and a runtime folder the Vulkan loader prints nothing, and auto passes over the software adapter
const ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const env = { ...process.env, XDG_RUNTIME_DIR: tmpdir(), ...(existsSync(ICD) ? { VK_ICD_FILENAMES: ICD } : {}) };
const node = (args: string[], cwd = ROOT) => spawnSync(process.execPath, args, { cwd, env, encoding: 'utf8' });
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
const kiln = (...args: string[]) =>
  execFileSync(process.execPath, [join(ROOT, 'bin/kiln.js'), ...args], { cwd: ROOT, encoding: 'utf8' });

// Inside the package, so the generated index.js resolves kiln/runtime by the package's own name.
const API = join(ROOT, '.kiln', `published-${process.pid}`);
let tmp: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'kiln-published-'));
  kiln('compile', 'examples/mnist-cnn.ts', '--target', 'all', '--out', join(tmp, 'm'));
  kiln('compile', 'examples/mnist-cnn.ts', '--batch', '8', '--out', API);
}, 180_000);

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
  rmSync(API, { recursive: true, force: true });
});

describe('published runtime', () => {
  it('is at most 20 KB minified+gzipped and holds only runtime code', () => {
    const r = node([join(ROOT, 'scripts/build-runtime.mjs'), '--size']);
    expect(r.status, r.stderr).toBe(0);
    const kb = Number(/([\d.]+) KB minified\+gzipped/.exec(r.stdout)![1]);
    expect(kb).toBeGreaterThan(1);
    expect(kb).toBeLessThanOrEqual(20);
    const js = readFileSync(join(ROOT, 'dist/runtime/index.js'), 'utf8');
    expect(js).not.toMatch(/\beval\s*\(|new\s+Function\s*\(/);
    expect(js).not.toMatch(/compiler\/|targets\/wasm|wabt|ts-morph/);
  });

  it('imports from plain node (no tsx), with its declarations', () => {
    const r = node([
      '--input-type=module',
      '-e',
      "const r = await import('kiln/runtime'); console.log(typeof r.loadModel, typeof r.KilnError, typeof r.decodeSafetensors, typeof r.readNpy)",
    ]);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('function function function function');
    expect(readFileSync(join(ROOT, 'dist/types/runtime/index.d.ts'), 'utf8')).toMatch(
      /loadModel.*from '\.\/model\.js'/,
    );
  });

  it('the generated index.ts type-checks under tsc --strict, and wrong uses fail', () => {
    writeFileSync(
      join(API, 'app.ts'),
      [
        "import { load, spec } from './index.js';",
        'const m = await load();',
        'const x = new Float32Array(8 * 28 * 28);',
        'const { y } = await m.infer({ x: { data: x, shape: [8, 28, 28, 1] } });',
        'const { loss, accuracy } = await m.trainStep({ x, y: new Int32Array(spec.batch) });',
        'console.log(m.backend, y.length, loss[0]! + accuracy[0]! >= 0);',
      ].join('\n'),
    );
    writeFileSync(
      join(API, 'bad.ts'),
      [
        "import { load } from './index.js';",
        'const m = await load();',
        'await m.infer({ z: new Float32Array(8 * 784) });',
        'await m.trainStep({ x: new Float32Array(8 * 784), y: new Float32Array(8) });',
        'await m.infer({ x: { data: new Float32Array(8 * 784), shape: [8, 784] } });',
      ].join('\n'),
    );
    const tsc = (file: string) =>
      node(
        [
          TSC,
          '--ignoreConfig',
          '--noEmit',
          '--strict',
          '--module',
          'nodenext',
          '--target',
          'es2022',
          '--skipLibCheck',
          '--types',
          'node',
          file,
        ],
        API,
      );
    const good = tsc('app.ts');
    expect(good.stdout + good.stderr).toBe('');
    expect(good.status).toBe(0);
    const bad = tsc('bad.ts');
    expect(bad.status).not.toBe(0);
    expect(bad.stdout).toMatch(/bad\.ts\(3,\d+\): error TS2353: .*'z' does not exist in type 'InferInputs'/);
    expect(bad.stdout).toMatch(
      /bad\.ts\(4,\d+\): error TS2322: Type 'Float32Array.*' is not assignable to type 'Int32Array/,
    );
    expect(bad.stdout).toMatch(/bad\.ts\(5,\d+\): error TS2322/);
  });

  it('the generated index.js runs under plain node', () => {
    const r = node(
      [
        '--input-type=module',
        '-e',
        "const { load, spec } = await import('./index.js'); const m = await load(); const { y } = await m.infer({ x: new Float32Array(8 * 784) }); console.log(spec.model, m.backend, y.length)",
      ],
      API,
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('mnist_cnn wasm 80');
  });

  it('examples/node/classify.js classifies sample digits, and refuses a flipped byte with the typed hash error', () => {
    const ok = node(['examples/node/classify.js', join(tmp, 'm'), '--json']);
    expect(ok.stderr).toBe('');
    const r = JSON.parse(ok.stdout);
    expect(r.backend).toBe('wasm');
    expect(r.backendInfo).toMatch(
      /^wasm \((relaxed )?SIMD, \d+ threads?.*?\): (the WebGPU adapter is a software fallback|no WebGPU adapter)/,
    );
    expect(r.predictions).toHaveLength(64);
    expect(r.labels.slice(0, 10)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(r.predictions.every((p: number) => Number.isInteger(p) && p >= 0 && p < 10)).toBe(true);
    expect(r.latencyMs).toBeGreaterThan(0);
    for (const file of [
      'program.wasm',
      'weights.safetensors',
      'program.relaxed.wasm',
      'program.threads.wasm',
      'kernels.wgsl',
    ]) {
      const bad = join(tmp, `bad-${file}`);
      cpSync(join(tmp, 'm'), bad, { recursive: true });
      const bytes = readFileSync(join(bad, file));
      bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
      writeFileSync(join(bad, file), bytes);
      const e = node(['examples/node/classify.js', bad]);
      expect(e.status).toBe(1);
      expect(e.stderr).toMatch(
        new RegExp(
          `^classify: error K7004: ${file.replace(/\./g, '\\.')}: expected sha-256 [0-9a-f]{64}, found [0-9a-f]{64}\\n$`,
        ),
      );
    }
  });

  it('trained in the app, classify.js gets most sample digits right', () => {
    const r = JSON.parse(node(['examples/node/classify.js', join(tmp, 'm'), '--train', '60', '--json']).stdout);
    expect(r.accuracy).toBeGreaterThan(0.6);
  });
});
