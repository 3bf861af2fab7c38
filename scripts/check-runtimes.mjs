#!/usr/bin/env node
// The published runtime (dist/runtime) under Deno and Bun: both come from the npm registry as their
// platform packages (@deno/linux-x64-glibc, @oven/bun-linux-x64: the binaries themselves, no install
// script) into a scratch folder outside the repository, once. A compiled MNIST CNN (--target all) is
// loaded with loadModel under node, deno and bun, and each runs infer on the same digits on plain-SIMD
// wasm, and on 'auto' (which says what it picked); the wasm outputs must equal node's bit for bit.
//   npm run runtimes [-- --scratch DIR]   (linux-x64 only; about 190 MB downloaded the first time)
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const scratch = args.includes('--scratch') ? args[args.indexOf('--scratch') + 1] : join(tmpdir(), 'kiln-runtimes');
const PACKAGES = {
  deno: ['@deno/linux-x64-glibc', 'deno', ['run', '--allow-read', '--allow-env']],
  bun: ['@oven/bun-linux-x64', 'bin/bun', ['run']],
};
if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.error(`runtimes: the check fetches linux-x64 binaries; this is ${process.platform}-${process.arch}`);
  process.exit(2);
}

const binary = (name) => {
  const [pkg, file] = PACKAGES[name];
  return join(scratch, 'node_modules', pkg, file);
};
if (!Object.keys(PACKAGES).every((n) => existsSync(binary(n)))) {
  mkdirSync(scratch, { recursive: true });
  if (!existsSync(join(scratch, 'package.json'))) writeFileSync(join(scratch, 'package.json'), '{"private":true}\n');
  console.log(
    `runtimes: npm install ${Object.values(PACKAGES)
      .map(([p]) => p)
      .join(' ')} into ${scratch}`,
  );
  execFileSync(
    'npm',
    ['install', '--no-audit', '--no-fund', '--ignore-scripts', ...Object.values(PACKAGES).map(([p]) => p)],
    {
      cwd: scratch,
      stdio: 'inherit',
    },
  );
}
for (const n of Object.keys(PACKAGES)) chmodSync(binary(n), 0o755);

if (!existsSync(join(root, 'dist/runtime/index.js')))
  execFileSync(process.execPath, [join(root, 'scripts/build-runtime.mjs')], { stdio: 'inherit' });
const work = mkdtempSync(join(tmpdir(), 'kiln-runtimes-'));
const artifact = join(work, 'm');
execFileSync(
  process.execPath,
  [join(root, 'bin/kiln.js'), 'compile', 'examples/mnist-cnn.ts', '--target', 'all', '--batch', '8', '--out', artifact],
  {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
  },
);
// The probe each runtime runs: plain ESM importing the built runtime by path.
const probe = join(work, 'probe.mjs');
writeFileSync(
  probe,
  `import { loadModel, KilnError } from ${JSON.stringify(join(root, 'dist/runtime/index.js'))};
const dir = ${JSON.stringify(artifact)};
const x = Float32Array.from({ length: 8 * 784 }, (_, i) => ((i * 2654435761) % 1000) / 1000);
const out = {};
const wasm = await loadModel(dir, { backend: 'wasm', relaxedSimd: false });
out.wasm = { info: wasm.backendInfo, y: Array.from((await wasm.infer({ x })).y) };
const step = await wasm.trainStep({ x, y: Int32Array.from({ length: 8 }, (_, i) => i) });
out.loss = step.loss[0];
try {
  const auto = await loadModel(dir);
  out.auto = { info: auto.backendInfo, y: Array.from((await auto.infer({ x })).y) };
} catch (e) {
  out.auto = { error: e instanceof KilnError ? e.message : String(e) };
}
console.log(JSON.stringify(out));
`,
);
const run = (cmd, pre) => {
  const r = spawnSync(cmd, [...pre, probe], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) return { error: `exit ${r.status ?? r.signal}: ${(r.stderr || r.stdout).trim().slice(-800)}` };
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop());
  } catch {
    return { error: `unreadable output: ${r.stdout.slice(-400)}` };
  }
};
const version = (cmd) => spawnSync(cmd, ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0];
const want = run(process.execPath, []);
if (want.error) {
  console.error(`runtimes: node itself failed: ${want.error}`);
  process.exit(1);
}
let failed = 0;
console.log(`node ${process.version}: wasm ${want.wasm.info}; auto: ${want.auto.info ?? want.auto.error}`);
for (const [name, [, , pre]] of Object.entries(PACKAGES)) {
  const got = run(binary(name), pre);
  const label = `${name} ${version(binary(name))}`;
  if (got.error) {
    failed++;
    console.log(`${label}: FAILED: ${got.error}`);
    continue;
  }
  const same = got.wasm.y.length === want.wasm.y.length && got.wasm.y.every((v, i) => Object.is(v, want.wasm.y[i]));
  const sameLoss = Object.is(got.loss, want.loss);
  if (!same || !sameLoss) failed++;
  console.log(
    `${label}: wasm (${got.wasm.info}) infer ${same ? 'equals' : 'DIFFERS FROM'} node's bit for bit, train_step loss ${got.loss} ${sameLoss ? '(= node)' : `(node: ${want.loss})`}; auto: ${got.auto.info ?? `error: ${got.auto.error}`}`,
  );
}
rmSync(work, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
