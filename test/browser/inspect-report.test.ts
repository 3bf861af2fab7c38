// The HTML report of the MNIST CNN's training step in headless Chromium: no console errors, no
// network requests, every kernel listed; a click on a fusion group shows its source line and WAT.
import { mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { pickModel } from '../../compiler/dsl/model.ts';
import { collect } from '../../compiler/inspect/collect.ts';
import type { InspectData } from '../../compiler/inspect/data.ts';
import { writeReport } from '../../compiler/inspect/html.ts';
import { HEADLESS_FLAGS } from '../../compiler/chromium.ts';

const OUT = resolve('test-results/inspect');
const CHROMIUM = '/usr/bin/chromium';
const ARGS = HEADLESS_FLAGS;

let browser: Browser;
let data: InspectData;
const file = `${OUT}/mnist-cnn-train.html`;

beforeAll(async () => {
  mkdirSync(OUT, { recursive: true });
  data = collect(await pickModel('examples/mnist-cnn.ts', undefined, 'test'), { train: true }).data;
  await writeReport(file, data);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

describe('kiln inspect --html', () => {
  test('the MNIST CNN train-step report: no errors, no network, every kernel, a group shows its WAT and source', async () => {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('request', (r) => {
      if (!r.url().startsWith('file://') && !r.url().startsWith('data:')) requests.push(r.url());
    });
    await page.goto(`file://${file}`);
    await page.waitForLoadState('load');

    const listed = await page.$$eval('#kernels tbody tr', (rows) => rows.map((r) => (r as HTMLElement).dataset.kernel));
    expect(listed).toEqual(data.kernels.map((k) => k.name));
    expect(data.kernels.length).toBeGreaterThan(40);

    // the training step's first convolution group: its cluster in the graph
    const train = data.entries.findIndex((e) => e.name === 'train_step');
    const conv = data.entries[train]!.groups.find((g) => g.head === 'contraction(conv2d)')!;
    const cluster = page.locator(`#e${train}-g${conv.index}`);
    expect(await cluster.count()).toBe(1);
    await cluster.locator('text').first().click();
    const detail = page.locator('#detail');
    await expect.poll(() => detail.textContent()).toContain(`group ${conv.index}`);
    const text = (await detail.textContent())!;
    const conv1 =
      readFileSync('examples/mnist-cnn.ts', 'utf8')
        .split('\n')
        .findIndex((l) => l.includes('nn.conv2d(32, 3')) + 1;
    expect(text).toContain(`examples/mnist-cnn.ts:${conv1}:6`);
    expect(text).toContain("nn.conv2d(32, 3, { activation: 'relu' })");
    const kernel = conv.kernels[0]!;
    const wat = await detail.locator(`[data-kernel="${kernel}"] details.wat pre`).textContent();
    expect(wat).toContain(`(func $e1_k${data.entries[train]!.kernels.indexOf(kernel)}_${kernel}`);
    expect(wat).toContain(`;;   from   examples/mnist-cnn.ts:${conv1}:6`);

    // a row of the kernel table selects its kernel
    await page.locator('#kernels tbody tr[data-kernel="infer_k0"]').click();
    await expect.poll(() => detail.textContent()).toContain('infer group 0');

    await page.screenshot({ path: `${OUT}/mnist-cnn-train.png`, fullPage: false });
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
  });
});
