// `kiln compile` and `kiln run`, run as a user runs them (node bin/kiln.js in a child process), and the
// runtime's .npy reader and writer: an artifact of XOR compiled with --weights from `kiln train
// --save` reproduces the trained model's outputs through `kiln run` on .npy inputs; output folders
// are checked before work; bad .npy files are typed errors.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { KilnError, readNpy, writeNpy } from '../../runtime/index.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'kiln-artifact-cli-'));

function kiln(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, ['bin/kiln.js', ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

const npyError = (bytes: Uint8Array): KilnError => {
  try {
    readNpy(bytes, 'a.npy');
  } catch (e) {
    if (e instanceof KilnError) return e;
    throw e;
  }
  throw new Error('expected a KilnError');
};

/** A .npy v1 file with a given header and data bytes. */
function npy(header: string, data: Uint8Array): Uint8Array {
  const h = header + ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const out = new Uint8Array(10 + h.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, h.length, true);
  out.set(new TextEncoder().encode(h), 10);
  out.set(data, 10 + h.length);
  return out;
}

describe('.npy', () => {
  it('round-trips f32, i32 and bool arrays and reads f64 and i64 (converted)', () => {
    for (const a of [
      { dtype: 'f32' as const, shape: [2, 3], data: Float32Array.from([1, -2.5, 3, 0, 1e-7, 7]) },
      { dtype: 'i32' as const, shape: [4], data: Int32Array.from([0, -1, 2 ** 31 - 1, 5]) },
      { dtype: 'bool' as const, shape: [], data: Uint8Array.from([1]) },
    ]) {
      const bytes = writeNpy(a);
      expect((10 + new DataView(bytes.buffer).getUint16(8, true)) % 64).toBe(0);
      const back = readNpy(bytes);
      expect(back.dtype).toBe(a.dtype);
      expect(back.shape).toEqual(a.shape);
      expect(Array.from(back.data)).toEqual(Array.from(a.data));
    }
    const f64 = readNpy(
      npy(
        "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }",
        new Uint8Array(Float64Array.from([0.5, -3]).buffer),
      ),
    );
    expect([f64.dtype, Array.from(f64.data)]).toEqual(['f32', [0.5, -3]]);
    const i64 = readNpy(
      npy(
        "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }",
        new Uint8Array(BigInt64Array.from([7n, -2n]).buffer),
      ),
    );
    expect([i64.dtype, Array.from(i64.data)]).toEqual(['i32', [7, -2]]);
  });

  it('refuses damaged or unsupported files with K7002 naming the file', () => {
    const good = writeNpy({ dtype: 'f32', shape: [2, 2], data: new Float32Array(4) });
    const cases: [Uint8Array, RegExp][] = [
      [good.subarray(0, 5), /a\.npy: expected a \.npy file/],
      [Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]), /expected a \.npy file \(magic/],
      [good.subarray(0, good.length - 1), /expected 4 <f4 values \(16 bytes\) for shape \[2,2\], found 15 bytes/],
      [
        npy("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(4)),
        /expected dtype <f4, <i4, \|b1, <f8 or <i8 \(little-endian\), found '>f4'/,
      ],
      [npy("{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", new Uint8Array(4)), /fortran_order True/],
      [
        npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, -2), }", new Uint8Array(4)),
        /expected integer dimensions/,
      ],
      [
        npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", new Uint8Array(4)),
        /expected .* values .* found 4 bytes/,
      ],
      [
        npy(
          "{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }",
          new Uint8Array(BigInt64Array.from([2n ** 40n]).buffer),
        ),
        /fit int32, found 1099511627776/,
      ],
      [npy('{}', new Uint8Array(0)), /expected a header \{'descr', 'fortran_order', 'shape'\}/],
    ];
    const bigHeader = good.slice();
    new DataView(bigHeader.buffer).setUint16(8, 60000, true);
    cases.push([bigHeader, /expected a 60000-byte header/]);
    for (const [bytes, pattern] of cases) {
      const e = npyError(bytes);
      expect(e.code).toBe('K7002');
      expect(e.message).toMatch(pattern);
    }
  });
});

