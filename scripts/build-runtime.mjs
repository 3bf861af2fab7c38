#!/usr/bin/env node
// Builds kiln's runtime as JavaScript: dist/runtime/index.js (ESM for Node, Deno, Bun and browsers, with
// the chunks it shares with Node's WebGPU glue: webgpu-node.js, which index.js imports only in Node, and
// webgpu-worker.js, the worker thread that hosts Dawn) and its declarations (tsc), and checks what went
// in: runtime/ and ir/errors.ts only, no eval or new Function. `--size` prints the minified + gzipped
// size of every file instead (npm run size).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const common = {
  entryPoints: ['index', 'webgpu-node', 'webgpu-worker'].map((f) => join(root, `runtime/${f}.ts`)),
  bundle: true,
  splitting: true,
  entryNames: '[name]',
  chunkNames: 'chunk-[hash]',
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  external: ['node:*'],
  metafile: true,
  logLevel: 'warning',
};

const ALLOWED = /^(runtime\/[\w.-]+\.(ts|json)|ir\/errors\.ts)$/;

function checkBundle(meta, code) {
  const inputs = Object.keys(meta.inputs);
  const foreign = inputs.filter((f) => !ALLOWED.test(f));
  if (foreign.length) throw new Error(`runtime bundle pulls in code outside runtime/: ${foreign.join(', ')}`);
  if (/\beval\s*\(|new\s+Function\s*\(/.test(code)) throw new Error('runtime bundle contains eval or new Function');
  return inputs;
}

if (process.argv.includes('--size')) {
  const r = await build({ ...common, outdir: join(root, 'dist/size'), write: false, minify: true });
  const files = r.outputFiles.map((f) => ({ name: f.path.replace(/^.*\//, ''), code: f.text }));
  checkBundle(r.metafile, files.map((f) => f.code).join('\n'));
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  let min = 0;
  let gz = 0;
  for (const f of files) {
    const z = gzipSync(f.code, { level: 9 }).length;
    console.log(`  ${f.name}: ${kb(f.code.length)} minified, ${kb(z)} minified+gzipped`);
    min += f.code.length;
    gz += z;
  }
  console.log(
    `kiln/runtime: ${kb(min)} minified, ${kb(gz)} minified+gzipped, all ${files.length} files (both executors, Node's WebGPU worker included; bar: 20 KB)`,
  );
  process.exit(gz <= 20 * 1024 ? 0 : 1);
}

rmSync(join(root, 'dist'), { recursive: true, force: true });
const r = await build({ ...common, outdir: join(root, 'dist/runtime') });
const inputs = checkBundle(
  r.metafile,
  Object.keys(r.metafile.outputs)
    .map((f) => readFileSync(join(root, f), 'utf8'))
    .join('\n'),
);
execFileSync(
  process.execPath,
  [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.runtime.json')],
  { stdio: 'inherit' },
);
// Declarations import each other as './x.js' (what a consumer's resolver expects), not './x.ts'.
for (const dir of ['dist/types/runtime', 'dist/types/ir']) {
  for (const f of readdirSync(join(root, dir))) {
    const path = join(root, dir, f);
    writeFileSync(
      path,
      readFileSync(path, 'utf8')
        .replace(/(from\s+'\.{1,2}\/[^']+)\.ts'/g, "$1.js'")
        .replace(/(import\('\.{1,2}\/[^']+)\.ts'/g, "$1.js'"),
    );
  }
}
console.log(`dist/runtime: ${Object.keys(r.metafile.outputs).length} files (+ .d.ts) from ${inputs.length} sources`);
