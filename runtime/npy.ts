// NumPy .npy files (format versions 1-3): reading validates the magic, the header and the data length
// before trusting them; f32, i32 and bool are read as they are, f64 and i64 converted (i64 checked
// to fit i32). Writing produces version 1.0 with a 64-byte aligned header.
import { bad } from './errors.ts';
import type { DType } from './manifest.ts';
import type { TensorData } from './validate.ts';

export interface NpyArray {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: TensorData;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const DESCR: Record<string, { dtype: DType; bytes: number }> = {
  '<f4': { dtype: 'f32', bytes: 4 },
  '<i4': { dtype: 'i32', bytes: 4 },
  '|b1': { dtype: 'bool', bytes: 1 },
  '|u1': { dtype: 'bool', bytes: 1 },
  '<f8': { dtype: 'f32', bytes: 8 },
  '<i8': { dtype: 'i32', bytes: 8 },
};

/** Reads a .npy file (`file` names it in errors). */
export function readNpy(bytes: Uint8Array, file = 'array.npy'): NpyArray {
  const no: (what: string) => never = (what) => bad('K7002', `${file}: ${what}`);
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b))
    no('expected a .npy file (magic \\x93NUMPY), found other bytes');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6]!;
  if (major < 1 || major > 3) no(`expected .npy format version 1, 2 or 3, found ${major}.${bytes[7]}`);
  const wide = major >= 2;
  if (wide && bytes.length < 12) no('expected a header length, found the end of the file');
  const headerLen = wide ? dv.getUint32(8, true) : dv.getUint16(8, true);
  const start = (wide ? 12 : 10) + headerLen;
  if (start > bytes.length) no(`expected a ${headerLen}-byte header, found ${bytes.length} bytes in all`);
  let header: string;
  try {
    header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1', { fatal: true }).decode(
      bytes.subarray(wide ? 12 : 10, start),
    );
  } catch {
    return no('expected a readable header, found invalid text');
  }
  const descr = /'descr':\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined)
    no(`expected a header {'descr', 'fortran_order', 'shape'}, found ${JSON.stringify(header.trim().slice(0, 80))}`);
  const kind = DESCR[descr];
  if (!kind) no(`expected dtype <f4, <i4, |b1, <f8 or <i8 (little-endian), found '${descr}'`);
  if (fortran === 'True') no('expected C order, found fortran_order True; save with np.ascontiguousarray');
  const dims = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const shape = dims.map((d) =>
    /^\d{1,10}$/.test(d) ? Number(d) : no(`expected integer dimensions, found (${shapeText})`),
  );
  const count = shape.reduce((a, b) => a * b, 1);
  const body = bytes.length - start;
  if (!Number.isSafeInteger(count * kind.bytes) || body !== count * kind.bytes)
    no(
      `expected ${count} ${descr} values (${count * kind.bytes} bytes) for shape [${shape.join(',')}], found ${body} bytes`,
    );
  const raw = new DataView(bytes.buffer, bytes.byteOffset + start, body);
  const data =
    kind.dtype === 'f32'
      ? new Float32Array(count)
      : kind.dtype === 'i32'
        ? new Int32Array(count)
        : new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    if (descr === '<f4') data[i] = raw.getFloat32(4 * i, true);
    else if (descr === '<f8') data[i] = raw.getFloat64(8 * i, true);
    else if (descr === '<i4') data[i] = raw.getInt32(4 * i, true);
    else if (descr === '<i8') {
      const v = raw.getBigInt64(8 * i, true);
      if (v < -(2n ** 31n) || v >= 2n ** 31n) no(`expected int64 values that fit int32, found ${v} at element ${i}`);
      data[i] = Number(v);
    } else data[i] = raw.getUint8(i) ? 1 : 0;
  }
  return { dtype: kind.dtype, shape, data };
}

/** A .npy file (version 1.0) of an f32, i32 or bool array. */
export function writeNpy(a: NpyArray): Uint8Array {
  const descr = a.dtype === 'f32' ? '<f4' : a.dtype === 'i32' ? '<i4' : '|b1';
  const shape = a.shape.length === 1 ? `(${a.shape[0]},)` : `(${a.shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const out = new Uint8Array(10 + header.length + a.data.byteLength);
  out.set(MAGIC);
  out[6] = 1;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength), 10 + header.length);
  return out;
}
