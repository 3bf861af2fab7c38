#!/usr/bin/env node
// Builds kiln's runtime as JavaScript: dist/runtime/index.js (one ESM bundle for Node, Deno, Bun and
// browsers) and its declarations (tsc), and checks what went in: runtime/ and ir/errors.ts only, no
// eval or new Function. `--size` prints the minified + gzipped size instead (npm run size).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const common = {
  entryPoints: [join(root, 'runtime/index.ts')],
  bundle: true,
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
  const r = await build({ ...common, write: false, minify: true });
  const code = r.outputFiles[0].text;
  checkBundle(r.metafile, code);
  const gz = gzipSync(code, { level: 9 }).length;
  console.log(
    `kiln/runtime: ${(code.length / 1024).toFixed(1)} KB minified, ${(gz / 1024).toFixed(1)} KB minified+gzipped (bar: 20 KB)`,
  );
  process.exit(gz <= 20 * 1024 ? 0 : 1);
}

rmSync(join(root, 'dist'), { recursive: true, force: true });
const r = await build({ ...common, outfile: join(root, 'dist/runtime/index.js') });
const inputs = checkBundle(r.metafile, readFileSync(join(root, 'dist/runtime/index.js'), 'utf8'));
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
console.log(`dist/runtime/index.js (+ .d.ts) from ${inputs.length} files`);
