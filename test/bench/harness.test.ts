// The bench's pure helpers (no peer is loaded, nothing is timed).
import { describe, expect, it } from 'vitest';
import {
  callEstimate,
  DEFAULT_POLICY,
  formatMs,
  formatRatio,
  gflops,
  jsonLine,
  measureRounds,
  median,
  policyFor,
  runsFor,
  schedule,
  stillFalling,
  summarize,
  summaryDiff,
  table,
  warmupDone,
} from '../../bench/harness.ts';
import { CNN, hwioToOihw, nchwFlattenKernel, rng, shapes, transpose } from '../../bench/models.ts';
import { casesOf } from '../../bench/cases.ts';
import { peakBinary, FLOPS_PER_ITER } from '../../bench/peak.ts';

describe('statistics and timing policy', () => {
  it('median of odd and even counts, unsorted input', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(/no samples/);
  });

  it('runs fill the budget between minRuns and maxRuns; one run past the budget', () => {
    const p = { ...DEFAULT_POLICY, budgetMs: 1000, minRuns: 3, maxRuns: 50 };
    expect(runsFor(100, p)).toBe(10);
    expect(runsFor(1, p)).toBe(50);
    expect(runsFor(600, p)).toBe(3);
    expect(runsFor(1000, p)).toBe(1);
  });

  it('the warm-up is a second, or the whole budget when that is shorter', () => {
    expect(policyFor(1500)).toMatchObject({ budgetMs: 1500, warmMs: 1000 });
    expect(policyFor(300)).toMatchObject({ budgetMs: 300, warmMs: 300 });
  });

  it('GFLOP/s of a 512 matmul in 10 ms', () => {
    expect(gflops(2 * 512 ** 3, 10)).toBeCloseTo(26.84, 2);
  });
});

