// `kiln inspect --profile --target webgpu`: the WGSL program of XOR's training step timed per kernel
// with GPU timestamp queries in headless Chromium's WebGPU (SwiftShader), beside the wasm profile in
// the cost table and the report's roofline; an adapter without timestamp-query is a K8007 error.
import { existsSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { inspect } from '../../compiler/cli/inspect.ts';
import { pickModel } from '../../compiler/dsl/model.ts';
import { rooflineSvg } from '../../compiler/inspect/charts.ts';
import { collect } from '../../compiler/inspect/collect.ts';
import { profileWasm, profileWebGpu } from '../../compiler/inspect/profile.ts';
import { timeOnGpu } from '../../compiler/inspect/webgpu-timing.ts';
import { costTable } from '../../compiler/inspect/text.ts';
import { KilnError } from '../../compiler/index.ts';
import { CHROMIUM } from '../../compiler/chromium.ts';

// Like the WGSL tests: without Chromium the suite is skipped (and says so), except under CI.
const here = existsSync(CHROMIUM) || process.env.CI === 'true';
if (!here) console.warn(`WebGPU profile tests skipped: no ${CHROMIUM}`);

describe.runIf(here)('kiln inspect --profile --target webgpu', () => {
  test('one finite non-negative GPU time per kernel, rates from the cost model, finite positive peaks', async () => {
    const json = JSON.parse(
      await inspect('examples/xor.ts', { stats: true, json: true, train: true, profile: true, target: 'webgpu' }),
    );
    expect(json.profiles).toHaveLength(1);
    const [p] = json.profiles;
    expect(p.target).toBe('webgpu');
    expect(p.adapter).toMatch(/swiftshader/i);
    for (const v of [p.peaks.gflops, p.peaks.gbps, ...Object.values<number>(p.entryMs)]) {
      expect(Number.isFinite(v)).toBe(true);
      expect(v).toBeGreaterThan(0);
    }
    expect(Object.keys(p.entryMs).sort()).toEqual(['infer', 'train_step']);
    expect(json.kernelCosts).toHaveLength(json.kernels);
    for (const k of json.kernelCosts) {
      const t = k.times.webgpu;
      expect(Number.isFinite(t.ms)).toBe(true);
      expect(t.ms).toBeGreaterThanOrEqual(0);
      if (t.ms > 0) expect(t.gflops).toBeCloseTo(k.flops / t.ms / 1e6, 6);
    }
  }, 180_000);

  test('--target all: wasm and webgpu columns in the cost table, both roofs in the roofline', async () => {
    const c = collect(await pickModel('examples/xor.ts', undefined, 'test'), { train: false });
    const data = { ...c.data, profiles: [await profileWasm(c, { reps: 3 }), await profileWebGpu(c, { reps: 3 })] };
    const table = costTable(data, data.entries, undefined).split('\n');
    expect(table[0]).toMatch(/FLOP\/B\s+wasm-(relaxed|simd) ms\s+GFLOP\/s\s+GB\/s\s+webgpu ms\s+GFLOP\/s\s+GB\/s$/);
    // every kernel has its three measured columns on each target
    for (const k of data.kernels) expect(table.find((l) => l.startsWith(`${k.name} `))).toMatch(/(\s+\d+\.\d+){7}$/);
    expect(table).toContainEqual(expect.stringMatching(/^measured webgpu peaks: [\d.]+ GFLOP\/s \(FMA shader\)/));
    const svg = rooflineSvg(data);
    expect(svg.match(/<polyline [^>]*class="roof p\d"/g)).toHaveLength(2);
    expect(svg).toMatch(/webgpu peak [\d.]+ GFLOP\/s/);
    expect(svg).toMatch(/wasm-(relaxed|simd) peak [\d.]+ GFLOP\/s/);
  }, 180_000);
});

test('an adapter without timestamp-query is a K8007 error naming it, before anything runs', async () => {
  const device = { features: new Set<string>(), adapterInfo: { vendor: 'acme', description: 'no timers' } };
  const err = await timeOnGpu(
    {
      kernels: { layout: { chunks: [16], places: {} }, shaders: [], entries: [] },
      manifest: {} as never,
      params: {},
      feeds: {},
      reps: 1,
    },
    device as unknown as GPUDevice,
  ).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(KilnError);
  expect((err as KilnError).code).toBe('K8007');
  expect((err as Error).message).toMatch(/adapter \(acme no timers\) has no 'timestamp-query' feature/);
});
