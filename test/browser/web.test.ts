// The web app in headless Chromium (playwright-core, the system's /usr/bin/chromium): examples/web is
// built around a compiled MNIST CNN, served on 127.0.0.1, and classifies the sample digits exactly
// as Node does (examples/node/classify.js's predictions, and the runtime's probabilities bit for
// bit on the same plain-SIMD module), shows its backend and latency, trains in the page with a
// falling loss, and logs no console errors. Served by examples/web/serve.mjs (cross-origin isolated),
// it runs the threaded wasm build on Web Workers; served without those headers, one thread, saying why.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../runtime/index.ts';
import { CHROMIUM_FLAGS, HEADLESS_FLAGS } from '../../compiler/chromium.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const CHROMIUM = '/usr/bin/chromium';
const FLAGS = HEADLESS_FLAGS;

const present = existsSync(CHROMIUM);
if (!present && process.env.CI)
  throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium, and a browser test may not skip in CI`);

let tmp: string;
let server: Server;
let url: string;
/** The same files without the cross-origin isolation headers. */
let plainServer: Server;
let plainUrl: string;
let browser: Browser;

beforeAll(async () => {
  if (!present) return;
  tmp = mkdtempSync(join(tmpdir(), 'kiln-web-'));
  const run = (...args: string[]) => execFileSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
  run('bin/kiln.js', 'compile', 'examples/mnist-cnn.ts', '--target', 'all', '--out', join(tmp, 'm'));
  run('examples/web/build.mjs', join(tmp, 'm'));
  const dist = join(ROOT, 'examples/web/dist');
  const { handler } = (await import(join(ROOT, 'examples/web/serve.mjs'))) as {
    handler: (dist: string, headers?: object) => Parameters<typeof createServer>[1];
  };
  const listen = async (s: Server): Promise<string> => {
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(s.address() as { port: number }).port}/`;
  };
  server = createServer(handler(dist));
  url = await listen(server);
  plainServer = createServer(handler(dist, {}));
  plainUrl = await listen(plainServer);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  server?.close();
  plainServer?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe.skipIf(!present)('examples/web in Chromium', () => {
  it('classifies the sample digits as Node does, trains with a falling loss, no console errors', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${url}?simd=plain`);
    await page.waitForSelector('#status[data-ready="true"]', { timeout: 120_000 });
    const web = await page.evaluate(
      () =>
        (
          window as unknown as {
            kiln: { backend: string; backendInfo: string; predictions: number[]; probs: number[]; latencyMs: number };
          }
        ).kiln,
    );
    expect(web.backend).toBe('wasm');
    // cross-origin isolated: the threaded build on as many threads as Chromium reports cores
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    expect(await page.textContent('#status')).toMatch(new RegExp(`on wasm \\(SIMD, ${cores} threads?\\)`));
    expect(web.latencyMs).toBeGreaterThan(0);
    expect(await page.locator('#samples figure').count()).toBe(64);

    const node = JSON.parse(
      spawnSync(process.execPath, ['examples/node/classify.js', join(tmp, 'm'), '--json'], {
        cwd: ROOT,
        encoding: 'utf8',
      }).stdout,
    );
    expect(web.predictions).toEqual(node.predictions);
    const m = await loadModel(join(tmp, 'm'), { relaxedSimd: false });
    const x = Float32Array.from(JSON.parse(readFileSync(join(ROOT, 'examples/web/dist/samples.json'), 'utf8')).x);
    expect(web.probs).toEqual(Array.from((await m.infer({ x })).y!));

    await page.click('#train');
    await page.waitForFunction(
      () => (window as unknown as { kiln: { losses: number[] } }).kiln.losses.length === 20,
      undefined,
      { timeout: 120_000 },
    );
    const losses = await page.evaluate(() => (window as unknown as { kiln: { losses: number[] } }).kiln.losses);
    expect(losses[19]).toBeLessThan(losses[0]!);
    expect(await page.textContent('#loss')).toMatch(/^step 20: loss \d+\.\d{4}$/);

    // a drawn stroke is classified as the first row of a batch
    const box = (await page.locator('#pad').boundingBox())!;
    await page.mouse.move(box.x + 140, box.y + 40);
    await page.mouse.down();
    await page.mouse.move(box.x + 140, box.y + 240, { steps: 10 });
    await page.mouse.up();
    await page.waitForFunction(() => document.getElementById('guess')!.textContent !== '-');
    expect(await page.textContent('#guess')).toMatch(/^\d$/);
    expect(await page.textContent('#latency')).toMatch(/ms on wasm$/);
    expect(errors).toEqual([]);
  }, 240_000);

  it('runs on WebGPU (SwiftShader) with the predictions of wasm and its probabilities within 1e-4; auto passes over a software adapter', async () => {
    const gpuBrowser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
    try {
      const page = await gpuBrowser.newPage();
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${url}?backend=webgpu&steps=4`);
      await page.waitForSelector('#status[data-ready="true"]', { timeout: 240_000 });
      const web = await page.evaluate(
        () => (window as unknown as { kiln: { backend: string; predictions: number[]; probs: number[] } }).kiln,
      );
      expect(web.backend).toBe('webgpu');
      expect(await page.textContent('#status')).toMatch(/on webgpu \(/);
      const node = JSON.parse(
        spawnSync(process.execPath, ['examples/node/classify.js', join(tmp, 'm'), '--backend', 'wasm', '--json'], {
          cwd: ROOT,
          encoding: 'utf8',
        }).stdout,
      );
      expect(web.predictions).toEqual(node.predictions);
      const m = await loadModel(join(tmp, 'm'), { backend: 'wasm', relaxedSimd: false });
      const x = Float32Array.from(JSON.parse(readFileSync(join(ROOT, 'examples/web/dist/samples.json'), 'utf8')).x);
      const want = (await m.infer({ x })).y!;
      const worst = Math.max(...web.probs.map((p, i) => Math.abs(p - want[i]!)));
      console.log(
        `MNIST CNN infer, WebGPU (SwiftShader) vs wasm: max |probability difference| ${worst.toExponential(2)}`,
      );
      expect(worst).toBeLessThanOrEqual(1e-4);
      // and trainStep on WebGPU: 4 steps in the page (SwiftShader takes seconds a step) with a falling loss
      await page.click('#train');
      await page.waitForFunction(
        () => (window as unknown as { kiln: { losses: number[] } }).kiln.losses.length === 4,
        undefined,
        { timeout: 240_000 },
      );
      const losses = await page.evaluate(() => (window as unknown as { kiln: { losses: number[] } }).kiln.losses);
      expect(losses[3]).toBeLessThan(losses[0]!);
      expect(errors).toEqual([]);

      const auto = await gpuBrowser.newPage();
      await auto.goto(url);
      await auto.waitForSelector('#status[data-ready="true"]', { timeout: 120_000 });
      expect(await auto.textContent('#status')).toMatch(
        /on wasm \(relaxed SIMD, \d+ threads?.*?\): the WebGPU adapter is a software fallback/,
      );
    } finally {
      await gpuBrowser.close();
    }
  }, 400_000);

  it('runs the relaxed-SIMD module where Chromium has it, with the same predictions', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(url);
    await page.waitForSelector('#status[data-ready="true"]', { timeout: 120_000 });
    expect(await page.textContent('#status')).toMatch(/on wasm \(relaxed SIMD, \d+ threads?\)/);
    const node = JSON.parse(
      spawnSync(process.execPath, ['examples/node/classify.js', join(tmp, 'm'), '--json'], {
        cwd: ROOT,
        encoding: 'utf8',
      }).stdout,
    );
    expect(
      await page.evaluate(() => (window as unknown as { kiln: { predictions: number[] } }).kiln.predictions),
    ).toEqual(node.predictions);
    expect(errors).toEqual([]);
  }, 240_000);

  it('without cross-origin isolation: one thread, saying why, with the same probabilities', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${plainUrl}?simd=plain`);
    await page.waitForSelector('#status[data-ready="true"]', { timeout: 120_000 });
    expect(await page.textContent('#status')).toMatch(
      /on wasm \(SIMD, 1 thread of \d+ asked: SharedArrayBuffer is unavailable \(a page needs cross-origin isolation/,
    );
    const probs = await page.evaluate(() => (window as unknown as { kiln: { probs: number[] } }).kiln.probs);
    const m = await loadModel(join(tmp, 'm'), { relaxedSimd: false, threads: 1 });
    const x = Float32Array.from(JSON.parse(readFileSync(join(ROOT, 'examples/web/dist/samples.json'), 'utf8')).x);
    expect(probs).toEqual(Array.from((await m.infer({ x })).y!));
    expect(errors).toEqual([]);
  }, 240_000);
});
