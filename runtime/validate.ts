// Validation before trust: a manifest is checked (version, schema, then every cross-reference, offset,
// size, overlap and init) before anything reads the arena through it; files against their hashes,
// weights against the params, each call's inputs against the entry. Every failure is a KilnError
// naming what was expected and what was found.
import { bad } from './errors.ts';
import {
  ELEMENT_BYTES,
  FORMAT,
  FORMAT_VERSION,
  SEAL,
  UNSEALED,
  formatSpec,
  sizeOf,
  type BufferSpec,
  type DType,
  type IOSpec,
  type KernelSpec,
  type Manifest,
} from './manifest.ts';
import type { NamedArray } from './safetensors.ts';
import { checkSchema, type Schema } from './schema.ts';
import SCHEMA from './manifest.schema.json' with { type: 'json' };
import { checkWebGpuTarget } from './wgsl-artifact.ts';

/** wasm32's address space: no arena can be larger. */
export const MAX_ARENA_BYTES = 2 ** 32;

const major = (v: string): number => Number(v.split('.')[0]);

/** Reads manifest.json's bytes: JSON, then the version, then its seal (the sha-256 of its own bytes,
 *  `manifestSha256`), then everything parseManifest checks. */
export async function readManifest(bytes: Uint8Array): Promise<Manifest> {
  let text = '';
  let json: unknown;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    json = JSON.parse(text);
  } catch (e) {
    bad('K7001', `manifest.json: expected UTF-8 JSON, found a parse error (${(e as Error).message})`);
  }
  checkVersion(json);
  const seal = SEAL.exec(text);
  const claimed = (json as { manifestSha256?: unknown }).manifestSha256;
  if (!seal || claimed !== seal[1])
    bad(
      'K7001',
      `manifest.json: expected one "manifestSha256": "<64 hex digits>" field, found ${seal ? 'a mismatch between text and value' : 'none'}`,
    );
  const zeroed = new TextEncoder().encode(
    text.slice(0, seal.index) + text.slice(seal.index).replace(seal[1]!, UNSEALED),
  );
  const h = await sha256Hex(zeroed);
  if (h !== seal[1]) bad('K7004', `manifest.json: expected sha-256 ${seal[1]} (its manifestSha256), found ${h}`);
  return parseManifest(json);
}

function checkVersion(json: unknown): void {
  const o = json as { format?: unknown; version?: unknown };
  if (typeof o !== 'object' || o === null || o.format !== FORMAT)
    bad('K7001', `manifest.json: expected format "${FORMAT}", found ${JSON.stringify(o?.format)}`);
  if (typeof o.version !== 'string' || !/^\d+\.\d+$/.test(o.version))
    bad('K7001', `manifest.json: expected a version 'major.minor', found ${JSON.stringify(o.version)}`);
  if (major(o.version) !== major(FORMAT_VERSION)) {
    bad(
      'K7003',
      `manifest.json: artifact format version ${o.version}, this runtime reads version ${FORMAT_VERSION} (major ${major(FORMAT_VERSION)}); ${major(o.version) > major(FORMAT_VERSION) ? 'update the kiln runtime' : 'recompile the model'}`,
    );
  }
}

/** Checks a parsed manifest: version, schema, cross-references, memory plan. */
export function parseManifest(json: unknown): Manifest {
  checkVersion(json);
  const err = checkSchema(json, SCHEMA as Schema);
  if (err) bad('K7001', `manifest.json: ${err}`);
  const m = json as Manifest;
  checkStructure(m);
  checkMemory(m);
  if (m.targets.webgpu) checkWebGpuTarget(m, m.targets.webgpu);
  return m;
}

function unique(what: string, names: readonly string[]): void {
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) bad('K7001', `manifest.json: expected unique ${what} names, found '${n}' twice`);
    seen.add(n);
  }
}

