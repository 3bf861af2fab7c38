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
export const CHROMIUM_FLAGS = [
  '--enable-unsafe-webgpu',
  '--enable-unsafe-swiftshader',
  '--use-webgpu-adapter=swiftshader',
  '--no-sandbox',
  '--headless',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
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

/** A transport to a WebGPU host in a Chromium page (`page`: the page script's source). */
export async function chromiumGpu(page = WEBGPU_PAGE): Promise<Transport & { close(): Promise<void> }> {
  const p = await openPage(await bundle(page));
  await p.page.waitForFunction(() => 'kilnGpu' in globalThis);
  return {
    async call<T>(req: Request): Promise<T> {
      const r = await p.page.evaluate(
        (q) =>
          (
            globalThis as unknown as { kilnGpu: (q: unknown) => Promise<{ value?: unknown; error?: HostError }> }
          ).kilnGpu(q),
        req as never,
      );
      if (r.error) throw fromHost(r.error);
      return r.value as T;
    },
    close: p.close,
  };
}
