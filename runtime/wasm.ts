// The wasm executor: instantiates a compiled program (relaxed SIMD when the engine has it, plain
// SIMD otherwise), copies inputs into the arena, calls one exported entry (which runs all of its
// kernels), and copies outputs back. No per-kernel JS; no compiler code.
import type { BufferDecl, EntryPoint, MemoryPlan, Program } from '../ir/kernel.ts';
import { RuntimeError } from './errors.ts';

type TensorType = EntryPoint['inputs'][number]['type'];
type DType = TensorType['dtype'];
export type TensorData = Float32Array | Int32Array | Uint8Array;

/** A value going in or coming out: a typed array of the dtype's kind (f32: Float32Array, i32: Int32Array, bool: Uint8Array). */
export interface RuntimeTensor {
  readonly type: TensorType;
  readonly data: TensorData;
}

/** What the executor needs of a compiled Program (a Program itself qualifies). */
export interface ProgramManifest {
  readonly name: string;
  readonly buffers: readonly BufferDecl[];
  readonly params: Program['params'];
  readonly entries: readonly Pick<EntryPoint, 'name' | 'inputs' | 'outputs'>[];
  readonly memory: MemoryPlan;
}

export interface WasmBinaries {
  readonly simd: Uint8Array;
  readonly relaxed?: Uint8Array | undefined;
}

// (module (func (result v128) (f32x4.relaxed_madd (v128.const 0) (v128.const 0) (v128.const 0))))
const RELAXED_PROBE = 'AGFzbQEAAAABBQFgAAF7AwIBAAo9ATsA/QwAAAAAAAAAAAAAAAAAAAAA/QwAAAAAAAAAAAAAAAAAAAAA/QwAAAAAAAAAAAAAAAAAAAAA/YUCCw==';

/** Whether this engine runs relaxed SIMD (f32x4.relaxed_madd). */
export function relaxedSimdSupported(): boolean {
  const bin = Uint8Array.from(atob(RELAXED_PROBE), (c) => c.charCodeAt(0));
  return WebAssembly.validate(bin);
}

const size = (t: TensorType): number => t.shape.reduce((a, b) => a * b, 1);
const fmt = (t: TensorType): string => `${t.dtype}[${t.shape.join(',')}]`;
const ARRAY: Record<DType, string> = { f32: 'Float32Array', i32: 'Int32Array', bool: 'Uint8Array' };

function alloc(t: TensorType): TensorData {
  const n = size(t);
  return t.dtype === 'f32' ? new Float32Array(n) : t.dtype === 'i32' ? new Int32Array(n) : new Uint8Array(n);
}

export class WasmExecutor {
  private readonly f32: Float32Array;
  private readonly i32: Int32Array;
  private readonly bufs = new Map<string, BufferDecl>();

  constructor(
    readonly manifest: ProgramManifest,
    readonly instance: WebAssembly.Instance,
    /** Which binary runs: 'relaxed' or 'simd'. */
    readonly variant: 'relaxed' | 'simd',
  ) {
    const mem = instance.exports['memory'] as WebAssembly.Memory;
    this.f32 = new Float32Array(mem.buffer);
    this.i32 = new Int32Array(mem.buffer);
    for (const b of manifest.buffers) {
      this.bufs.set(b.name, b);
      if (b.init) this.put(b.name, b.init);
    }
  }

  private offset(buf: string): number {
    const o = this.manifest.memory.offsets[buf];
    if (o === undefined || o % 4 !== 0) throw new RuntimeError('K7001', `program @${this.manifest.name}: buffer '${buf}' has no valid offset in the memory plan`);
    return o / 4;
  }

  private put(buf: string, data: ArrayLike<number>): void {
    const b = this.bufs.get(buf)!;
    const at = this.offset(buf);
    if (b.dtype === 'f32') this.f32.set(data, at);
    else this.i32.set(data, at);
  }

  private take(buf: string, type: TensorType): RuntimeTensor {
    const data = alloc(type);
    const at = this.offset(buf);
    const src = type.dtype === 'f32' ? this.f32 : this.i32;
    data.set(src.subarray(at, at + data.length));
    return { type, data };
  }

