// The artifact manifest (manifest.json): kiln's contract between the compiler and the runtime. It is
// its own versioned format, not the compiler's Program: an executor reads only this and the files it
// names. docs/artifact.md specifies every field; runtime/manifest.schema.json is its JSON Schema.

/** The `format` field of every manifest. */
export const FORMAT = 'kiln.artifact';
/** The format version this runtime writes and reads. A manifest of a later major version is refused;
 *  a later minor version only adds optional fields, so it is read. */
export const FORMAT_VERSION = '1.1';

export type DType = 'f32' | 'i32' | 'bool';

/** A dtype and a static shape (the batch axis included). */
export interface TensorSpec {
  readonly dtype: DType;
  readonly shape: readonly number[];
}

/** An entry point's input or output, held in the arena buffer `buffer`. */
export interface IOSpec extends TensorSpec {
  readonly name: string;
  readonly buffer: string;
  /** Integer inputs only: every value v must satisfy range[0] <= v < range[1] (class labels, token ids). */
  readonly range?: readonly [number, number];
}

/** What a param is: a trained weight, an optimizer's per-weight state (`of` names the weight), the
 *  optimizer's step counter, a BatchNorm running statistic, or a dropout layer's RNG counter. */
export type ParamRole = 'weight' | 'optimizer-slot' | 'step-counter' | 'batchnorm-statistic' | 'rng-counter';
export const PARAM_ROLES: readonly ParamRole[] = [
  'weight',
  'optimizer-slot',
  'step-counter',
  'batchnorm-statistic',
  'rng-counter',
];

export interface ParamSpec extends TensorSpec {
  readonly name: string;
  readonly role: ParamRole;
  readonly buffer: string;
  /** optimizer-slot: the weight it belongs to. */
  readonly of?: string;
}

/** param: persistent state (holds a ParamSpec); constant: persistent, written from `init` at load;
 *  input / output: an entry's values; temp: lives inside one call. */
export type BufferKind = 'param' | 'constant' | 'input' | 'output' | 'temp';

/** A region of the arena. Every element takes 4 bytes (bool as i32). */
export interface BufferSpec {
  readonly name: string;
  readonly dtype: DType;
  readonly kind: BufferKind;
  /** Byte offset in the arena, a multiple of 16. */
  readonly offset: number;
  /** Number of elements. */
  readonly size: number;
  /** constant buffers: exactly `size` values. */
  readonly init?: readonly number[];
}

export interface MemorySpec {
  readonly arenaBytes: number;
  readonly buffers: readonly BufferSpec[];
}

export interface EntrySpec {
  readonly name: string;
  readonly inputs: readonly IOSpec[];
  readonly outputs: readonly IOSpec[];
}

/** One kernel of an entry point, in dispatch order, with the buffers it reads and writes: the
 *  runtime derives each buffer's lifetime from them to check that overlapping buffers never live at once. */
export interface KernelSpec {
  readonly name: string;
  readonly reads: readonly string[];
  readonly writes: readonly string[];
}

export interface WasmTarget {
  /** File names: plain SIMD, and the relaxed-SIMD variant when compiled; the threaded variants of both
   *  (an imported shared memory, docs/runtime.md) when compiled. */
  readonly files: {
    readonly simd: string;
    readonly relaxed?: string;
    readonly threads?: string;
    readonly threadsRelaxed?: string;
  };
  /** entry name -> its kernels in dispatch order (the module's export of that name calls them). */
  readonly kernels: Readonly<Record<string, readonly KernelSpec[]>>;
}

export interface WebGpuKernelSpec extends KernelSpec {
  /** Its shader module: an index into the target's `modules`. */
  readonly module: number;
  /** The module's compute entry point. */
  readonly entryPoint: string;
  /** The arena chunk each binding holds: `@binding(i)` is chunk `bindings[i]`. */
  readonly bindings: readonly number[];
  /** The uniform at `@binding(bindings.length)` when not empty: the element offsets (4-byte words,
   *  inside their chunks) the module reads as its fields b0, b1, ... */
  readonly offsets: readonly number[];
  /** Workgroup counts of the dispatch (each 1 to 65,535). */
  readonly workgroups: readonly [number, number, number];
}

/** Where a buffer of the memory plan lives on the GPU: its chunk and byte offset in it. */
export interface GpuPlace {
  readonly chunk: number;
  readonly offset: number;
}

export interface WebGpuTarget {
  /** The WGSL file: every shader module, one after another. */
  readonly file: string;
  /** Byte ranges [start, end) of `file`, each one whole WGSL module (kernels with the same code share one). */
  readonly modules: readonly (readonly [number, number])[];
  /** Byte size of each arena chunk: one storage buffer each, a window of the arena. */
  readonly chunks: readonly number[];
  /** Every buffer of the memory plan: its chunk and offset (the arena offset minus the chunk's start). */
  readonly places: Readonly<Record<string, GpuPlace>>;
  /** entry name -> its kernels in dispatch order. */
  readonly kernels: Readonly<Record<string, readonly WebGpuKernelSpec[]>>;
}

export interface FileSpec {
  /** Lowercase hex sha-256 of the file's bytes. */
  readonly sha256: string;
  readonly bytes: number;
}

export interface Manifest {
  readonly format: typeof FORMAT;
  /** 'major.minor' */
  readonly version: string;
  readonly model: { readonly name: string; readonly batch: number };
  readonly entries: readonly EntrySpec[];
  readonly params: readonly ParamSpec[];
  readonly memory: MemorySpec;
  /** The safetensors file holding every param's value at load. */
  readonly weights: string;
  readonly targets: { readonly wasm?: WasmTarget; readonly webgpu?: WebGpuTarget };
  /** Every file the manifest names, with its hash; the runtime checks each before use. */
  readonly files: Readonly<Record<string, FileSpec>>;
  /** sha-256 of manifest.json's own bytes with this value written as 64 zeros (`sealManifest`):
   *  a damaged manifest is refused like a damaged file. */
  readonly manifestSha256?: string;
}

/** The placeholder `manifestSha256` holds while the manifest's bytes are hashed. */
export const UNSEALED = '0'.repeat(64);
/** Where the seal sits in manifest.json's text. */
export const SEAL = /"manifestSha256":\s*"([0-9a-f]{64})"/;

/** Number of elements of a shape. */
export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
/** `f32[64,10]` */
export const formatSpec = (t: TensorSpec): string => `${t.dtype}[${t.shape.join(',')}]`;
/** Bytes per arena element, whatever the dtype. */
export const ELEMENT_BYTES = 4;