function checkStructure(m: Manifest): void {
  const bufs = new Map(m.memory.buffers.map((b) => [b.name, b]));
  unique(
    'buffer',
    m.memory.buffers.map((b) => b.name),
  );
  unique(
    'param',
    m.params.map((p) => p.name),
  );
  unique(
    'entry',
    m.entries.map((e) => e.name),
  );
  const typed = (
    where: string,
    x: { dtype: DType; shape: readonly number[]; buffer: string },
    kind: BufferSpec['kind'],
  ): void => {
    const b = bufs.get(x.buffer);
    if (!b) bad('K7001', `manifest.json: ${where} names buffer '${x.buffer}', which the memory plan does not declare`);
    if (b.kind !== kind || b.dtype !== x.dtype || b.size !== sizeOf(x.shape)) {
      bad(
        'K7005',
        `manifest.json: ${where} is ${formatSpec(x)} in a ${kind} buffer; buffer '${b.name}' is a ${b.kind} buffer of ${b.size} ${b.dtype} elements`,
      );
    }
  };
  const weights = new Set(m.params.filter((p) => p.role === 'weight').map((p) => p.name));
  for (const p of m.params) {
    typed(`param '${p.name}'`, p, 'param');
    if (p.role === 'optimizer-slot' && (p.of === undefined || !weights.has(p.of)))
      bad(
        'K7001',
        `manifest.json: optimizer slot '${p.name}' expected to name a weight in 'of', found ${JSON.stringify(p.of)}`,
      );
  }
  const owned = new Set(m.params.map((p) => p.buffer));
  for (const b of m.memory.buffers)
    if (b.kind === 'param' && !owned.has(b.name))
      bad('K7001', `manifest.json: param buffer '${b.name}' belongs to no param`);
  for (const e of m.entries) {
    unique(
      `${e.name} input`,
      e.inputs.map((i) => i.name),
    );
    unique(
      `${e.name} output`,
      e.outputs.map((i) => i.name),
    );
    e.inputs.forEach((i) => typed(`${e.name} input '${i.name}'`, i, 'input'));
    e.outputs.forEach((o) => typed(`${e.name} output '${o.name}'`, o, 'output'));
    for (const i of [...e.inputs, ...e.outputs]) {
      if (i.range && (i.dtype !== 'i32' || !(i.range[0] < i.range[1])))
        bad(
          'K7001',
          `manifest.json: ${e.name} '${i.name}' expected an integer range [lo, hi) with lo < hi on an i32 value, found ${formatSpec(i)} with range ${JSON.stringify(i.range)}`,
        );
    }
  }
  const files = [m.weights, ...Object.values(m.targets.wasm?.files ?? {}), m.targets.webgpu?.file];
  for (const f of files)
    if (f !== undefined && !Object.hasOwn(m.files, f))
      bad('K7001', `manifest.json: file '${f}' expected in 'files' with its sha-256, found none`);
  if (!m.targets.wasm && !m.targets.webgpu)
    bad('K7001', 'manifest.json: expected at least one target (wasm or webgpu), found none');
  for (const [target, t] of Object.entries(m.targets) as [
    string,
    { kernels: Record<string, readonly KernelSpec[]> } | undefined,
  ][]) {
    if (!t) continue;
    const have = Object.keys(t.kernels).sort().join(', ');
    const want = m.entries
      .map((e) => e.name)
      .sort()
      .join(', ');
    if (have !== want)
      bad('K7001', `manifest.json: targets.${target} expected kernels for entries ${want}, found ${have || 'none'}`);
    for (const [entry, ks] of Object.entries(t.kernels)) {
      for (const k of ks) {
        for (const b of [...k.reads, ...k.writes])
          if (!bufs.has(b))
            bad(
              'K7001',
              `manifest.json: ${target} kernel ${entry}/${k.name} names buffer '${b}', which the memory plan does not declare`,
            );
        for (const b of k.writes)
          if (bufs.get(b)!.kind === 'constant')
            bad('K7005', `manifest.json: ${target} kernel ${entry}/${k.name} writes constant buffer '${b}'`);
      }
    }
  }
}

const end = (b: BufferSpec): number => b.offset + Math.max(1, b.size) * ELEMENT_BYTES;
const overlaps = (a: BufferSpec, b: BufferSpec): boolean => a.offset < end(b) && b.offset < end(a);

