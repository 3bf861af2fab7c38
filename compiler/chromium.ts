// Headless Chromium (Debian's /usr/bin/chromium, never a downloaded browser, driven by
// playwright-core) on a page served from 127.0.0.1 (WebGPU needs a secure context), with WebGPU on
// SwiftShader: the browser tests run kiln's WGSL in it, `kiln inspect --profile --target webgpu`
// times kernels in it (inspect/profile.ts), and `kiln train --target webgpu` and the WebGPU bench
// run in it through a transport to a WebGPU host in the page (webgpu-page.ts, bundled with esbuild;
// Dawn in Node, the `webgpu` package, crashes on SwiftShader within a few calls:
// scripts/dawn-gc-crash.mjs).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import type { HostError, Request } from '../runtime/webgpu-host.ts';
import { fromHost, type Transport } from '../runtime/webgpu-node.ts';

export const CHROMIUM = '/usr/bin/chromium';
/** Headless, quiet, offline: every page kiln opens. */
export const HEADLESS_FLAGS = [
  '--no-sandbox',
  '--headless',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
/** HEADLESS_FLAGS with WebGPU on SwiftShader. */
export const CHROMIUM_FLAGS = [
  '--enable-unsafe-webgpu',
  '--enable-unsafe-swiftshader',
  '--use-webgpu-adapter=swiftshader',
  ...HEADLESS_FLAGS,
];

/** Bundles `entry` (a .ts file) for the browser. */
export async function bundle(entry: string): Promise<string> {
  const { build } = await import('esbuild');
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
}

/** Serves `files` (path -> [content type, body]) on 127.0.0.1. */
export async function serve(
  files: Readonly<Record<string, readonly [string, string]>>,
): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const f = files[req.url ?? '/'];
    res.writeHead(f ? 200 : 404, { 'content-type': f?.[0] ?? 'text/plain' });
    res.end(f?.[1] ?? 'not found');
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

export interface ChromiumPage {
  readonly browser: Browser;
  readonly page: Page;
  close(): Promise<void>;
}

/** Chromium with a page at `/` whose module script is `script`. */
export async function openPage(script: string): Promise<ChromiumPage> {
  const { server, url } = await serve({
    '/': [
      'text/html',
      '<!doctype html><meta charset="utf-8"><title>kiln</title><script type="module" src="/page.js"></script>',
    ],
    '/page.js': ['text/javascript', script],
  });
  const { chromium } = await import('playwright-core'); // a development dependency: loaded when a page opens
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
  const page = await browser.newPage();
  await page.goto(url);
  return {
    browser,
    page,
    close: async () => {
      await browser.close();
      server.close();
    },
  };
}

/** The page script's source file. */
export const WEBGPU_PAGE = join(dirname(fileURLToPath(import.meta.url)), 'webgpu-page.ts');

/** Calls the page's global function `fn` (set by its script) with `req`; a host error is rethrown as its typed error. */
export async function callPage<T>(page: Page, fn: string, req: unknown): Promise<T> {
  type Host = (q: unknown) => Promise<{ value?: unknown; error?: HostError }>;
  const r = await page.evaluate(
    (a: { fn: string; req: unknown }) => (globalThis as unknown as Record<string, Host>)[a.fn]!(a.req),
    { fn, req },
  );
  if (r.error) throw fromHost(r.error);
  return r.value as T;
}

/** A transport to a WebGPU host in a Chromium page (`page`: the page script's source). */
export async function chromiumGpu(page = WEBGPU_PAGE): Promise<Transport & { close(): Promise<void> }> {
  const p = await openPage(await bundle(page));
  await p.page.waitForFunction(() => 'kilnGpu' in globalThis);
  return {
    call: <T>(req: Request): Promise<T> => callPage<T>(p.page, 'kilnGpu', req),
    close: p.close,
  };
}
