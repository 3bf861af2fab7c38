#!/usr/bin/env node
// The kiln command line. Model files are TypeScript, so the CLI runs under tsx's loader.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../compiler/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