  private check(kind: string, name: string, t: TensorType, given: RuntimeTensor | TensorData | undefined): TensorData {
    if (given === undefined) throw new RuntimeError('K7002', `${kind} '${name}' is missing (${fmt(t)})`);
    const data = 'data' in given && !ArrayBuffer.isView(given) ? given.data : (given as TensorData);
    if ('type' in given && !ArrayBuffer.isView(given) && fmt(given.type) !== fmt(t)) {
      throw new RuntimeError('K7002', `${kind} '${name}' is ${fmt(given.type)}, expected ${fmt(t)}`);
    }
    if (data.constructor.name !== ARRAY[t.dtype]) throw new RuntimeError('K7002', `${kind} '${name}' is a ${data.constructor.name}, expected a ${ARRAY[t.dtype]} for ${fmt(t)}`);
    if (data.length !== size(t)) throw new RuntimeError('K7002', `${kind} '${name}' has ${data.length} elements, expected ${size(t)} for ${fmt(t)}`);
    return data;
  }

  /** Runs an entry point: copies the inputs in, calls it, returns copies of its outputs. */
  run(entry: string, inputs: Readonly<Record<string, RuntimeTensor | TensorData>> = {}): Record<string, RuntimeTensor> {
    const e = this.manifest.entries.find((x) => x.name === entry);
    if (!e) throw new RuntimeError('K7002', `no entry point '${entry}' in program @${this.manifest.name}; it has ${this.manifest.entries.map((x) => x.name).join(', ')}`);
    for (const k of Object.keys(inputs)) {
      if (!e.inputs.some((i) => i.name === k)) throw new RuntimeError('K7002', `${entry}: unknown input '${k}'; inputs are ${e.inputs.map((i) => i.name).join(', ')}`);
    }
    for (const i of e.inputs) this.put(i.buf, this.check(`${entry}: input`, i.name, i.type, inputs[i.name]));
    (this.instance.exports[entry] as () => void)();
    const out: Record<string, RuntimeTensor> = {};
    for (const o of e.outputs) out[o.name] = this.take(o.buf, o.type);
    return out;
  }

  private param(name: string): Program['params'][number] {
    const p = this.manifest.params.find((x) => x.name === name);
    if (!p) throw new RuntimeError('K7002', `no param '${name}' in program @${this.manifest.name}`);
    return p;
  }

  readParam(name: string): RuntimeTensor {
    const p = this.param(name);
    return this.take(p.buf, p.type);
  }

  writeParam(name: string, value: RuntimeTensor | TensorData): void {
    const p = this.param(name);
    this.put(p.buf, this.check('param', name, p.type, value));
  }
}

/** Instantiates a compiled program: the relaxed binary when given and supported, else plain SIMD. */
export async function loadWasm(bytes: Uint8Array | WasmBinaries, manifest: ProgramManifest): Promise<WasmExecutor> {
  const bins: WasmBinaries = bytes instanceof Uint8Array ? { simd: bytes } : bytes;
  const relaxed = bins.relaxed !== undefined && relaxedSimdSupported();
  const bin = relaxed ? bins.relaxed! : bins.simd;
  const { instance } = await WebAssembly.instantiate(bin as Uint8Array<ArrayBuffer>, {});
  if (!(instance.exports['memory'] instanceof WebAssembly.Memory)) throw new RuntimeError('K7001', `program @${manifest.name}: the module exports no memory`);
  const mem = instance.exports['memory'];
  if (mem.buffer.byteLength < manifest.memory.arenaBytes) throw new RuntimeError('K7001', `program @${manifest.name}: module memory ${mem.buffer.byteLength} bytes < arena ${manifest.memory.arenaBytes}`);
  for (const e of manifest.entries) {
    if (typeof instance.exports[e.name] !== 'function') throw new RuntimeError('K7001', `program @${manifest.name}: the module does not export entry '${e.name}'`);
  }
  return new WasmExecutor(manifest, instance, relaxed ? 'relaxed' : 'simd');
}
