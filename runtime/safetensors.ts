// safetensors: an 8-byte little-endian header length, a JSON header
// { name: { dtype, shape, data_offsets: [begin, end] }, __metadata__?: {...} }, then the raw bytes.
// Reading validates everything before trusting it: a hostile file is refused with a typed error.
import { KilnError } from './errors.ts';

export type SafeDType = 'F32' | 'I32' | 'BOOL';

export interface NamedArray {
  readonly dtype: SafeDType;
  readonly shape: readonly number[];
  readonly data: Float32Array | Int32Array | Uint8Array;
}

/** A safetensors file that cannot be read: a KilnError (K7006) naming the file. */
export class WeightsError extends KilnError {
  constructor(file: string, detail: string) {
    super('K7006', `${file}: ${detail}`);
  }
}

const BYTES: Record<SafeDType, number> = { F32: 4, I32: 4, BOOL: 1 };

export function encodeSafetensors(
  tensors: Readonly<Record<string, NamedArray>>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const name of names) {
    const t = tensors[name]!;
    const bytes = t.data.byteLength;
    header[name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8); // keep the data 8-byte aligned
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const name of names) {
    const t = tensors[name]!;
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}

export function decodeSafetensors(
  bytes: Uint8Array,
  file = 'safetensors file',
): { tensors: Record<string, NamedArray>; metadata: Record<string, string> } {
  if (bytes.length < 8) throw new WeightsError(file, `${bytes.length} bytes is too short for a header`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  if (n > BigInt(bytes.length - 8) || n > 100_000_000n)
    throw new WeightsError(file, `header length ${n} exceeds the file (${bytes.length} bytes)`);
  const headerEnd = 8 + Number(n);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, headerEnd)));
  } catch (e) {
    throw new WeightsError(file, `header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    throw new WeightsError(file, 'header is not a JSON object');
  const dataLen = bytes.length - headerEnd;
  const tensors: Record<string, NamedArray> = Object.create(null); // a tensor named __proto__ stays a tensor
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (
        typeof entry !== 'object' ||
        entry === null ||
        Array.isArray(entry) ||
        !Object.values(entry).every((v) => typeof v === 'string')
      ) {
        throw new WeightsError(file, '__metadata__ must be an object of strings');
      }
      metadata = entry as Record<string, string>;
      continue;
    }
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
      throw new WeightsError(file, `tensor '${name}' is described by ${JSON.stringify(entry)}, not an object`);
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (e.dtype !== 'F32' && e.dtype !== 'I32' && e.dtype !== 'BOOL')
      throw new WeightsError(file, `tensor '${name}' has unsupported dtype ${JSON.stringify(e.dtype)}`);
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      throw new WeightsError(file, `tensor '${name}' has a bad shape`);
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0))
      throw new WeightsError(file, `tensor '${name}' has bad data_offsets`);
    const [begin, end] = off as [number, number];
    const count = shape.reduce((a: number, b: number) => a * b, 1);
    if (end < begin || end > dataLen || end - begin !== count * BYTES[e.dtype]) {
      throw new WeightsError(
        file,
        `tensor '${name}': data_offsets [${begin}, ${end}] do not fit ${e.dtype}${JSON.stringify(shape)} inside ${dataLen} data bytes`,
      );
    }
    // A copy (Node's Buffer.slice would be a view into a shared pool): aligned and detached from the file.
    const raw = new Uint8Array(bytes.subarray(headerEnd + begin, headerEnd + end));
    const data =
      e.dtype === 'F32'
        ? new Float32Array(raw.buffer)
        : e.dtype === 'I32'
          ? new Int32Array(raw.buffer)
          : new Uint8Array(raw.buffer);
    tensors[name] = { dtype: e.dtype, shape, data };
  }
  return { tensors, metadata };
}

/** A tensor a model holds: what a weights file must give for it. */
export interface ParamSpec {
  readonly dtype: SafeDType;
  readonly shape: readonly number[];
  /** Training state the model can start without (optimizer slots, step counters): never required. */
  readonly optional?: boolean;
}

export interface WeightsMatch {
  /** Names whose tensors match and will be loaded. */
  readonly loaded: readonly string[];
  /** Required params the file lacks (allowed with `partial`). */
  readonly missing: readonly string[];
  /** Optional params (optimizer state) the file lacks: they keep their initial values. */
  readonly missingOptional: readonly string[];
  /** Tensors of the file the model does not have (allowed with `partial`). */
  readonly unexpected: readonly string[];
}

/** Thrown when weights do not fit the model they are loaded into. */
export class WeightsMismatchError extends Error {
  readonly code: 'K7011' | 'K7012';
  constructor(code: 'K7011' | 'K7012', detail: string) {
    super(`error ${code}: ${detail}`);
    this.name = 'WeightsMismatchError';
    this.code = code;
  }
}

const list = (names: readonly string[]): string =>
  names.length > 6 ? `${names.slice(0, 6).join(', ')} and ${names.length - 6} more` : names.join(', ');

/**
 * Checks saved tensors against a model's params before anything is loaded: every shared name must have
 * the same dtype and exactly the same shape (a transposed [4,2] for [2,4] is refused) and finite values;
 * a required param missing from the file, or a tensor the model does not have, is an error unless
 * `partial` (fine-tuning loads what matches and reports the rest). Optimizer state is never required.
 */
export function matchWeights(
  saved: Readonly<Record<string, NamedArray>>,
  expected: Readonly<Record<string, ParamSpec>>,
  opts: { partial?: boolean; source?: string } = {},
): WeightsMatch {
  const src = opts.source ?? 'the weights file';
  const loaded: string[] = [];
  const unexpected: string[] = [];
  for (const [name, t] of Object.entries(saved)) {
    const want = expected[name];
    if (!want) {
      unexpected.push(name);
      continue;
    }
    if (t.dtype !== want.dtype || t.shape.join(',') !== want.shape.join(',')) {
      throw new WeightsMismatchError(
        'K7011',
        `${src}: '${name}' is ${t.dtype}[${t.shape.join(',')}], the model's is ${want.dtype}[${want.shape.join(',')}]${t.dtype === want.dtype && t.shape.length === want.shape.length && [...t.shape].reverse().join(',') === want.shape.join(',') ? ' (transposed?)' : ''}; the file was saved from a different model or layer configuration`,
      );
    }
    if (t.dtype === 'F32') {
      const bad = (t.data as Float32Array).findIndex((v) => !Number.isFinite(v));
      if (bad >= 0)
        throw new WeightsMismatchError(
          'K7012',
          `${src}: '${name}' holds ${t.data[bad]} at index ${bad} (NaN or infinite weights); the run that saved it diverged — retrain or use an earlier save`,
        );
    }
    loaded.push(name);
  }
  const absent = Object.keys(expected).filter((n) => !(n in saved));
  const missing = absent.filter((n) => !expected[n]!.optional);
  const missingOptional = absent.filter((n) => expected[n]!.optional);
  if (!opts.partial && (missing.length > 0 || unexpected.length > 0)) {
    const parts = [
      missing.length > 0 ? `lacks ${missing.length} of the model's params (${list(missing)})` : '',
      unexpected.length > 0 ? `has ${unexpected.length} tensors the model does not (${list(unexpected)})` : '',
    ];
    throw new WeightsMismatchError(
      'K7011',
      `${src} ${parts.filter(Boolean).join(' and ')}; it was saved from a different model (load only the matching tensors with a partial load)`,
    );
  }
  return { loaded, missing, missingOptional, unexpected };
}