describe('kiln compile and kiln run', () => {
  it('compile --target webgpu writes kernels.wgsl and no wasm; such an artifact will not fall back to wasm', () => {
    const art = join(tmp, 'xor-gpu');
    const c = kiln('compile', 'examples/xor.ts', '--target', 'webgpu', '--out', art);
    expect(c.code, c.err).toBe(0);
    expect(c.out).toMatch(
      /^xor: wrote .*\(weights\.safetensors [\d.]+ B, kernels\.wgsl [\d.]+ KB, manifest\.json .*; infer 2 kernels/,
    );
    expect(readdirSync(art).sort()).toEqual([
      'index.d.ts',
      'index.js',
      'index.ts',
      'kernels.wgsl',
      'manifest.json',
      'weights.safetensors',
    ]);
    const m = JSON.parse(readFileSync(join(art, 'manifest.json'), 'utf8'));
    expect(Object.keys(m.targets)).toEqual(['webgpu']);
    expect(readFileSync(join(art, 'kernels.wgsl'), 'utf8')).toMatch(
      /^\/\/ module 0: infer\/infer_k0[^\n]*\n@group\(0\) @binding\(0\)/,
    );
    writeFileSync(join(tmp, 'xg.npy'), writeNpy({ dtype: 'f32', shape: [4, 2], data: new Float32Array(8) }));
    const r = kiln('run', art, '--backend', 'wasm', '--input', `x=${join(tmp, 'xg.npy')}`);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/error K7008: loadModel: expected a wasm target to fall back to, found none in the artifact/);
  });

  it('compile --weights from kiln train --save, then kiln run on .npy inputs gives the trained outputs', () => {
    const trained = join(tmp, 'trained');
    const t = kiln('train', 'examples/xor.ts', '--epochs', '3000', '--save', trained, '--json');
    expect(t.code, t.err).toBe(0);
    const art = join(tmp, 'xor');
    const c = kiln('compile', 'examples/xor.ts', '--weights', join(trained, 'weights.safetensors'), '--out', art);
    expect(c.err).toBe('');
    expect(c.out).toMatch(
      /^xor: wrote .*xor \(program\.wasm [\d.]+ (B|KB), weights\.safetensors .*; infer 2 kernels, train_step \d+ kernels; batch 4, \d+ params\) in [\d.]+ s\n$/,
    );
    expect(readdirSync(art).sort()).toEqual([
      'index.d.ts',
      'index.js',
      'index.ts',
      'manifest.json',
      'program.relaxed.wasm',
      'program.threads.relaxed.wasm',
      'program.threads.wasm',
      'program.wasm',
      'weights.safetensors',
    ]);
    writeFileSync(
      join(tmp, 'x.npy'),
      writeNpy({ dtype: 'f32', shape: [4, 2], data: Float32Array.from([0, 0, 0, 1, 1, 0, 1, 1]) }),
    );
    const out = join(tmp, 'pred');
    const r = kiln('run', art, '--input', `x=${join(tmp, 'x.npy')}`, '--out', out);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/^y: f32\[4,1\] \[.*\]\nxor infer on wasm .* in [\d.]+ ms; wrote y\.npy to /);
    expect(kiln('run', art, '--input', `x=${join(tmp, 'x.npy')}`, '--out', out).code).toBe(0); // a rerun replaces y.npy
    expect(readdirSync(out)).toEqual(['y.npy']);
    const y = readNpy(readFileSync(join(out, 'y.npy')));
    expect(y.shape).toEqual([4, 1]);
    expect(Array.from(y.data, (v) => Math.round(v))).toEqual([0, 1, 1, 0]);
  }, 120_000);

  it('checks the output folder before any work, and reports bad flags and inputs as typed errors', () => {
    writeFileSync(join(tmp, 'a-file'), 'x');
    mkdirSync(join(tmp, 'full'), { recursive: true });
    writeFileSync(join(tmp, 'full', 'notes.txt'), 'mine');
    const cases: [string[], RegExp][] = [
      [['compile', 'examples/xor.ts', '--out', join(tmp, 'a-file')], /error K8001: compile: --out .*a-file is a file/],
      [
        ['compile', 'examples/xor.ts', '--out', join(tmp, 'full')],
        /error K8001: compile: --out .*full is a non-empty folder with no manifest\.json \(holds notes\.txt\)/,
      ],
      [
        ['compile', 'examples/xor.ts', '--target', 'cuda', '--out', join(tmp, 'w')],
        /error K8001: compile: --target 'cuda' is not one of wasm, webgpu, all/,
      ],
      [['compile', 'examples/xor.ts'], /error K8001: compile: required option '--out <dir>' not specified/],
      [
        ['compile', 'examples/xor.ts', '--weights', join(tmp, 'a-file'), '--out', join(tmp, 'w')],
        /error K7006: .*a-file: .* too short for a header/,
      ],
      [
        ['run', join(tmp, 'nowhere')],
        /error K7001: manifest\.json: expected a file at .*nowhere\/manifest\.json, found none/,
      ],
      [['run', join(tmp, 'xor'), '--input', 'x'], /error K8001: run: --input expects name=file\.npy, got 'x'/],
      [
        ['run', join(tmp, 'xor'), '--input', `x=${join(tmp, 'a-file')}`],
        /error K7002: .*a-file: expected a \.npy file/,
      ],
      [
        ['run', join(tmp, 'xor'), '--input', `z=${join(tmp, 'x.npy')}`],
        /error K7002: infer: unknown input 'z'; expected x: f32\[4,2\]/,
      ],
      [
        ['run', join(tmp, 'xor'), '--entry', 'predict'],
        /error K7002: run: expected an entry point \(infer, train_step\), found 'predict'/,
      ],
      [
        ['run', join(tmp, 'xor'), '--out', join(tmp, 'a-file')],
        /error K8002: run: --out '.*a-file' is an existing file; --out names a folder/,
      ],
    ];
    for (const [args, pattern] of cases) {
      const r = kiln(...args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.err, args.join(' ')).toMatch(pattern);
    }
    expect(readdirSync(join(tmp, 'full'))).toEqual(['notes.txt']);
  }, 120_000);
});
