#!/usr/bin/env node
// The kiln command line. Model files are TypeScript, so the CLI runs under tsx's loader.
import { setFlagsFromString } from 'node:v8';
import { register } from 'tsx/esm/api';

// Relaxed SIMD (f32x4.relaxed_madd) is standard in current engines but behind a flag in Node 20's V8;
// the runtime still detects it at load time and falls back to the plain SIMD binary.
setFlagsFromString('--experimental-wasm-relaxed-simd');

register();
const { main } = await import('../compiler/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
