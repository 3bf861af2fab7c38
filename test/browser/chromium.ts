// A transport to a WebGPU host (gpu-page.ts, bundled with esbuild) in a headless Chromium page
// (compiler/chromium.ts), so tests run kiln's WGSL in a browser.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle, openPage } from '../../compiler/chromium.ts';
import { fromHost, type Transport } from '../../runtime/webgpu-node.ts';
import type { HostError, Request } from '../../runtime/webgpu-host.ts';

export { bundle, CHROMIUM, CHROMIUM_FLAGS, openPage, serve, type ChromiumPage } from '../../compiler/chromium.ts';

const HERE = dirname(fileURLToPath(import.meta.url));

/** A transport to a WebGPU host in a Chromium page. */
export async function chromiumGpu(): Promise<Transport & { close(): Promise<void> }> {
  const p = await openPage(await bundle(join(HERE, 'gpu-page.ts')));
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
