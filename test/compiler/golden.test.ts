// The Kernel IR of the XOR and MNIST CNN training steps and kiln inspect's views of them equal the
// golden dumps in test/compiler/golden/ (after an intended change: `npm run golden -- --accept`, and review the diff).
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { GOLDEN_CASES, GOLDEN_DIR, goldenDump } from './golden.ts';

for (const c of GOLDEN_CASES) {
  it(`${c.what} equals golden/${c.name}`, async () => {
    const want = readFileSync(GOLDEN_DIR + c.name, 'utf8');
    const got = await goldenDump(c);
    if (got !== want) {
      const a = got.split('\n'),
        b = want.split('\n');
      const line = a.findIndex((l, i) => l !== b[i]);
      expect(
        `line ${line + 1}: ${a[line]}`,
        'the dump differs from the golden file; `npm run golden -- --accept` updates it',
      ).toBe(`line ${line + 1}: ${b[line]}`);
    }
  }, 60_000);
}
