// Every implementation the bench runs, kiln first.
import { jaxPeer } from './jax.ts';
import { kiln, kilnWebGpu } from './kiln.ts';
import { ortNode, ortWeb } from './ort.ts';
import { tfjsCpu, tfjsWasm } from './tfjs.ts';
import { tfjsWebGpu } from './webgpu.ts';
import { torchPeer } from './torch.ts';
import type { Impl } from './types.ts';

export const IMPLS: readonly Impl[] = [kiln, tfjsWasm, tfjsCpu, ortWeb, ortNode, jaxPeer, torchPeer];

/** `--target webgpu`: kiln's WGSL and tfjs-webgpu in one headless Chromium page (webgpu.ts), on one
 *  adapter (onnxruntime-web's WebGPU and jax-js's: not run). */
export const WEBGPU_IMPLS: readonly Impl[] = [kilnWebGpu, tfjsWebGpu];
