// The benchmark entry: `npx tsx bench/run.ts <suite|all|peak> [--json] [--impl a,b] [--budget ms] [--seed n] [--relaxed] [--slow]`.
// Every implementation runs the same seeded cases in this one process (PyTorch in a child it talks
// to), one thread each; a peer that does not load is 'absent', one that cannot run a case 'cannot'.
import { setFlagsFromString } from 'node:v8';
import { SUITES, casesOf, type Case, type Suite } from './cases.ts';
import { DEFAULT_POLICY, gflops, jsonLine, reasonOf, summaryDiff, type Row, type Summary, type TimingPolicy } from './harness.ts';
import { measurePeak, type Peak } from './peak.ts';
import { IMPLS } from './peers/index.ts';
import type { Impl } from './peers/types.ts';
import { suiteTable } from './report.ts';

/** Whose output the others are checked against: the most established impl that ran the case. */
const REFERENCE = ['torch', 'onnxruntime-node', 'tfjs-cpu', 'tfjs-wasm', 'onnxruntime-web', 'jax-js', 'kiln'];

interface Options {
  readonly suites: readonly (Suite | 'peak')[];
  readonly json: boolean;
  readonly impls: readonly string[] | undefined;
  readonly policy: TimingPolicy;
  readonly seed: number;
  readonly slow: boolean;
}

const USAGE = `usage: npm run bench -- <${[...SUITES, 'peak', 'all'].join('|')}>... [--json] [--impl ${IMPLS.map((i) => i.name).join(',')}] [--budget ms] [--seed n] [--relaxed] [--slow]`;

function parseArgs(argv: readonly string[]): Options {
  const suites: (Suite | 'peak')[] = [];
  let json = false;
  let impls: string[] | undefined;
  let budget = DEFAULT_POLICY.budgetMs;
  let seed = 1234;
  let slow = false;
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
    // Must run before any module is compiled; makes the engine accept relaxed SIMD (Node 20 needs the flag).
    else if (a === '--relaxed') setFlagsFromString('--experimental-wasm-relaxed-simd');
    else if (a === 'all') suites.push(...SUITES);
    else if ((SUITES as readonly string[]).includes(a) || a === 'peak') suites.push(a as Suite | 'peak');
    else throw new Error(`unknown argument '${a}'\n${USAGE}`);
  }
  if (suites.length === 0) throw new Error(USAGE);
  const unknown = impls?.filter((n) => !IMPLS.some((i) => i.name === n)) ?? [];
  if (unknown.length) throw new Error(`unknown impl ${unknown.join(', ')}\n${USAGE}`);
  if (!(budget > 0)) throw new Error(`--budget must be a positive number of milliseconds\n${USAGE}`);
  return { suites, json, impls, policy: { ...DEFAULT_POLICY, budgetMs: budget }, seed, slow };
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

async function runCase(c: Case, impl: Impl, absent: string | undefined, opts: Options): Promise<{ row: Row; first?: Summary }> {
  const base = { suite: c.suite, case: c.name, impl: impl.name, threads: impl.threads };
  if (absent !== undefined) return { row: { ...base, status: impl.name === 'kiln' ? 'unavailable' : 'absent', reason: absent } };
  const slow = opts.slow ? undefined : impl.slowReason?.(c);
  if (slow !== undefined) return { row: { ...base, status: 'skipped', reason: slow } };
  const policy = opts.policy;
  try {
    const m = await impl.bench(c, policy);
    const g = c.kind === 'matmul' ? { gflops: gflops(c.flops, m.median_ms) } : {};
    return { row: { ...base, status: 'ok', median_ms: m.median_ms, runs: m.runs, ...g }, first: m.first };
  } catch (e) {
    return { row: { ...base, status: impl.name === 'kiln' ? 'unavailable' : 'cannot', reason: reasonOf(e) } };
  }
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
    suite: 'peak', case: `f32x4 ${p.variant === 'relaxed' ? 'relaxed_madd' : 'mul+add'}`, impl: 'wasm', threads: 1,
    ...(p.gflops === null ? { status: 'cannot' as const, reason: p.reason } : { status: 'ok' as const, gflops: p.gflops }),
  }));
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const log = (s: string): void => { if (!opts.json) process.stderr.write(`${s}\n`); };
  const print = (s: string): void => void process.stdout.write(`${s}\n`);
  // Peers' own chatter (tfjs greets Node users on console.log) must not mix with the tables or JSON lines.
  console.log = console.info = console.warn = console.error;
  const impls = IMPLS.filter((i) => !opts.impls || opts.impls.includes(i.name));
  const needPeers = opts.suites.some((s) => s !== 'peak');
  const loaded = needPeers ? await loadAll(impls, log) : new Map<Impl, string | undefined>();
  let peak: Peak[] | undefined;
  const measurePeaks = async (): Promise<Peak[]> => (peak ??= [await measurePeak(false), await measurePeak(true)]);
  for (const suite of opts.suites) {
    if (suite === 'peak') {
      const rows = peakRows(await measurePeaks());
      print(opts.json ? rows.map(jsonLine).join('\n') : `${suiteTable('peak', rows)}\n`);
      continue;
    }
    const rows: Row[] = [];
    for (const c of casesOf(suite, opts.seed)) {
      const firsts = new Map<Row, Summary>();
      const caseRows: Row[] = [];
      for (const impl of impls) {
        log(`${suite} ${c.name} ${impl.name} ...`);
        const { row, first } = await runCase(c, impl, loaded.get(impl), opts);
        caseRows.push(row);
        if (first) firsts.set(row, first);
      }
      rows.push(...crossCheck(caseRows, firsts));
    }
    const pk = suite === 'matmul' ? await measurePeaks() : undefined;
    print(opts.json ? [...rows, ...(pk ? peakRows(pk) : [])].map(jsonLine).join('\n') : `${suiteTable(suite, rows, pk)}\n`);
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
