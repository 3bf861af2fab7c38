// Program -> Manifest: the compiler's internal Program mapped onto the artifact's own versioned format
// (runtime/manifest.ts), which is all an executor reads.
import type { Kernel, Program } from '../../ir/kernel.ts';
import {
  FORMAT,
  FORMAT_VERSION,
  UNSEALED,
  type FileSpec,
  type IOSpec,
  type KernelSpec,
  type Manifest,
  type ParamRole,
  type ParamSpec,
  type WasmTarget,
  type WebGpuTarget,
} from '../../runtime/manifest.ts';
import { sha256Hex } from '../../runtime/validate.ts';
import { buffersRead, buffersWritten } from '../../ir/kernel-walk.ts';
import { ITERATIONS } from '../passes/train-step.ts';

/** What the compiler knows of each param beyond its type (from the model's trace). */
export interface ParamInfo {
  readonly role: ParamRole;
  /** optimizer-slot: the weight it belongs to. */
  readonly of?: string;
}

export interface ManifestOptions {
  /** The compile-time batch size (default: the first input's leading axis, else 1). */
  readonly batch?: number;
  /** Role of each param by name (default: `paramInfo` from names alone). */
  readonly params?: (name: string) => ParamInfo;
  /** Integer ranges of inputs (not outputs) by name: min <= v < max. */
  readonly ranges?: Readonly<Record<string, readonly [number, number]>>;
  /** Every file the artifact holds (`fileSpecs`). */
  readonly files?: Readonly<Record<string, FileSpec>>;
  /** The wasm target's files; null: no wasm target. */
  readonly wasm?: WasmTarget['files'] | null;
  /** The webgpu target (compiler/artifact/webgpu.ts's packWgsl), when compiled for it. */
  readonly webgpu?: WebGpuTarget;
  readonly weights?: string;
}

/** A kernel's name and the buffers it reads and writes, as each target's manifest section lists them. */
export const kernelSpec = (k: Kernel): KernelSpec => ({
  name: k.name,
  reads: [...buffersRead(k)],
  writes: [...buffersWritten(k)],
});

/** A param's role from its name and the other params' names: `optimizer/iterations` counts steps,
 *  `<weight>/<slot>` is an optimizer slot of a weight, an i32 state is an RNG counter, other
 *  state (`stateful`) a BatchNorm statistic. */
export function paramInfo(
  name: string,
  all: ReadonlySet<string>,
  stateful: ReadonlySet<string> = new Set(),
): ParamInfo {
  if (name === ITERATIONS) return { role: 'step-counter' };
  const cut = name.lastIndexOf('/');
  const of = cut > 0 ? name.slice(0, cut) : '';
  if (all.has(of) && !stateful.has(name)) return { role: 'optimizer-slot', of };
  if (stateful.has(name)) return { role: name.endsWith('/counter') ? 'rng-counter' : 'batchnorm-statistic' };
  return { role: 'weight' };
}

/** Size and sha-256 of each file. */
export async function fileSpecs(files: Readonly<Record<string, Uint8Array>>): Promise<Record<string, FileSpec>> {
  const out: Record<string, FileSpec> = {};
  for (const [name, bytes] of Object.entries(files))
    out[name] = { sha256: await sha256Hex(bytes), bytes: bytes.length };
  return out;
}

/** manifest.json's text, sealed: `manifestSha256` is the sha-256 of the text with it as 64 zeros. */
export async function sealManifest(m: Manifest): Promise<string> {
  const text = JSON.stringify({ ...m, manifestSha256: UNSEALED }, null, 1) + '\n';
  const field = `"manifestSha256": "${UNSEALED}"`;
  return text.replace(field, field.replace(UNSEALED, await sha256Hex(new TextEncoder().encode(text))));
}

/** The manifest of a compiled Program. */
export function toManifest(p: Program, opts: ManifestOptions = {}): Manifest {
  const names = new Set(p.params.map((x) => x.name));
  const info = opts.params ?? ((n: string) => paramInfo(n, names));
  const paramBufs = new Set(p.params.map((x) => x.buf));
  const io = (x: Program['entries'][number]['inputs'][number], input = false): IOSpec => {
    const range = input ? opts.ranges?.[x.name] : undefined;
    return {
      name: x.name,
      dtype: x.type.dtype,
      shape: [...x.type.shape],
      buffer: x.buf,
      ...(range ? { range: [range[0], range[1]] as const } : {}),
    };
  };
  const params: ParamSpec[] = p.params.map((x) => {
    const i = info(x.name);
    return {
      name: x.name,
      dtype: x.type.dtype,
      shape: [...x.type.shape],
      role: i.role,
      buffer: x.buf,
      ...(i.of ? { of: i.of } : {}),
    };
  });
  const wasmFiles = opts.wasm === undefined ? { simd: 'program.wasm' } : opts.wasm;
  return {
    format: FORMAT,
    version: FORMAT_VERSION,
    model: { name: p.name, batch: opts.batch ?? p.entries[0]?.inputs[0]?.type.shape[0] ?? 1 },
    entries: p.entries.map((e) => ({
      name: e.name,
      inputs: e.inputs.map((i) => io(i, true)),
      outputs: e.outputs.map((o) => io(o)),
    })),
    params,
    memory: {
      arenaBytes: p.memory.arenaBytes,
      buffers: p.buffers.map((b) => ({
        name: b.name,
        dtype: b.dtype,
        kind: b.role === 'param' ? (paramBufs.has(b.name) ? 'param' : 'constant') : b.role,
        offset: p.memory.offsets[b.name]!,
        size: b.size,
        ...(b.init ? { init: [...b.init] } : {}),
      })),
    },
    weights: opts.weights ?? 'weights.safetensors',
    targets: {
      ...(wasmFiles && {
        wasm: {
          files: wasmFiles,
          kernels: Object.fromEntries(p.entries.map((e) => [e.name, e.kernels.map(kernelSpec)])),
        },
      }),
      ...(opts.webgpu ? { webgpu: opts.webgpu } : {}),
    },
    files: opts.files ?? {},
  };
}
