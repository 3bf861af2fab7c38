// The wasm executor: instantiates a compiled module (relaxed SIMD when the engine has it, plain SIMD
// otherwise) against a checked manifest, copies inputs into the arena, calls one exported entry
// (which runs all of its kernels), and copies outputs back. No per-kernel JS; no compiler code.
import { bad } from './errors.ts';
import {
  ELEMENT_BYTES,
  sizeOf,
  type BufferSpec,
  type EntrySpec,
  type IOSpec,
  type Manifest,
  type ParamSpec,
  type TensorSpec,
} from './manifest.ts';
import { startPool, type ThreadPool } from './threads.ts';
import { checkInput, checkInputs, type TensorData, type TensorInput } from './validate.ts';

export type { TensorData, TensorInput };

/** A value coming out: its spec and a typed array of the dtype's kind (f32: Float32Array, i32: Int32Array, bool: Uint8Array). */
export interface RuntimeTensor {
  readonly type: TensorSpec;
  readonly data: TensorData;
}

export interface WasmBinaries {
  readonly simd: Uint8Array;
  readonly relaxed?: Uint8Array | undefined;
  /** The threaded variants (imported shared memory), when the artifact has them. */
  readonly threads?: { readonly simd: Uint8Array; readonly relaxed?: Uint8Array | undefined } | undefined;
}

// (module (func (result v128) (f32x4.relaxed_madd (v128.const 0) (v128.const 0) (v128.const 0))))
const RELAXED_PROBE =
  'AGFzbQEAAAABBQFgAAF7AwIBAAo9ATsA/QwAAAAAAAAAAAAAAAAAAAAA/QwAAAAAAAAAAAAAAAAAAAAA/QwAAAAAAAAAAAAAAAAAAAAA/YUCCw==';

/** Whether this engine runs relaxed SIMD (f32x4.relaxed_madd). */
export function relaxedSimdSupported(): boolean {
  const bin = Uint8Array.from(atob(RELAXED_PROBE), (c) => c.charCodeAt(0));
  return WebAssembly.validate(bin);
}

function alloc(t: TensorSpec): TensorData {
  const n = sizeOf(t.shape);
  return t.dtype === 'f32' ? new Float32Array(n) : t.dtype === 'i32' ? new Int32Array(n) : new Uint8Array(n);
}

export class WasmExecutor {
  readonly backend = 'wasm';
  private readonly f32: Float32Array;
  private readonly i32: Int32Array;
  private readonly bufs: Map<string, BufferSpec>;
  private readonly entries: Map<string, EntrySpec>;
  private readonly params: Map<string, ParamSpec>;
  /** Ends the worker threads, if any (the executor may not run after). */
  readonly close: () => void;

  constructor(
    /** A manifest checked by parseManifest. */
    readonly manifest: Manifest,
    readonly instance: WebAssembly.Instance,
    /** Which binary runs: 'relaxed' or 'simd'. */
    readonly variant: 'relaxed' | 'simd',
    /** The threads running each entry, and (threaded) the pool's shared memory and its close. */
    readonly threads = 1,
    pool?: ThreadPool,
  ) {
    const mem = pool?.memory ?? (instance.exports['memory'] as WebAssembly.Memory);
    this.close = pool?.close ?? ((): void => {});
    this.f32 = new Float32Array(mem.buffer);
    this.i32 = new Int32Array(mem.buffer);
    this.bufs = new Map(manifest.memory.buffers.map((b) => [b.name, b]));
    this.entries = new Map(manifest.entries.map((e) => [e.name, e]));
    this.params = new Map(manifest.params.map((p) => [p.name, p]));
    for (const b of manifest.memory.buffers) if (b.init) this.put(b.name, b.init);
  }

  private put(buf: string, data: ArrayLike<number>): void {
    const b = this.bufs.get(buf)!;
    const at = b.offset / ELEMENT_BYTES;
    if (b.dtype === 'f32') this.f32.set(data, at);
    else this.i32.set(data, at);
  }

  private take(buf: string, type: TensorSpec): RuntimeTensor {
    const data = alloc(type);
    const at = this.bufs.get(buf)!.offset / ELEMENT_BYTES;
    const src = type.dtype === 'f32' ? this.f32 : this.i32;
    data.set(src.subarray(at, at + data.length));
    return { type: { dtype: type.dtype, shape: type.shape }, data };
  }

  /** Runs an entry point: checks and copies the inputs in, calls it, returns copies of its outputs. */
  run(entry: string, inputs: Readonly<Record<string, TensorInput>> = {}): Record<string, RuntimeTensor> {
    const e = this.entries.get(entry);
    if (!e)
      bad(
        'K7002',
        `model ${this.manifest.model.name}: expected an entry point (${[...this.entries.keys()].join(', ')}), found '${entry}'`,
      );
    const data = checkInputs(e, inputs);
    // a threaded module's blocked workers start waking while the inputs are copied in
    (this.instance.exports['kiln_wake'] as (() => void) | undefined)?.();
    e.inputs.forEach((i, k) => this.put(i.buffer, data[k]!));
    (this.instance.exports[entry] as () => void)();
    const out: Record<string, RuntimeTensor> = {};
    for (const o of e.outputs) out[o.name] = this.take(o.buffer, o);
    return out;
  }

