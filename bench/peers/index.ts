// Every implementation the bench runs, kiln first.
import { jaxPeer } from './jax.ts';
import { kiln, kilnWebGpu } from './kiln.ts';
import { ortNode, ortWeb } from './ort.ts';
import { tfjsCpu, tfjsWasm, tfjsWebGpu } from './tfjs.ts';
import { torchPeer } from './torch.ts';
import type { Impl } from './types.ts';

export const IMPLS: readonly Impl[] = [kiln, tfjsWasm, tfjsCpu, ortWeb, ortNode, jaxPeer, torchPeer];

/** `--target webgpu`: kiln's WGSL and the peers that run WebGPU in Node (onnxruntime-web's WebGPU
 *  and jax-js's need a browser's navigator.gpu with its own feature set; not run). */
export const WEBGPU_IMPLS: readonly Impl[] = [kilnWebGpu, tfjsWebGpu];
