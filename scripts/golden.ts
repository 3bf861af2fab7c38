// Compares the golden Kernel IR dumps (test/compiler/golden.ts) with what kiln lowers today; with
// --accept, rewrites them (each file written to a temp file, then renamed over the old one).
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { GOLDEN_CASES, GOLDEN_DIR, goldenDump } from '../test/compiler/golden.ts';

const accept = process.argv.includes('--accept');
let stale = 0;
for (const c of GOLDEN_CASES) {
  const path = GOLDEN_DIR + c.name;
  const got = await goldenDump(c);
  let want = '';
  try {
    want = readFileSync(path, 'utf8');
  } catch {
    /* a new case */
  }
  if (got === want) continue;
  if (accept) {
    writeFileSync(`${path}.tmp`, got);
    renameSync(`${path}.tmp`, path);
    console.log(`updated ${path}`);
  } else {
    stale++;
    console.log(`differs: ${path} (run \`npm run golden -- --accept\` to update it, then review the diff)`);
  }
}
process.exitCode = stale ? 1 : 0;
