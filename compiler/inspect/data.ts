// What `kiln inspect` knows about a compiled model, as plain JSON: the text of every stage, the
// optimized graphs with their fusion groups, every kernel with its source map, Kernel IR, WAT and
// cost, the memory plan and (when taken) a profile. The terminal views, the HTML report and an
// artifact's `inspect` section are all made from this one value, so a shipped model can be
// inspected without its source.

export const INSPECT_FORMAT = 'kiln-inspect';
export const INSPECT_VERSION = 1;

export interface SourceLoc {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

/** A pass's output text; `input` is the entry's graph as built. */
export interface PassText {
  readonly pass: string;
  readonly text: string;
}

/** A value of an entry's optimized graph (the graph fusion saw). */
export interface ValueInfo {
  /** `%3`, or `%x` for inputs and params. */
  readonly id: string;
  readonly kind: 'input' | 'param' | 'node';
  readonly op: string;
  /** `f32[64,10]` */
  readonly type: string;
  readonly inputs: readonly string[];
  readonly loc?: SourceLoc;
  /** Index of the fusion group that computes it (nodes only; a recomputed value lists its first). */
  readonly group?: number;
  /** Written to a buffer (inputs and params always are). */
  readonly stored: boolean;
}

export interface GroupInfo {
  readonly index: number;
  /** loop or contraction, a contraction with its core op: `contraction(conv2d)` */
  readonly head: string;
  /** The values it stores, in order. */
  readonly roots: readonly string[];
  /** The nodes it computes (stored or inlined), in graph order. */
  readonly nodes: readonly string[];
  /** The kernels it lowered to (a loop group may split). */
  readonly kernels: readonly string[];
}

export interface EntryInfo {
  readonly name: string;
  /** `input`, then each graph pass (simplify, cse, dce). */
  readonly passes: readonly PassText[];
  /** The fusion stage text. */
  readonly fused: string;
  readonly values: readonly ValueInfo[];
  readonly groups: readonly GroupInfo[];
  /** Kernel names in call order. */
  readonly kernels: readonly string[];
}

export interface KernelCostInfo {
  readonly flops: number;
  readonly bytesRead: number;
  readonly bytesWritten: number;
  /** FLOPs per byte moved. */
  readonly intensity: number;
}

export interface KernelInfo {
  readonly name: string;
  readonly entry: string;
  /** Its fusion group in the entry (none for the copy kernels of param updates and of hoisted operands). */
  readonly group?: number;
  /** loop, or contraction with the op it computes: `contraction(conv2d)` */
  readonly kind: string;
  /** The buffers it writes and reads, each with the IR value it holds when there is one. */
  readonly stores: readonly { readonly buf: string; readonly value?: string }[];
  readonly reads: readonly { readonly buf: string; readonly value?: string }[];
  /** The source locations of the nodes it computes, sorted, each once. */
  readonly locs: readonly SourceLoc[];
  readonly kir: string;
  /** Its WebAssembly function, with comments naming its IR values and source lines. */
  readonly wat: string;
  /** Its WGSL compute shader with the same comments (absent in data made before the WGSL target). */
  readonly wgsl?: string;
  readonly cost: KernelCostInfo;
}

export interface BufferInfo {
  readonly name: string;
  readonly role: string;
  readonly dtype: string;
  readonly bytes: number;
  readonly offset: number;
  /** Per entry: the first and last kernel index (in that entry's call order) that touch it. */
  readonly live: Readonly<Record<string, readonly [number, number]>>;
}

export interface KernelTiming {
  readonly ms: number;
  readonly gflops: number;
  readonly gbps: number;
}

export interface ProfileInfo {
  /** `wasm-relaxed`, `wasm-simd` or `webgpu`. */
  readonly target: string;
  /** The WebGPU adapter in words (webgpu only). */
  readonly adapter?: string;
  readonly reps: number;
  /** ms per call of each entry (the shipped build, no per-kernel ticks or timestamps). */
  readonly entryMs: Readonly<Record<string, number>>;
  readonly kernels: Readonly<Record<string, KernelTiming>>;
  /** Measured peaks of the target: GFLOP/s of a large matmul (wasm) or an FMA shader (webgpu), GB/s of a large copy. */
  readonly peaks: { readonly gflops: number; readonly gbps: number };
}

export interface InspectData {
  readonly format: typeof INSPECT_FORMAT;
  readonly version: typeof INSPECT_VERSION;
  readonly model: string;
  readonly batch: number;
  readonly train: boolean;
  /** The original graphs: `ir` (inference) and with `train` also `train` (the training step). */
  readonly graphs: Readonly<Record<string, string>>;
  readonly entries: readonly EntryInfo[];
  readonly kernels: readonly KernelInfo[];
  /** The Kernel IR program as lowered (`lowered`) and after each kernel pass (`specialize`, ...). */
  readonly kernelStages: readonly PassText[];
  /** The Kernel IR program with its memory plan (the `kernels` stage). */
  readonly program: string;
  readonly arenaBytes: number;
  readonly buffers: readonly BufferInfo[];
  readonly stats: {
    readonly ops: number;
    readonly kernels: number;
    readonly arenaBytes: number;
    readonly bytesMoved: number;
    readonly bytesMovedUnfused: number;
  };
  /** The lines of each source file a location names. */
  readonly sources: Readonly<Record<string, readonly string[]>>;
  /** One profile per target timed (`--profile --target`), wasm first. */
  readonly profiles?: readonly ProfileInfo[];
}
