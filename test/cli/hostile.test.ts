// Hostile input through the real CLI: every case of hostile-cases.ts runs `node bin/kiln.js ...` in a
// child process (several at once), in a folder of its own. Each must end in exit 0 or in exactly one
// typed error (the expected Kxxxx, no stack trace, no K9001), within a time limit (no hangs), leaving
// the files it must keep byte for byte and writing nothing where it must not.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSession } from '../../compiler/train/session.ts';
import xor from '../../examples/xor.ts';
import { encodeSafetensors, type NamedArray } from '../../runtime/safetensors.ts';
import { cases, ROOT, xorModel, type Case } from './hostile-cases.ts';

const CHILD_TIMEOUT_MS = 90_000;

interface Outcome {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
  readonly hung: boolean;
}

function kiln(args: readonly string[]): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/kiln.js', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, CHILD_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err, hung });
    });
  });
}

/** The XOR weights and broken variants of them, built in-process from a fresh session. */
async function weightFiles(): Promise<Parameters<typeof cases>[0]> {
  const params = (await createSession(xor, { target: 'interp' })).params();
  const encode = (t: Record<string, NamedArray>): Uint8Array => encodeSafetensors(t);
  const k = params['dense_1/kernel']!;
  const inference = Object.fromEntries(Object.entries(params).filter(([n]) => n.startsWith('dense_')));
  const { 'dense_2/bias': _, ...missing } = params;
  return {
    good: encode(params),
    transposed: encode({ ...params, 'dense_1/kernel': { ...k, shape: [4, 2] } }),
    missing: encode(missing),
    extra: encode({ ...params, 'dense_9/kernel': k }),
    i32: encode({ ...params, 'dense_1/bias': { dtype: 'I32', shape: [4], data: new Int32Array(4) } }),
    nan: encode({ ...params, 'dense_2/bias': { dtype: 'F32', shape: [1], data: Float32Array.from([NaN]) } }),
    noSlots: encode(inference),
  };
}

const base = mkdtempSync(join(tmpdir(), 'kiln-hostile-'));
const all: Case[] = cases(await weightFiles());
const results = new Map<string, { outcome: Outcome; before?: Outcome; dir: string; kept: Map<string, Buffer> }>();
let failures = 0;

async function runCase(c: Case, i: number): Promise<void> {
  const dir = join(base, `case-${i}`);
  mkdirSync(dir);
  const kept = new Map<string, Buffer>();
  for (const [name, content] of Object.entries(c.files ?? {})) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  const fill = (args: readonly string[]): string[] => args.map((a) => a.replace(/^@\//, dir + '/'));
  const before = c.before ? await kiln(fill(c.before)) : undefined;
  for (const name of c.keep ?? []) kept.set(name, readFileSync(join(dir, name)));
  results.set(c.name, { outcome: await kiln(fill(c.args)), before, dir, kept });
}

/** Runs `tasks` with at most `limit` at a time. */
async function pool(tasks: (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) await tasks[next++]!();
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

function check(c: Case): void {
  const r = results.get(c.name)!;
  const { outcome: o } = r;
  const shown = `stdout:\n${o.out}\nstderr:\n${o.err}`;
  expect(o.hung, `hung (killed after ${CHILD_TIMEOUT_MS} ms)`).toBe(false);
  if (r.before) expect(r.before.code, `setup run failed: ${r.before.err}`).toBe(0);
  expect(o.err, shown).not.toContain('K9001');
  if (!c.args.includes('--debug'))
    expect(o.err, `a stack trace without --debug\n${shown}`).not.toMatch(/\n\s+at .*:\d+:\d+/);
  if (c.expect === 'ok') {
    expect(o.code, shown).toBe(0);
    if (c.message) expect(o.out).toMatch(c.message);
  } else {
    expect(o.code, shown).toBe(1);
    const first = o.err.split('\n')[0]!;
    expect(first, shown).toMatch(new RegExp(`^(\\S.*: )?error ${c.expect}: `));
    // one message: no second "error K" line (a K8004 lists TypeScript's TSxxxx errors under its own)
    if (!c.args.includes('--debug')) expect(o.err.match(/error K\d{4}:/g)?.length, shown).toBe(1);
    if (c.message) expect(o.err).toMatch(c.message);
  }
  for (const [name, bytes] of r.kept)
    expect(readFileSync(join(r.dir, name)).equals(bytes), `${name} was changed`).toBe(true);
  for (const p of c.absent ?? []) expect(existsSync(p.replace(/^@\//, r.dir + '/')), `${p} was written`).toBe(false);
  const leftovers = readdirSync(r.dir, { recursive: true })
    .map(String)
    .filter((f) => /\.tmp-|\.kiln-probe-/.test(f));
  expect(leftovers, 'temporary files left behind').toEqual([]);
}

describe('hostile input through the CLI', () => {
  beforeAll(async () => {
    await pool(
      all.map((c, i) => () => runCase(c, i)),
      Math.max(2, Math.min(6, availableParallelism())),
    );
  }, 900_000);

  afterAll(() => {
    process.stdout.write(`hostile inputs: ${all.length} cases, ${failures} failures\n`);
    rmSync(base, { recursive: true, force: true });
  });

  it('Ctrl-C during training stops cleanly: exit 130, K8006, earlier weights kept, no temporary files', async () => {
    const dir = join(base, 'interrupt');
    mkdirSync(join(dir, 'w'), { recursive: true });
    writeFileSync(join(dir, 'm.ts'), xorModel());
    const earlier = encodeSafetensors({ a: { dtype: 'F32', shape: [1], data: Float32Array.from([7]) } });
    writeFileSync(join(dir, 'w/weights.safetensors'), earlier);
    const child = spawn(
      process.execPath,
      [
        'bin/kiln.js',
        'train',
        join(dir, 'm.ts'),
        '--no-typecheck',
        '--epochs',
        '10000000',
        '--save',
        join(dir, 'w'),
        '--force',
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    let sent = false;
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (!sent && /epoch 5:/.test(out)) sent = child.kill('SIGINT');
      });
      child.on('close', resolve);
    });
    expect(code, err).toBe(130);
    expect(err).toMatch(/^interrupt: stopping after this step/m);
    expect(err).toMatch(
      /error K8006: train: interrupted at epoch \d+, step \d+; nothing saved: the last good weights are still .*weights\.safetensors \(from an earlier run, unchanged\)/,
    );
    expect(readFileSync(join(dir, 'w/weights.safetensors')).equals(earlier)).toBe(true);
    expect(readdirSync(join(dir, 'w'))).toEqual(['weights.safetensors']);
  }, 120_000);

  it('case names are unique', () => expect(new Set(all.map((c) => c.name)).size).toBe(all.length));

  for (const c of all) {
    it(c.name, () => {
      try {
        check(c);
      } catch (e) {
        failures++;
        throw e;
      }
    });
  }
});
