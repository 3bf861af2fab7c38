// The docs' examples run: docs/runtime.md's JavaScript example under plain node against a compiled
// MNIST CNN, and the commands and snippets docs/getting-started.md names exist as written.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = new URL('../..', import.meta.url).pathname;
const DIR = join(ROOT, '.kiln', `docs-${process.pid}`); // inside the package: kiln/runtime resolves by name

afterAll(() => rmSync(DIR, { recursive: true, force: true }));

const blocks = (file: string, lang: string): string[] =>
  [...readFileSync(join(ROOT, file), 'utf8').matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map(
    (m) => m[1]!,
  );

describe('docs', () => {
  it('docs/runtime.md: the example runs under plain node', () => {
    mkdirSync(DIR, { recursive: true });
    execFileSync(
      process.execPath,
      ['bin/kiln.js', 'compile', 'examples/mnist-cnn.ts', '--batch', '8', '--out', join(DIR, 'm')],
      { cwd: ROOT },
    );
    const [example] = blocks('docs/runtime.md', 'js');
    writeFileSync(join(DIR, 'example.mjs'), example!);
    const r = spawnSync(process.execPath, [join(DIR, 'example.mjs'), join(DIR, 'm')], { cwd: ROOT, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(
      /^mnist_cnn on wasm \((relaxed )?SIMD, \d+ threads?\): the artifact has no webgpu target$/,
    );
    expect(lines[1]).toMatch(/^probabilities of the first image: (0\.\d{3} ){9}0\.\d{3}$/);
    const [, before, after] = /^loss ([\d.]+) -> ([\d.]+)$/.exec(lines[2]!)!;
    expect(Number(after)).toBeLessThan(Number(before));
    expect(lines[3]).toBe('step counter after restore: 7');
    expect(lines[4]).toBe('refused: K7002');
  }, 120_000);

  it('docs/getting-started.md: its commands use flags the CLI has', () => {
    const sh = blocks('docs/getting-started.md', 'sh').join('\n');
    for (const cmd of ['compile', 'run', 'train']) {
      const help = spawnSync(process.execPath, ['bin/kiln.js', cmd, '--help'], { cwd: ROOT, encoding: 'utf8' }).stdout;
      for (const line of sh.split('\n').filter((l) => l.startsWith(`npx kiln ${cmd} `))) {
        for (const flag of line.replace(/#.*/, '').match(/--[a-z-]+/g) ?? [])
          expect(help, `${line}: ${flag}`).toContain(flag);
      }
    }
  }, 60_000);
});