function checkMemory(m: Manifest): void {
  const { arenaBytes, buffers } = m.memory;
  if (arenaBytes > MAX_ARENA_BYTES)
    bad('K7005', `manifest.json: arena of ${arenaBytes} bytes, expected at most ${MAX_ARENA_BYTES} (wasm32)`);
  for (const b of buffers) {
    const last = b.offset + b.size * ELEMENT_BYTES;
    if (b.offset % 16 !== 0)
      bad('K7005', `manifest.json: buffer '${b.name}' at offset ${b.offset}, expected a multiple of 16`);
    if (!Number.isSafeInteger(b.size * ELEMENT_BYTES) || !Number.isSafeInteger(last) || last > arenaBytes) {
      bad(
        'K7005',
        `manifest.json: buffer '${b.name}' spans bytes [${b.offset}, ${last}), expected inside the ${arenaBytes}-byte arena`,
      );
    }
    if (b.kind === 'constant' && b.init?.length !== b.size)
      bad(
        'K7005',
        `manifest.json: constant buffer '${b.name}' expected exactly ${b.size} init values, found ${b.init?.length ?? 'none'}`,
      );
    if (b.kind !== 'constant' && b.init !== undefined)
      bad('K7005', `manifest.json: ${b.kind} buffer '${b.name}' has init values; only constant buffers have them`);
  }
  // Persistent buffers (params, constants) share bytes with nothing.
  const persistent = buffers.filter((b) => b.kind === 'param' || b.kind === 'constant');
  for (const a of persistent) {
    for (const b of buffers)
      if (a !== b && overlaps(a, b))
        bad(
          'K7005',
          `manifest.json: ${a.kind} buffer '${a.name}' [${a.offset}, ${end(a)}) overlaps buffer '${b.name}' [${b.offset}, ${end(b)})`,
        );
  }
  // Within one call, buffers alive at the same time share no bytes: inputs and outputs live for the
  // whole call, the others from the first kernel that touches them to the last.
  for (const [target, t] of Object.entries(m.targets) as [
    string,
    { kernels: Record<string, readonly KernelSpec[]> } | undefined,
  ][]) {
    if (!t) continue;
    for (const e of m.entries) {
      const ks = t.kernels[e.name]!;
      const life = new Map<string, [number, number]>();
      for (const io of [...e.inputs, ...e.outputs]) life.set(io.buffer, [-1, ks.length]);
      ks.forEach((k, i) => {
        for (const b of [...k.reads, ...k.writes]) {
          const l = life.get(b);
          life.set(b, l ? [Math.min(l[0], i), Math.max(l[1], i)] : [i, i]);
        }
      });
      const live = [...life]
        .map(([name, l]) => ({ b: m.memory.buffers.find((x) => x.name === name)!, l }))
        .filter((x) => x.b.kind !== 'param' && x.b.kind !== 'constant');
      for (let i = 0; i < live.length; i++) {
        for (let j = i + 1; j < live.length; j++) {
          const [x, y] = [live[i]!, live[j]!];
          if (x.l[0] <= y.l[1] && y.l[0] <= x.l[1] && overlaps(x.b, y.b)) {
            bad(
              'K7005',
              `manifest.json: ${target} entry ${e.name}: buffers '${x.b.name}' [${x.b.offset}, ${end(x.b)}) and '${y.b.name}' [${y.b.offset}, ${end(y.b)}) overlap while both are alive`,
            );
          }
        }
      }
    }
  }
}

/** Lowercase hex sha-256 (WebCrypto: browsers, Node 20+, Deno, Bun). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  let s = '';
  for (const b of d) s += b.toString(16).padStart(2, '0');
  return s;
}

/** A file's bytes against the manifest's size and sha-256, before anything reads them. */
export async function checkFile(m: Manifest, name: string, bytes: Uint8Array): Promise<void> {
  const f = m.files[name];
  if (!f) bad('K7001', `${name}: expected in the manifest's files, found none`);
  if (bytes.length !== f.bytes)
    bad('K7004', `${name}: expected ${f.bytes} bytes with sha-256 ${f.sha256}, found ${bytes.length} bytes`);
  const h = await sha256Hex(bytes);
  if (h !== f.sha256) bad('K7004', `${name}: expected sha-256 ${f.sha256}, found ${h}`);
}

const SAFE_DTYPE: Record<DType, NamedArray['dtype']> = { f32: 'F32', i32: 'I32', bool: 'BOOL' };