describe('warm-up stopping rule', () => {
  const p = { ...DEFAULT_POLICY, budgetMs: 1500, warmMs: 1000, minWarmCalls: 5 };
  const calls = (n: number, ms: number): number[] => Array.from({ length: n }, () => ms);

  it('times still falling: the last third more than 10% below the third before', () => {
    expect(stillFalling([30, 30, 30, 20, 20, 20])).toBe(true);
    expect(stillFalling([30, 30, 30, 28, 28, 28])).toBe(false);
    expect(stillFalling([20, 20, 20, 25, 25, 25])).toBe(false); // slower (noise) is not falling
    expect(stillFalling([5, 4])).toBe(true); // too few calls to tell
  });

  it('needs both the warm-up time after the first call and the minimum calls', () => {
    expect(warmupDone([], p)).toBe(false);
    expect(warmupDone(calls(4, 600), p)).toBe(false); // 1.8 s after the first, but 4 calls
    expect(warmupDone(calls(5, 600), p)).toBe(true);
    expect(warmupDone(calls(40, 25), p)).toBe(false); // 975 ms after the first
    expect(warmupDone(calls(41, 25), p)).toBe(true);
    expect(warmupDone([900, ...calls(4, 230)], p)).toBe(false); // a slow first call (compiling) does not count
  });

  it("keeps warming while tier-up still speeds calls up (kiln's LSTM step), up to 4 warm-ups", () => {
    const lstm = [320, 30, 28, 56, 37, ...calls(18, 30), ...calls(15, 23)]; // 1 s after the first; TurboFan code lands late
    expect(stillFalling(lstm)).toBe(true);
    expect(warmupDone(lstm, p)).toBe(false);
    expect(warmupDone([...lstm, ...calls(20, 23)], p)).toBe(true);
    const falling = Array.from({ length: 3000 }, (_, i) => 40 / Math.sqrt(1 + i)); // never settles
    const stop = falling.findIndex((_, i) => warmupDone(falling.slice(0, i + 1), p));
    expect(falling.slice(1, stop + 1).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(4 * p.warmMs);
    expect(falling.slice(1, stop).reduce((a, b) => a + b, 0)).toBeLessThan(4 * p.warmMs);
  });

  it('a slow impl stops once its calls add up to 5 budgets, even after one call', () => {
    expect(warmupDone([40_000], p)).toBe(true);
    expect(warmupDone([7000], p)).toBe(false);
  });

  it("estimates a call from the warm-up's last third", () => {
    expect(callEstimate([320, 30, 28, 24, 23, 22])).toBe(22.5);
    expect(callEstimate([40_000])).toBe(40_000);
  });
});

describe('interleaved rounds', () => {
  const callsOf = (rounds: number[][], i: number): number[] => rounds.flatMap((r, k) => (r.includes(i) ? [k] : []));

  it('equal runs: every impl in every round, the order rotated', () => {
    expect(schedule([3, 3, 3])).toEqual([
      [0, 1, 2],
      [1, 2, 0],
      [2, 0, 1],
    ]);
  });

  it("each impl's runs spread evenly over the rounds, a single run in the middle", () => {
    const rounds = schedule([8, 4, 1, 2]);
    expect(rounds).toHaveLength(8);
    expect(callsOf(rounds, 0)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(callsOf(rounds, 1)).toEqual([1, 3, 5, 7]);
    expect(callsOf(rounds, 2)).toEqual([4]);
    expect(callsOf(rounds, 3)).toEqual([2, 6]);
  });

  it('an impl with no runs (it failed) is in no round', () => {
    expect(schedule([0, 2])).toEqual([[1], [1]]);
    expect(schedule([])).toEqual([]);
  });

  /** A fake impl whose calls log their order and return preset times. */
  const fake = (name: string, ms: (k: number) => number, log: string[], failAt = Infinity) => {
    let k = 0;
    return {
      call: async () => {
        if (k === failAt) throw new Error(`${name} broke`);
        log.push(name);
        return ms(k++);
      },
    };
  };

  it('warms each impl up in turn, then interleaves the measured calls; medians per impl', async () => {
    const log: string[] = [];
    const p = { ...DEFAULT_POLICY, budgetMs: 100, warmMs: 50, minWarmCalls: 3, minRuns: 3, maxRuns: 50 };
    const a = fake('a', (k) => (k === 0 ? 60 : 10), log); // slow first call, then 10 ms
    const b = fake('b', () => 20, log);
    const [ra, rb] = await measureRounds([a, b], p);
    // a: 50 ms after its 60 ms first call is 5 calls of 10 ms; b: 60 ms after the first, 3 calls of 20 ms
    expect(log.slice(0, 10)).toEqual(['a', 'a', 'a', 'a', 'a', 'a', 'b', 'b', 'b', 'b']);
    expect(ra).toEqual({ median_ms: 10, runs: 10, warmup: 6 });
    expect(rb).toEqual({ median_ms: 20, runs: 5, warmup: 4 });
    const measured = log.slice(10);
    expect(measured).toHaveLength(15);
    expect(measured.slice(0, 4)).toEqual(['a', 'b', 'a', 'a']); // b's first call in round 1 (rotated first), not after all of a's
  });

  it('an impl that throws drops out with its error; the others are still measured', async () => {
    const log: string[] = [];
    const p = { ...DEFAULT_POLICY, budgetMs: 100, warmMs: 10, minWarmCalls: 3, minRuns: 3, maxRuns: 20 };
    const [ra, rb, rc] = await measureRounds(
      [fake('a', () => 10, log, 5), fake('b', () => 10, log, 1), fake('c', () => 10, log)],
      p,
    );
    expect(ra).toBeInstanceOf(Error);
    expect((ra as Error).message).toBe('a broke');
    expect((rb as Error).message).toBe('b broke');
    expect(rc).toEqual({ median_ms: 10, runs: 10, warmup: 4 }); // two calls after the first are too few to tell steady
  });
});

describe('output summaries', () => {
  it('sum, l1 and evenly spaced samples', () => {
    const s = summarize([1, -2, 3, -4]);
    expect(s).toEqual({ n: 4, sum: -2, l1: 10, sample: [1, -2, 3, -4] });
    expect(summarize(Array.from({ length: 32 }, (_, i) => i)).sample).toEqual(
      Array.from({ length: 16 }, (_, i) => 2 * i),
    );
  });

  it('diff is relative to the reference scale; a size mismatch or NaN is infinite', () => {
    const ref = summarize([1, 2, 3, 4]);
    expect(summaryDiff(summarize([1, 2, 3, 4]), ref)).toBe(0);
    expect(summaryDiff(summarize([1, 2, 3, 4.4]), ref)).toBeCloseTo(0.1, 6); // 0.4 / max |sample| 4
    expect(summaryDiff(summarize([1, 2, 3]), ref)).toBe(Infinity);
    expect(summaryDiff(summarize([1, 2, 3, NaN]), ref)).toBe(Infinity);
  });
});

describe('formats', () => {
  it('ratio is kiln over peer, with a dash when either is missing', () => {
    expect(formatRatio(8, 10)).toBe('0.80x');
    expect(formatRatio(150, 10)).toBe('15.0x');
    expect(formatRatio(undefined, 10)).toBe('-');
    expect(formatRatio(8, undefined)).toBe('-');
    expect(formatMs(0.12345)).toBe('0.123');
    expect(formatMs(12.345)).toBe('12.3');
    expect(formatMs(1234.5)).toBe('1235');
  });

  it('JSON lines carry suite, case, impl, threads, median_ms, gflops and status', () => {
    const ok = JSON.parse(
      jsonLine({
        suite: 'matmul',
        case: '512',
        impl: 'kiln',
        threads: 1,
        status: 'ok',
        median_ms: 10.123456,
        gflops: 26.5,
        runs: 9,
        diff: 1.23456e-7,
      }),
    );
    expect(ok).toEqual({
      suite: 'matmul',
      case: '512',
      impl: 'kiln',
      threads: 1,
      median_ms: 10.1235,
      gflops: 26.5,
      status: 'ok',
      runs: 9,
      diff: 1.23e-7,
    });
    const cannot = JSON.parse(
      jsonLine({
        suite: 'cnn-train',
        case: 'batch 64',
        impl: 'tfjs-wasm',
        threads: 1,
        status: 'cannot',
        reason: 'no Conv2DBackpropFilter',
      }),
    );
    expect(cannot).toEqual({
      suite: 'cnn-train',
      case: 'batch 64',
      impl: 'tfjs-wasm',
      threads: 1,
      median_ms: null,
      gflops: null,
      status: 'cannot',
      reason: 'no Conv2DBackpropFilter',
    });
  });

  it('tables align columns', () => {
    expect(
      table(
        ['case', 'ms'],
        [
          ['a', '1.5'],
          ['bbb', '10'],
        ],
      ),
    ).toBe('case   ms\n----  ---\na     1.5\nbbb    10');
  });
});

describe('seeded models and layout conversions', () => {
  it('the generator is deterministic and cases are equal for equal seeds', () => {
    const a = rng(7),
      b = rng(7);
    expect([a(), a(), a()]).toEqual([b(), b(), b()]);
    const [c1] = casesOf('cnn-train', 3),
      [c2] = casesOf('cnn-train', 3),
      [c3] = casesOf('cnn-train', 4);
    expect(c1!.kind === 'train' && c2!.kind === 'train' && c1!.x.data).toEqual(c2!.kind === 'train' && c2!.x.data);
    expect(c1!.kind === 'train' && c3!.kind === 'train' && c1!.weights[0]![0]!.data[0]).not.toBe(
      c3!.kind === 'train' && c3!.weights[0]![0]!.data[0],
    );
  });

  it('the CNN shapes are those of examples/mnist-cnn.ts', () => {
    expect(shapes(CNN)).toEqual([[26, 26, 32], [13, 13, 32], [11, 11, 64], [5, 5, 64], [3, 3, 64], [576], [64], [10]]);
  });

  it('transpose and HWIO -> OIHW move the right elements', () => {
    const t = transpose(Float32Array.from([0, 1, 2, 3, 4, 5]), [2, 3], [1, 0]);
    expect(t.shape).toEqual([3, 2]);
    expect([...t.data]).toEqual([0, 3, 1, 4, 2, 5]);
    // w[h][w][i][o] = 1000h + 100w + 10i + o, shape [2, 2, 2, 3]
    const hwio = Float32Array.from({ length: 24 }, (_, n) => {
      const [h, w, i, o] = [Math.floor(n / 12), Math.floor(n / 6) % 2, Math.floor(n / 3) % 2, n % 3];
      return 1000 * h + 100 * w + 10 * i + o;
    });
    const oihw = hwioToOihw({ name: 'k', shape: [2, 2, 2, 3], data: hwio });
    expect(oihw.shape).toEqual([3, 2, 2, 2]);
    expect(oihw.data[((2 * 2 + 1) * 2 + 0) * 2 + 1]).toBe(1000 * 0 + 100 * 1 + 10 * 1 + 2); // o=2, i=1, h=0, w=1
  });

  it('an NCHW flatten with the re-ordered kernel computes the NHWC flatten dense layer', () => {
    const [h, w, c, units] = [2, 3, 2, 2];
    const next = rng(1);
    const x = Float32Array.from({ length: h * w * c }, () => next()); // NHWC
    const k = Float32Array.from({ length: h * w * c * units }, () => next());
    const dense = (v: Float32Array, kern: Float32Array): number[] =>
      Array.from({ length: units }, (_, u) => v.reduce((s, vi, i) => s + vi * kern[i * units + u]!, 0));
    const nchw = transpose(x, [h, w, c], [2, 0, 1]).data;
    const k2 = nchwFlattenKernel({ name: 'k', shape: [h * w * c, units], data: k }, [h, w, c]).data;
    dense(nchw, k2).forEach((v, i) => expect(v).toBeCloseTo(dense(x, k)[i]!, 5));
  });
});

describe('peak module', () => {
  it('assembles in both variants and counts 96 flops an iteration', async () => {
    expect(FLOPS_PER_ITER).toBe(12 * 4 * 2);
    expect(WebAssembly.validate(await peakBinary(false))).toBe(true);
    expect((await peakBinary(true)).length).toBeGreaterThan(0);
  });

  it('runs: the accumulators converge to c / (1 - m) in lane 0 summed over 12', async () => {
    const { instance } = await WebAssembly.instantiate(await peakBinary(false));
    const out = (instance.exports.peak as (n: number) => number)(20000);
    expect(out).toBeCloseTo(12 * (0.001 / (1 - 0.999)), 1);
  });
});
