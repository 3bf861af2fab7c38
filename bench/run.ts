// The benchmark entry: `npx tsx bench/run.ts <suite|all|peak> [--json] [--impl a,b] [--budget ms] [--seed n] [--no-relaxed] [--slow]`.
// Every implementation runs the same seeded cases in this one process (PyTorch, and onnxruntime on
// more than one thread, in children stopped between their calls: peers/child.ts), one thread each; a peer that does not load is 'absent', one that cannot run a case 'cannot'.
// Per case: every impl prepared, each warmed up until steady, then all timed in interleaved rounds.
import { setFlagsFromString } from 'node:v8';
import { SUITES, casesOf, type Case, type Suite } from './cases.ts';
import {
  DEFAULT_POLICY,
  gflops,
  jsonLine,
  measureRounds,
  policyFor,
  reasonOf,
  summaryDiff,
  type Row,
  type Summary,
  type TimingPolicy,
} from './harness.ts';
import { measurePeak, type Peak } from './peak.ts';
import { IMPLS, WEBGPU_IMPLS } from './peers/index.ts';
import type { Impl, Prepared } from './peers/types.ts';
import { relaxedSimdSupported } from '../runtime/index.ts';
import { simdText, suiteTable } from './report.ts';

/** Whose output the others are checked against: the most established impl that ran the case. */
const REFERENCE = [
  'torch',
  'onnxruntime-node',
  'tfjs-cpu',
  'tfjs-wasm',
  'onnxruntime-web',
  'jax-js',
  'tfjs-webgpu',
  'kiln',
];

interface Options {
  readonly suites: readonly (Suite | 'peak')[];
  readonly json: boolean;
  readonly impls: readonly string[] | undefined;
  /** --target webgpu: kiln's WGSL against the WebGPU peers. */
  readonly webgpu: boolean;
  readonly policy: TimingPolicy;
  readonly seed: number;
  readonly slow: boolean;
  /** Thread counts each impl runs with (--threads 1,2; default 1). */
  readonly threads: readonly number[];
}

const USAGE = `usage: npm run bench -- <${[...SUITES, 'peak', 'all'].join('|')}>... [--json] [--impl ${IMPLS.map((i) => i.name).join(',')}] [--budget ms] [--seed n] [--no-relaxed] [--slow] [--threads 1,2] [--target wasm|webgpu]`;

