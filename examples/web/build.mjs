#!/usr/bin/env node
// Builds the web app into examples/web/dist/: app.js (main.js bundled with kiln/runtime by esbuild),
// index.html, the compiled model (copied from an artifact folder) and `batch` sample digits of the
// mnist package (the last digits of each class, cycling 0-9: the same ones examples/node/classify.js
// uses).   node examples/web/build.mjs <artifact-dir>
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const artifact = process.argv[2];
if (!artifact) {
  console.error('usage: node examples/web/build.mjs <artifact-dir>');
  process.exit(2);
}
const out = join(here, 'dist');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(here, 'main.js')],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  outfile: join(out, 'app.js'),
  logLevel: 'warning',
});
cpSync(join(here, 'index.html'), join(out, 'index.html'));
mkdirSync(join(out, 'model'));
const FILES = [
  'manifest.json',
  'program.wasm',
  'program.relaxed.wasm',
  'program.threads.wasm',
  'program.threads.relaxed.wasm',
  'weights.safetensors',
  'kernels.wgsl',
];
for (const f of FILES) {
  try {
    cpSync(join(artifact, f), join(out, 'model', f));
  } catch (e) {
    if (e.code !== 'ENOENT' || f === 'manifest.json') throw e;
  }
}
const batch = JSON.parse(readFileSync(join(artifact, 'manifest.json'), 'utf8')).model.batch;
const require = createRequire(import.meta.url);
const digits = Array.from({ length: 10 }, (_, d) => require(`mnist/src/digits/${d}.json`).data);
const x = [];
const y = [];
for (let k = 0; k < batch; k++) {
  const d = k % 10;
  const n = digits[d].length / 784;
  const at = (n - 1 - (Math.floor(k / 10) % n)) * 784;
  x.push(...digits[d].slice(at, at + 784));
  y.push(d);
}
writeFileSync(join(out, 'samples.json'), JSON.stringify({ x, y }));
console.log(`examples/web/dist: the app, model ${artifact} and ${batch} sample digits`);
