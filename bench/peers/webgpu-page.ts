// The script of the WebGPU bench page (bench/peers/webgpu.ts opens it in headless Chromium): kiln's
// WebGPU host (compiler/webgpu-page.ts: globalThis.kilnGpu) and TensorFlow.js on its webgpu backend
// (globalThis.tfjsBench), both on the page's navigator.gpu, so both run on one adapter. Bundled with
// esbuild from bench/node_modules.
/* eslint-disable @typescript-eslint/no-explicit-any */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import '../../compiler/webgpu-page.ts';
import { hostError } from '../../runtime/webgpu-host.ts';
import type { Case } from '../cases.ts';
import { tfjsRunner } from './tfjs-model.ts';
import { fromPlain, type TfjsRequest } from './webgpu-plain.ts';
import type { Runner } from './types.ts';

const runners = new Map<number, Runner>();
let next = 0;

async function answer(r: TfjsRequest): Promise<unknown> {
  switch (r.op) {
    case 'load':
      if (!(await tf.setBackend('webgpu'))) throw new Error("tfjs-webgpu: tf.setBackend('webgpu') failed");
      await tf.ready();
      return null;
    case 'prepare':
      runners.set(next, tfjsRunner(tf, fromPlain(r.case) as Case));
      return next++;
    case 'call':
      return Array.from(await runners.get(r.id)!.run());
    case 'dispose':
      runners.get(r.id)?.dispose?.();
      runners.delete(r.id);
      return null;
  }
}

(globalThis as any).tfjsBench = async (r: TfjsRequest) => {
  try {
    return { value: await answer(r) };
  } catch (e) {
    return { error: hostError(e) };
  }
};