function parseArgs(argv: readonly string[]): Options {
  const suites: (Suite | 'peak')[] = [];
  let json = false;
  let impls: string[] | undefined;
  let budget = DEFAULT_POLICY.budgetMs;
  let seed = 1234;
  let slow = false;
  let relaxed = true;
  let threads = [1];
  let webgpu = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${USAGE}`);
      return v;
    };
    if (a === '--json') json = true;
    else if (a === '--impl') impls = value().split(',');
    else if (a === '--budget') budget = Number(value());
    else if (a === '--seed') seed = Number(value());
    else if (a === '--slow') slow = true;
    else if (a === '--threads') threads = value().split(',').map(Number);
    else if (a === '--relaxed')
      relaxed = true; // the default; kept for old command lines
    else if (a === '--no-relaxed') relaxed = false;
    else if (a === '--target') webgpu = value() === 'webgpu';
    else if (a === 'all') suites.push(...SUITES);
    else if ((SUITES as readonly string[]).includes(a) || a === 'peak') suites.push(a as Suite | 'peak');
    else throw new Error(`unknown argument '${a}'\n${USAGE}`);
  }
  if (suites.length === 0) throw new Error(USAGE);
  const unknown = impls?.filter((n) => ![...IMPLS, ...WEBGPU_IMPLS].some((i) => i.name === n)) ?? [];
  if (unknown.length) throw new Error(`unknown impl ${unknown.join(', ')}\n${USAGE}`);
  if (!threads.every((t) => Number.isInteger(t) && t >= 1))
    throw new Error(`--threads expects thread counts such as 1,2\n${USAGE}`);
  if (!(budget > 0)) throw new Error(`--budget must be a positive number of milliseconds\n${USAGE}`);
  // Before any module is compiled: relaxed SIMD on, as in every current browser engine and Node 22+
  // (Node 20's V8 needs the flag), or off with --no-relaxed to measure plain SIMD.
  setFlagsFromString(relaxed ? '--experimental-wasm-relaxed-simd' : '--no-experimental-wasm-relaxed-simd');
  return { suites, json, impls, policy: policyFor(budget), seed, slow, threads, webgpu };
}

/** The impl on `t` threads; one that cannot run there gets a row saying why on every case. */
function onThreads(impl: Impl, t: number): Impl {
  if (t === impl.threads) return impl;
  const v = impl.threaded?.(t) ?? `${impl.name}: runs on one thread only in this bench`;
  if (typeof v !== 'string') return v;
  return {
    name: impl.name,
    threads: t,
    async load() {},
    async prepare() {
      throw new Error(v);
    },
  };
}

/** Loads each impl once; a failure is kept as its 'absent' reason. */
async function loadAll(impls: readonly Impl[], log: (s: string) => void): Promise<Map<Impl, string | undefined>> {
  const loaded = new Map<Impl, string | undefined>();
  for (const impl of impls) {
    try {
      await impl.load();
      loaded.set(impl, undefined);
    } catch (e) {
      loaded.set(impl, reasonOf(e));
    }
    log(`loaded ${impl.name}: ${loaded.get(impl) ?? 'ok'}`);
  }
  return loaded;
}

/** One case on every impl: each prepared (or its row says why not), then timed together by
 *  measureRounds; returns the rows, cross-checked against the reference impl's first output. */
async function runCase(
  c: Case,
  impls: readonly Impl[],
  loaded: Map<Impl, string | undefined>,
  opts: Options,
  log: (s: string) => void,
): Promise<Row[]> {
  const rows = new Map<Impl, Row>();
  const prepared = new Map<Impl, Prepared>();
  const base = (impl: Impl): Pick<Row, 'suite' | 'case' | 'impl' | 'threads'> => ({
    suite: c.suite,
    case: c.name,
    impl: impl.name,
    threads: impl.threads,
  });
  const failed = (impl: Impl, e: unknown): Row => ({
    ...base(impl),
    status: impl.name === 'kiln' ? 'unavailable' : 'cannot',
    reason: reasonOf(e),
  });
  for (const impl of impls) {
    const absent = loaded.get(impl);
    const slow = opts.slow ? undefined : impl.slowReason?.(c);
    if (absent !== undefined)
      rows.set(impl, { ...base(impl), status: impl.name === 'kiln' ? 'unavailable' : 'absent', reason: absent });
    else if (slow !== undefined) rows.set(impl, { ...base(impl), status: 'skipped', reason: slow });
    else {
      try {
        prepared.set(impl, await impl.prepare(c));
      } catch (e) {
        rows.set(impl, failed(impl, e));
      }
    }
  }
  const timed = [...prepared];
  log(`${c.suite} ${c.name}: warming up ${timed.map(([i]) => i.name).join(', ')}`);
  const results = await measureRounds(
    timed.map(([, p]) => p),
    opts.policy,
    (i, times) => {
      log(
        `  ${timed[i]![0].name}: ${times.length} warm-up calls, ${times.reduce((a, b) => a + b, 0).toFixed(0)} ms, last ${times.at(-1)!.toFixed(2)} ms`,
      );
    },
  );
  const firsts = new Map<Row, Summary>();
  for (const [k, [impl, p]] of timed.entries()) {
    const m = results[k]!;
    const first = p.first();
    if (m instanceof Error || first === undefined) {
      rows.set(impl, failed(impl, m instanceof Error ? m : new Error('no output')));
    } else {
      const g = c.kind === 'matmul' ? { gflops: gflops(c.flops, m.median_ms) } : {};
      const row: Row = { ...base(impl), status: 'ok', median_ms: m.median_ms, runs: m.runs, ...g };
      rows.set(impl, row);
      firsts.set(row, first);
    }
    try {
      await p.dispose();
    } catch {
      // a failed release changes no measurement
    }
  }
  return crossCheck(
    impls.map((i) => rows.get(i)!),
    firsts,
  );
}

/** Adds each ok row's difference from the reference impl's first output. */
function crossCheck(rows: Row[], firsts: Map<Row, Summary>): Row[] {
  const ref = [...firsts.keys()].sort((a, b) => REFERENCE.indexOf(a.impl) - REFERENCE.indexOf(b.impl))[0];
  if (!ref) return rows;
  const refSum = firsts.get(ref)!;
  return rows.map((r) => (firsts.has(r) ? { ...r, diff: summaryDiff(firsts.get(r)!, refSum) } : r));
}

/** The peak as rows of its own (suite 'peak', impl 'wasm'), GFLOP/s only. */
function peakRows(peak: readonly Peak[]): Row[] {
  return peak.map((p) => ({
    suite: 'peak',
    case: `f32x4 ${p.variant === 'relaxed' ? 'relaxed_madd' : 'mul+add'}`,
    impl: 'wasm',
    threads: 1,
    ...(p.gflops === null
      ? { status: 'cannot' as const, reason: p.reason }
      : { status: 'ok' as const, gflops: p.gflops }),
  }));
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const log = (s: string): void => {
    if (!opts.json) process.stderr.write(`${s}\n`);
  };
  const print = (s: string): void => void process.stdout.write(`${s}\n`);
  // Peers' own chatter (tfjs greets Node users on console.log) must not mix with the tables or JSON lines.
  console.log = console.info = console.warn = console.error;
  const relaxed = relaxedSimdSupported();
  log(
    `WebAssembly: ${simdText(relaxed)}${relaxed ? ' (--no-relaxed for plain SIMD)' : ''}; warm-up ${opts.policy.warmMs} ms and ${opts.policy.minWarmCalls} calls at least per impl, then interleaved rounds`,
  );
  const impls = opts.threads.flatMap((t) =>
    (opts.webgpu ? WEBGPU_IMPLS : IMPLS)
      .filter((i) => !opts.impls || opts.impls.includes(i.name))
      .map((i) => onThreads(i, t)),
  );
  const needPeers = opts.suites.some((s) => s !== 'peak');
  const loaded = needPeers ? await loadAll(impls, log) : new Map<Impl, string | undefined>();
  let peak: Peak[] | undefined;
  const measurePeaks = async (): Promise<Peak[]> => (peak ??= [await measurePeak(false), await measurePeak(true)]);
  for (const suite of opts.suites) {
    if (suite === 'peak') {
      const rows = peakRows(await measurePeaks());
      print(opts.json ? rows.map(jsonLine).join('\n') : `${suiteTable('peak', rows, { relaxed })}\n`);
      continue;
    }
    const rows: Row[] = [];
    for (const c of casesOf(suite, opts.seed)) rows.push(...(await runCase(c, impls, loaded, opts, log)));
    const pk = suite === 'matmul' ? await measurePeaks() : undefined;
    print(
      opts.json
        ? [...rows, ...(pk ? peakRows(pk) : [])].map(jsonLine).join('\n')
        : `${suiteTable(suite, rows, { relaxed, peak: pk })}\n`,
    );
  }
  for (const impl of impls) await impl.close?.();
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
