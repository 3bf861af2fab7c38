// The WebGPU bench (`--target webgpu`) runs every WebGPU impl in one headless Chromium page on 127.0.0.1
// (compiler/chromium.ts: WebGPU on SwiftShader here, or the machine's GPU), so all measure on one
// adapter in one run: kiln's WebGPU executor through the page's WebGPU host, TensorFlow.js's webgpu
// backend bundled into the same page (webgpu-page.ts) from bench/node_modules.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle, callPage, openPage, type ChromiumPage } from '../../compiler/chromium.ts';
import type { Request } from '../../runtime/webgpu-host.ts';
import type { Transport } from '../../runtime/webgpu-node.ts';
import type { Case } from '../cases.ts';
import { inProcess, type Impl, type Prepared } from './types.ts';
import { toPlain, type TfjsRequest } from './webgpu-plain.ts';

let page: Promise<ChromiumPage> | undefined;

/** The bench page, opened on first use. */
function benchPage(): Promise<ChromiumPage> {
  return (page ??= (async () => {
    const p = await openPage(await bundle(join(dirname(fileURLToPath(import.meta.url)), 'webgpu-page.ts')));
    await p.page.waitForFunction(() => 'kilnGpu' in globalThis && 'tfjsBench' in globalThis);
    return p;
  })());
}

/** A transport to kiln's WebGPU host in the bench page. */
export async function benchGpu(): Promise<Transport> {
  const p = (await benchPage()).page;
  return { call: <T>(req: Request): Promise<T> => callPage<T>(p, 'kilnGpu', req) };
}

const pending = new Set<Promise<unknown>>();

/** `work` (a disposal on the page: the harness does not wait for it) finished before the page closes. */
export function beforeClose(work: Promise<unknown>): void {
  const p = work.catch(() => undefined).finally(() => pending.delete(p));
  pending.add(p);
}

/** Closes the bench page once the disposals under way are done (each WebGPU impl's close; the
 *  first closes it). */
export async function closeBenchPage(): Promise<void> {
  await Promise.all(pending);
  const p = page;
  page = undefined;
  await (await p)?.close();
}

const tfjs = async <T>(r: TfjsRequest): Promise<T> => callPage<T>((await benchPage()).page, 'tfjsBench', r);

/** @tensorflow/tfjs-backend-webgpu in the bench page; a call's time includes one page.evaluate round
 *  trip, as kiln's does. */
export const tfjsWebGpu: Impl = {
  name: 'tfjs-webgpu',
  threads: 1,
  load: () => tfjs({ op: 'load' }),
  async prepare(c: Case): Promise<Prepared> {
    const id = await tfjs<number>({ op: 'prepare', case: toPlain(c) });
    return inProcess({
      run: () => tfjs<number[]>({ op: 'call', id }),
      dispose: () => beforeClose(tfjs({ op: 'dispose', id })),
    });
  },
  close: closeBenchPage,
};
