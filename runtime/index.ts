// kiln's runtime: loads compiled programs and runs them. Imports nothing from the compiler.
export { loadWasm, relaxedSimdSupported, WasmExecutor } from './wasm.ts';
export type { ProgramManifest, RuntimeTensor, TensorData, WasmBinaries } from './wasm.ts';
export { RuntimeError } from './errors.ts';