/** The weights file's tensors against the params: the same names, dtypes and exact shapes. */
export function checkWeights(m: Manifest, tensors: Readonly<Record<string, NamedArray>>, file = m.weights): void {
  for (const p of m.params) {
    const t = tensors[p.name];
    if (!t) bad('K7006', `${file}: expected tensor '${p.name}' (${formatSpec(p)}, ${p.role}), found none`);
    if (t.dtype !== SAFE_DTYPE[p.dtype] || t.shape.join(',') !== p.shape.join(',')) {
      bad(
        'K7006',
        `${file}: tensor '${p.name}' expected ${SAFE_DTYPE[p.dtype]}[${p.shape.join(',')}], found ${t.dtype}[${t.shape.join(',')}]`,
      );
    }
  }
  const known = new Set(m.params.map((p) => p.name));
  for (const name of Object.keys(tensors))
    if (!known.has(name))
      bad(
        'K7006',
        `${file}: tensor '${name}' is not a param of model ${m.model.name}; expected only ${[...known].slice(0, 8).join(', ')}${known.size > 8 ? ', ...' : ''}`,
      );
}

/** A value going into a call: a typed array of the dtype's kind, or one with its shape. */
export type TensorData = Float32Array | Int32Array | Uint8Array;
export type TensorInput = TensorData | { readonly data: TensorData; readonly shape?: readonly number[] };

const ARRAY: Record<DType, string> = { f32: 'Float32Array', i32: 'Int32Array', bool: 'Uint8Array' };
const kindOf = (d: TensorData): string =>
  d instanceof Float32Array
    ? 'Float32Array'
    : d instanceof Int32Array
      ? 'Int32Array'
      : d instanceof Uint8Array
        ? 'Uint8Array'
        : Object.prototype.toString.call(d).slice(8, -1);

/** One input against its spec: typed array kind, shape (when given), length, integer range. */
export function checkInput(where: string, spec: IOSpec, given: TensorInput | undefined): TensorData {
  if (given === undefined || given === null)
    bad('K7002', `${where} '${spec.name}': expected ${formatSpec(spec)}, found nothing`);
  const data = ArrayBuffer.isView(given) ? given : (given as { data: TensorData }).data;
  const shape = ArrayBuffer.isView(given) ? undefined : (given as { shape?: readonly number[] }).shape;
  if (!ArrayBuffer.isView(data) || kindOf(data) !== ARRAY[spec.dtype])
    bad(
      'K7002',
      `${where} '${spec.name}': expected a ${ARRAY[spec.dtype]} for ${formatSpec(spec)}, found ${data === undefined ? 'nothing' : kindOf(data)}`,
    );
  if (shape !== undefined && shape.join(',') !== spec.shape.join(','))
    bad('K7002', `${where} '${spec.name}': expected shape [${spec.shape.join(',')}], found [${shape.join(',')}]`);
  if (data.length !== sizeOf(spec.shape))
    bad(
      'K7002',
      `${where} '${spec.name}': expected ${sizeOf(spec.shape)} elements for ${formatSpec(spec)}, found ${data.length}`,
    );
  if (spec.range) {
    const [lo, hi] = spec.range;
    for (let i = 0; i < data.length; i++) {
      const v = data[i]!;
      if (v < lo || v >= hi)
        bad('K7002', `${where} '${spec.name}': expected values in [${lo}, ${hi}), found ${v} at element ${i}`);
    }
  }
  return data;
}

/** A call's inputs: exactly the entry's names, each checked. */
export function checkInputs(
  entry: { name: string; inputs: readonly IOSpec[] },
  given: Readonly<Record<string, TensorInput>>,
): TensorData[] {
  if (typeof given !== 'object' || given === null)
    bad(
      'K7002',
      `${entry.name}: expected an object of inputs {${entry.inputs.map((i) => i.name).join(', ')}}, found ${String(given)}`,
    );
  for (const k of Object.keys(given)) {
    if (!entry.inputs.some((i) => i.name === k))
      bad(
        'K7002',
        `${entry.name}: unknown input '${k}'; expected ${entry.inputs.map((i) => `${i.name}: ${formatSpec(i)}`).join(', ')}`,
      );
  }
  return entry.inputs.map((i) => checkInput(`${entry.name}: input`, i, given[i.name]));
}
