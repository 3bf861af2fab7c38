// docs/cli.md's examples run: every ```console example block is a transcript. Each `$ kiln ...` line
// runs bin/kiln.js in a fresh folder of the block's own (where examples/, docs/ and test/ lead to this
// checkout); the lines under it are fragments its output must hold in that order (stdout, then
// stderr), `...` inside a line matching anything; `[exit N]` is the exit status it must end with
// (0 when absent). A `# comment` after a command is left out. Blocks run concurrently.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = new URL('../..', import.meta.url).pathname;
const DIR = join(ROOT, '.kiln', `docs-cli-${process.pid}`);
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

interface Step {
  readonly args: string[];
  readonly expect: string[];
  readonly exit: number;
}

/** Words of a command line; single quotes group. */
const words = (line: string): string[] => [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!);

function transcripts(file: string): { line: number; steps: Step[] }[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [...text.matchAll(/```console example\n([\s\S]*?)```/g)].map((m) => {
    const steps: { args: string[]; expect: string[]; exit: number }[] = [];
    for (const l of m[1]!.split('\n')) {
      if (l.startsWith('$ ')) {
        const [cmd, ...args] = words(l.slice(2).replace(/\s+#.*$/, ''));
        if (cmd !== 'kiln') throw new Error(`${file}: '${l}': example commands run kiln`);
        steps.push({ args, expect: [], exit: 0 });
      } else if (/^\[exit \d+\]$/.test(l.trim())) steps[steps.length - 1]!.exit = Number(/\d+/.exec(l)![0]);
      else if (l.trim() !== '' && l.trim() !== '...') steps[steps.length - 1]!.expect.push(l.trim());
    }
    return { line: text.slice(0, m.index).split('\n').length, steps };
  });
}

function kiln(args: string[], cwd: string): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [join(ROOT, 'bin/kiln.js'), ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: '1' },
    });
    let stdout = '',
      stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (status) => resolve({ status, out: stdout + stderr }));
  });
}

const pattern = (fragment: string): RegExp =>
  new RegExp(
    '^' +
      fragment
        .split('...')
        .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*') +
      '$',
  );

describe('docs/cli.md examples', () => {
  const all = transcripts('docs/cli.md');
  it('has examples', () => expect(all.length).toBeGreaterThan(5));
  for (const [n, t] of all.entries()) {
    it.concurrent(`the transcript at line ${t.line}`, async () => {
      const cwd = join(DIR, String(n));
      mkdirSync(cwd, { recursive: true });
      for (const d of ['examples', 'docs', 'test']) symlinkSync(join(ROOT, d), join(cwd, d));
      for (const s of t.steps) {
        const r = await kiln(s.args, cwd);
        const lines = r.out.split('\n').map((l) => l.trim());
        let at = 0;
        for (const e of s.expect) {
          const re = pattern(e);
          const found = lines.findIndex((l, i) => i >= at && re.test(l));
          expect(found, `kiln ${s.args.join(' ')}: no line '${e}' (in order) in:\n${r.out}`).toBeGreaterThanOrEqual(0);
          at = found + 1;
        }
        expect(r.status, `kiln ${s.args.join(' ')}:\n${r.out}`).toBe(s.exit);
      }
    }, 120_000);
  }
});