  private param(name: string): ParamSpec {
    const p = this.params.get(name);
    if (!p) bad('K7002', `model ${this.manifest.model.name}: expected a param name, found '${name}'`);
    return p;
  }

  readParam(name: string): RuntimeTensor {
    const p = this.param(name);
    return this.take(p.buffer, p);
  }

  writeParam(name: string, value: TensorInput): void {
    const p = this.param(name);
    const spec: IOSpec = { name, dtype: p.dtype, shape: p.shape, buffer: p.buffer };
    this.put(p.buffer, checkInput('param', spec, value));
  }
}

/** The imports of a threaded module: its shared memory, its thread's id, the thread count, and whether
 *  the thread may block in memory.atomic.wait32. */
const THREADED_IMPORTS = 'env.memory (memory), kiln.tid (global), kiln.nt (global), kiln.block (global)';

/** Checks a module's interface: no imports and an exported memory (threaded: THREADED_IMPORTS and the
 *  pool's exports), one exported function per entry. */
function checkModule(m: Manifest, mod: WebAssembly.Module, file: string, threaded: boolean): void {
  const imports = WebAssembly.Module.imports(mod)
    .map((i) => `${i.module}.${i.name} (${i.kind})`)
    .join(', ');
  if (imports !== (threaded ? THREADED_IMPORTS : ''))
    bad(
      'K7007',
      `${file}: expected a module ${threaded ? `importing ${THREADED_IMPORTS}` : 'with no imports'}, found ${imports || 'none'}`,
    );
  const exports = new Map(WebAssembly.Module.exports(mod).map((x) => [x.name, x.kind]));
  const own = threaded
    ? { kiln_worker: 'function', kiln_stop: 'function', kiln_scratch: 'global', kiln_thread_bytes: 'global' }
    : { memory: 'memory' };
  for (const [name, kind] of Object.entries(own))
    if (exports.get(name) !== kind)
      bad('K7007', `${file}: expected an exported ${kind} '${name}', found ${exports.get(name) ?? 'none'}`);
  for (const e of m.entries)
    if (exports.get(e.name) !== 'function')
      bad('K7007', `${file}: expected an exported function '${e.name}', found ${exports.get(e.name) ?? 'none'}`);
}

/** Instantiates a compiled program: the relaxed binary when given and supported (unless
 *  `relaxedSimd: false`), else plain SIMD; with `threads` > 1 and threaded binaries, their variant on a
 *  pool of that many threads. The manifest must come from parseManifest and the bytes must be checked
 *  against it (loadModel does both). */
export async function loadWasm(
  bytes: Uint8Array | WasmBinaries,
  manifest: Manifest,
  opts: { relaxedSimd?: boolean; threads?: number } = {},
): Promise<WasmExecutor> {
  const bins: WasmBinaries = bytes instanceof Uint8Array ? { simd: bytes } : bytes;
  const nt = opts.threads ?? 1;
  if (!Number.isInteger(nt) || nt < 1 || nt > MAX_THREADS)
    bad(
      'K7013',
      `loadModel: expected threads to be an integer from 1 to ${MAX_THREADS}, found ${String(opts.threads)}`,
    );
  const threaded = nt > 1 && bins.threads !== undefined;
  const set = threaded ? bins.threads! : bins;
  const relaxed = set.relaxed !== undefined && opts.relaxedSimd !== false && relaxedSimdSupported();
  const bin = relaxed ? set.relaxed! : set.simd;
  const files = manifest.targets.wasm?.files;
  const names = threaded ? { simd: files?.threads, relaxed: files?.threadsRelaxed } : files;
  const file = (relaxed ? names?.relaxed : names?.simd) ?? 'program.wasm';
  let mod: WebAssembly.Module;
  try {
    mod = await WebAssembly.compile(bin as Uint8Array<ArrayBuffer>);
  } catch (e) {
    return bad(
      'K7007',
      `${file}: expected a valid WebAssembly module, found one the engine refuses (${(e as Error).message})`,
    );
  }
  checkModule(manifest, mod, file, threaded);
  const variant = relaxed ? 'relaxed' : 'simd';
  if (threaded) {
    const pool = await startPool(mod, manifest.memory.arenaBytes, nt);
    return new WasmExecutor(manifest, pool.instance, variant, nt, pool);
  }
  const instance = await WebAssembly.instantiate(mod, {});
  const mem = instance.exports['memory'] as WebAssembly.Memory;
  if (mem.buffer.byteLength < manifest.memory.arenaBytes)
    bad(
      'K7007',
      `${file}: expected a memory of at least ${manifest.memory.arenaBytes} bytes (the arena), found ${mem.buffer.byteLength}`,
    );
  return new WasmExecutor(manifest, instance, variant);
}

/** The most threads a pool runs. */
export const MAX_THREADS = 64;
