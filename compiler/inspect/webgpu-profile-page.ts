// The device side of `kiln inspect --profile --target webgpu` in a headless Chromium page
// (profile.ts bundles it): webgpu-timing.ts on the page's navigator.gpu, one call per request.
import { hostError } from '../../runtime/webgpu-host.ts';
import { timeOnGpu, type GpuTimingRequest } from './webgpu-timing.ts';

(globalThis as { kilnTime?: unknown }).kilnTime = async (r: GpuTimingRequest) => {
  try {
    return { value: await timeOnGpu(r) };
  } catch (e) {
    return { error: hostError(e) };
  }
};
