// kiln's runtime: loads compiled artifacts and runs them. Imports nothing from the compiler.
export { loadModel, type Backend, type Executor, type KilnModel, type LoadOptions, type Outputs } from './model.ts';
export type { ArtifactSource } from './files.ts';
export { loadWasm, relaxedSimdSupported, WasmExecutor } from './wasm.ts';
export type { RuntimeTensor, TensorData, TensorInput, WasmBinaries } from './wasm.ts';
export { KilnError } from './errors.ts';
export * from './manifest.ts';
export { checkFile, checkInputs, checkWeights, parseManifest, readManifest, sha256Hex } from './validate.ts';
export { decodeSafetensors, encodeSafetensors, WeightsError, type NamedArray, type SafeDType } from './safetensors.ts';
export { readNpy, writeNpy, type NpyArray } from './npy.ts';
export { describeDevice, loadWebGpu, requestDevice, WebGpuExecutor, type WebGpuKernels } from './webgpu.ts';
