// The script of the WebGPU test page: a WebGPU host (runtime/webgpu-host.ts) on the page's
// navigator.gpu, answering the requests compiler/chromium.ts sends through page.evaluate.
import { createHost, hostError, type Request } from '../runtime/webgpu-host.ts';

const host = createHost();
(globalThis as { kilnGpu?: unknown }).kilnGpu = async (r: Request) => {
  try {
    return { value: await host(r) };
  } catch (e) {
    return { error: hostError(e) };
  }
};
