#!/usr/bin/env node
// The kiln command line. Model files are TypeScript, so the CLI runs under tsx's loader.
import { setFlagsFromString } from 'node:v8';
import { register as registerHooks } from 'node:module';
import { register } from 'tsx/esm/api';

// Relaxed SIMD (f32x4.relaxed_madd) is standard in current engines but behind a flag in Node 20's V8;
// the runtime still detects it at load time and falls back to the plain SIMD binary.
setFlagsFromString('--experimental-wasm-relaxed-simd');

register();
// After tsx's hooks: model files load as ES modules from any folder, and 'kiln' resolves to this package.
registerHooks('./model-hooks.mjs', import.meta.url);
const { main } = await import('../compiler/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
