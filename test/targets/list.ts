// The targets the differential tests run on (every registry op, random fused graphs, the seed
// models): a new target joins them by one entry in TARGETS (./targets.ts says how to load a
// rendered program). Importing this probes for a WebGPU device once per test file and closes it after.
import { afterAll } from 'vitest';
import { type TargetUnderTest, wasmUnderTest, wgslUnderTest } from './targets.ts';
import { closeGpu, testGpu } from './wgsl-helpers.ts';

const gpu = await testGpu();
afterAll(closeGpu);

/** wasm always; WGSL where a WebGPU device runs (always under CI=true: testGpu throws there without one). */
export const TARGETS: readonly TargetUnderTest[] = [wasmUnderTest(), ...(gpu.ok ? [wgslUnderTest] : [])];
