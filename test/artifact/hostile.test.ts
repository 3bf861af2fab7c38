// The hostile-artifact suite: damaged and malicious artifacts of the MNIST CNN, and bad calls, each
// ending in its expected typed error (a KilnError with its code), never a crash, a hang or a run of
// unchecked bytes. Damage (truncation, bit flips, 300 random single-bit flips of every file the
// runtime reads) is caught by the hashes; malice (files whose hashes were recomputed to match) by
// the checks behind them: module interface, weights' names, dtypes and shapes, the memory plan,
// the format version. The number of cases is printed.
import v8 from 'node:v8';
import { beforeAll, describe, expect, it } from 'vitest';
import wabtInit from 'wabt';
import { buildArtifact } from '../../compiler/artifact/build.ts';
import { fileSpecs, sealManifest } from '../../compiler/artifact/manifest.ts';
import { loadModels } from '../../compiler/dsl/model.ts';
import {
  decodeSafetensors,
  encodeSafetensors,
  KilnError,
  loadModel,
  relaxedSimdSupported,
  type KilnModel,
  type LoadOptions,
  type Manifest,
} from '../../runtime/index.ts';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd'); // so the relaxed module is read and attacked too

type Files = Record<string, Uint8Array>;
let files: Files;
let cases = 0;

/** The typed error loading (or `use`) ends in. */
async function failure(f: Files, opts: LoadOptions = {}, use?: (m: KilnModel) => Promise<unknown>): Promise<KilnError> {
  cases++;
  try {
    const m = await loadModel(f, { backend: 'wasm', ...opts });
    await use?.(m);
  } catch (e) {
    if (e instanceof KilnError) return e;
    throw new Error(`expected a KilnError, got ${String(e)}`);
  }
  throw new Error('expected a KilnError, but it loaded and ran');
}

async function expectError(
  code: string,
  pattern: RegExp,
  f: Files,
  opts?: LoadOptions,
  use?: (m: KilnModel) => Promise<unknown>,
): Promise<void> {
  const e = await failure(f, opts, use);
  expect(e.code, e.message).toBe(code);
  expect(e.message).toMatch(pattern);
}

const manifestOf = (f: Files): Manifest => JSON.parse(new TextDecoder().decode(f['manifest.json']));

/** A malicious artifact: files replaced and the manifest edited, with every hash recomputed to match. */
async function forged(replace: Files, edit: (m: any) => void = () => {}): Promise<Files> {
  const out = { ...files, ...replace };
  const m: any = manifestOf(out);
  delete m.manifestSha256;
  const specs = await fileSpecs(
    Object.fromEntries(
      Object.keys(m.files)
        .filter((k) => out[k])
        .map((k) => [k, out[k]!]),
    ),
  );
  m.files = { ...m.files, ...specs };
  edit(m);
  out['manifest.json'] = new TextEncoder().encode(await sealManifest(m));
  return out;
}

const flip = (bytes: Uint8Array, bit: number): Uint8Array => {
  const b = bytes.slice();
  b[bit >> 3]! ^= 1 << (bit & 7);
  return b;
};

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32;
}

async function wasm(wat: string): Promise<Uint8Array> {
  const w = await wabtInit();
  const mod = w.parseWat('t.wat', wat, {});
  try {
    return mod.toBinary({}).buffer.slice();
  } finally {
    mod.destroy();
  }
}

const BATCH = 4;
const x = (): Float32Array => new Float32Array(BATCH * 28 * 28);

beforeAll(async () => {
  const { mnist_cnn } = await loadModels(new URL('../../examples/mnist-cnn.ts', import.meta.url).pathname);
  files = (await buildArtifact(mnist_cnn!, { targets: ['wasm', 'webgpu'], batch: BATCH })).files;
  expect(relaxedSimdSupported()).toBe(true);
});

describe('hostile artifacts', () => {
  it('the intact artifact loads on both wasm variants and runs', async () => {
    for (const relaxedSimd of [false, true]) {
      const m = await loadModel(files, { backend: 'wasm', relaxedSimd });
      expect(m.backendInfo).toMatch(relaxedSimd ? /relaxed SIMD/ : /^wasm \(SIMD, /);
      expect((await m.infer({ x: x() })).y!.length).toBe(BATCH * 10);
    }
  });

  it('truncated and bit-flipped files: a hash error naming the file and both hashes', async () => {
    for (const [name, relaxedSimd] of [
      ['program.wasm', false],
      ['program.relaxed.wasm', true],
      ['weights.safetensors', false],
      ['kernels.wgsl', false],
    ] as const) {
      const b = files[name]!;
      for (const damaged of [
        b.subarray(0, b.length >> 1),
        b.subarray(0, 8),
        new Uint8Array(0),
        flip(b, 8 * 100 + 3),
        flip(b, 8 * b.length - 1),
      ]) {
        await expectError(
          'K7004',
          new RegExp(`${name.replace('.', '\\.')}: expected (\\d+ bytes with )?sha-256 [0-9a-f]{64}, found`),
          { ...files, [name]: damaged },
          { relaxedSimd },
        );
      }
    }
    const m = files['manifest.json']!;
    await expectError('K7001', /manifest\.json: expected UTF-8 JSON/, {
      ...files,
      'manifest.json': m.subarray(0, m.length - 10),
    });
    // larger than the manifest says (or than any manifest): refused before it is read
    const w = files['weights.safetensors']!;
    const longer = new Uint8Array(w.length + 1);
    longer.set(w);
    await expectError(
      'K7004',
      new RegExp(`weights\\.safetensors: expected at most ${w.length} bytes, found ${w.length + 1}`),
      { ...files, 'weights.safetensors': longer },
    );
    await expectError('K7004', /manifest\.json: expected at most 67108864 bytes, found 67108865/, {
      ...files,
      'manifest.json': new Uint8Array(2 ** 26 + 1),
    });
  });

  it('300 random single-bit flips of every file the runtime reads each end in a typed error', async () => {
    const next = rng(13);
    const allowed: Record<string, string[]> = {
      'manifest.json': ['K7001', 'K7003', 'K7004'],
      'program.wasm': ['K7004'],
      'program.relaxed.wasm': ['K7004'],
      'weights.safetensors': ['K7004'],
      'kernels.wgsl': ['K7004'],
    };
    const seen: Record<string, Set<string>> = {};
    for (const [name, codes] of Object.entries(allowed)) {
      seen[name] = new Set();
      for (let i = 0; i < 300; i++) {
        const b = files[name]!;
        const e = await failure(
          { ...files, [name]: flip(b, Math.floor(next() * b.length * 8)) },
          { relaxedSimd: name === 'program.relaxed.wasm' },
        );
        expect(codes, `${name}: ${e.message}`).toContain(e.code);
        seen[name]!.add(e.code);
      }
    }
    expect(seen['manifest.json']!.has('K7004')).toBe(true);
  });

  it('forged modules (hashes recomputed): refused by the engine or for their interface', async () => {
    await expectError(
      'K7007',
      /program\.wasm: expected a valid WebAssembly module/,
      await forged({ 'program.wasm': flip(files['program.wasm']!, 8 * 9) }),
      { relaxedSimd: false, threads: 1 },
    );
    const entries = '(func (export "infer")) (func (export "train_step"))';
    await expectError(
      'K7007',
      /expected a module with no imports, found env\.f \(function\)/,
      await forged({
        'program.wasm': await wasm(`(module (import "env" "f" (func)) (memory (export "memory") 100) ${entries})`),
      }),
      { relaxedSimd: false, threads: 1 },
    );
    await expectError(
      'K7007',
      /expected an exported function 'train_step', found none/,
      await forged({ 'program.wasm': await wasm('(module (memory (export "memory") 100) (func (export "infer")))') }),
      { relaxedSimd: false, threads: 1 },
    );
    await expectError(
      'K7007',
      /expected an exported memory 'memory', found none/,
      await forged({ 'program.wasm': await wasm(`(module (memory 100) ${entries})`) }),
      { relaxedSimd: false, threads: 1 },
    );
    await expectError(
      'K7007',
      /expected a memory of at least \d+ bytes \(the arena\), found 65536/,
      await forged({ 'program.wasm': await wasm(`(module (memory (export "memory") 1) ${entries})`) }),
      { relaxedSimd: false, threads: 1 },
    );
    // the threaded build: its imports (a shared memory, the thread's globals) and the pool's exports
    await expectError(
      'K7007',
      /program\.threads\.wasm: expected a module importing env\.memory \(memory\), kiln\.tid \(global\), kiln\.nt \(global\), kiln\.block \(global\), found none/,
      await forged({ 'program.threads.wasm': await wasm(`(module (memory (export "memory") 100) ${entries})`) }),
      { relaxedSimd: false, threads: 2 },
    );
  });

  it('forged weights: missing, extra, transposed, wrong dtype, unreadable', async () => {
    const w = decodeSafetensors(files['weights.safetensors']!).tensors;
    const weights = (t: typeof w): Files => ({ 'weights.safetensors': encodeSafetensors(t) });
    const { 'dense_1/bias': _, ...missing } = w;
    await expectError(
      'K7006',
      /expected tensor 'dense_1\/bias' \(f32\[64\], weight\), found none/,
      await forged(weights(missing)),
    );
    await expectError(
      'K7006',
      /tensor 'extra' is not a param of model mnist_cnn/,
      await forged(weights({ ...w, extra: { dtype: 'F32', shape: [1], data: new Float32Array(1) } })),
    );
    const k = w['dense_1/kernel']!;
    await expectError(
      'K7006',
      /tensor 'dense_1\/kernel' expected F32\[576,64\], found F32\[64,576\]/,
      await forged(weights({ ...w, 'dense_1/kernel': { ...k, shape: [64, 576] } })),
    );
    await expectError(
      'K7006',
      /tensor 'optimizer\/iterations' expected I32\[\], found F32\[\]/,
      await forged(weights({ ...w, 'optimizer/iterations': { dtype: 'F32', shape: [], data: new Float32Array(1) } })),
    );
    await expectError(
      'K7006',
      /weights\.safetensors: .*exceeds the file/,
      await forged({ 'weights.safetensors': new Uint8Array(16).fill(255) }),
    );
  });

  it('forged manifests: future version, arena bounds, overlaps, absurd sizes, inits, names, files', async () => {
    const buf = (m: any, kind: string) => m.memory.buffers.find((b: any) => b.kind === kind);
    await expectError(
      'K7003',
      /artifact format version 2\.0, this runtime reads version 1\.1.*update the kiln runtime/,
      await forged({}, (m) => (m.version = '2.0')),
    );
    await expectError(
      'K7005',
      /spans bytes \[\d+, \d+\), expected inside the \d+-byte arena/,
      await forged({}, (m) => (buf(m, 'output').offset = 2 ** 30)),
    );
    await expectError(
      'K7005',
      /buffer '\w+' spans bytes \[\d+, \d{17,}\), expected inside the \d+-byte arena/,
      await forged({}, (m) => {
        m.entries[0].inputs[0].shape = [2 ** 26, 2 ** 27]; // 2^53 elements
        m.memory.buffers.find((b: any) => b.name === m.entries[0].inputs[0].buffer).size = 2 ** 53;
      }),
    );
    await expectError(
      'K7005',
      /arena of 9007199254740992 bytes, expected at most 4294967296/,
      await forged({}, (m) => (m.memory.arenaBytes = 2 ** 53)),
    );
    await expectError(
      'K7005',
      /offset 1, expected a multiple of 16/,
      await forged({}, (m) => (buf(m, 'input').offset = 1)),
    );
    await expectError(
      'K7005',
      /param buffer '\w+' \[0, \d+\) overlaps buffer/,
      await forged({}, (m) => (buf(m, 'input').offset = 0)),
    );
    await expectError(
      'K7005',
      /overlap while both are alive/,
      await forged({}, (m) => {
        const [a, b] = [m.entries[0].inputs[0].buffer, m.entries[0].outputs[0].buffer].map((n: string) =>
          m.memory.buffers.find((x: any) => x.name === n),
        );
        b.offset = a.offset;
      }),
    );
    await expectError(
      'K7005',
      /constant buffer 'c9' expected exactly 4 init values, found 5/,
      await forged({}, (m) =>
        m.memory.buffers.push({
          name: 'c9',
          dtype: 'f32',
          kind: 'constant',
          offset: m.memory.arenaBytes - 16,
          size: 4,
          init: [1, 2, 3, 4, 5],
        }),
      ),
    );
    await expectError(
      'K7005',
      /param buffer '\w+' has init values; only constant buffers have them/,
      await forged({}, (m) => (buf(m, 'param').init = [1])),
    );
    await expectError(
      'K7005',
      /input 'x' is f32\[4,28,28,1\] in a input buffer; buffer '\w+' is a input buffer of 3136 i32 elements/,
      await forged({}, (m) => (buf(m, 'input').dtype = 'i32')),
    );
    await expectError(
      'K7001',
      /names buffer 'nowhere', which the memory plan does not declare/,
      await forged({}, (m) => m.targets.wasm.kernels.infer[0].reads.push('nowhere')),
    );
    await expectError(
      'K7001',
      /\.weights: expected a string matching/,
      await forged({}, (m) => (m.weights = '../../etc/passwd')),
    );
    await expectError(
      'K7001',
      /expected one of "f32", "i32", "bool", found "f64"/,
      await forged({}, (m) => (m.params[0].dtype = 'f64')),
    );
    await expectError(
      'K7001',
      /file 'weights\.safetensors' expected in 'files'/,
      await forged({}, (m) => delete m.files['weights.safetensors']),
    );
    await expectError('K7001', /expected format "kiln\.artifact"/, await forged({}, (m) => (m.format = 'onnx')));
    await expectError('K7001', /expected one "manifestSha256"/, {
      ...files,
      'manifest.json': new TextEncoder().encode(JSON.stringify({ ...manifestOf(files), manifestSha256: undefined })),
    });
    await expectError('K7004', /manifest\.json: expected sha-256 [0-9a-f]{64} \(its manifestSha256\), found/, {
      ...files,
      'manifest.json': new TextEncoder().encode(
        new TextDecoder().decode(files['manifest.json']).replace('"batch": 4', '"batch": 5'),
      ),
    });
    await expectError('K7001', /manifest\.json: expected among the artifact's files/, {
      'program.wasm': files['program.wasm']!,
    });
  });

  it('forged WebGPU targets: modules, entry points, bindings, places, chunks, dispatch sizes, refused before any GPU object', async () => {
    // a device that throws on first use: the intact artifact reaches it; every forged one must not
    const trap = (): { device: object; used: string[] } => {
      const used: string[] = [];
      const device = new Proxy(
        {},
        {
          get: (_, k) => {
            used.push(String(k));
            throw new Error(`the GPU device was used (${String(k)})`);
          },
        },
      );
      return { device, used };
    };
    const reached = trap();
    await expect(loadModel(files, { backend: 'webgpu', device: reached.device })).rejects.toThrow(
      /GPU device was used/,
    );
    expect(reached.used.length).toBeGreaterThan(0);
    const refused = async (code: string, pattern: RegExp, f: Files): Promise<void> => {
      const t = trap();
      await expectError(code, pattern, f, { backend: 'webgpu', device: t.device });
      expect(t.used, pattern.source).toEqual([]);
    };
    const gpu = (m: any) => m.targets.webgpu;
    const first = (m: any) => gpu(m).kernels.infer[0];
    const wgsl = new TextDecoder().decode(files['kernels.wgsl']);
    const text = (t: string): Files => ({ 'kernels.wgsl': new TextEncoder().encode(t) });

    await refused('K7004', /kernels\.wgsl: expected sha-256 [0-9a-f]{64}, found [0-9a-f]{64}/, {
      ...files,
      'kernels.wgsl': flip(files['kernels.wgsl']!, 8 * 200 + 1),
    });
    await refused(
      'K7001',
      /kernels\.wgsl: expected among the artifact's files/,
      (() => {
        const { 'kernels.wgsl': _, ...rest } = files;
        return rest;
      })(),
    );
    await refused(
      'K7001',
      /file 'kernels\.wgsl' expected in 'files'/,
      await forged({}, (m) => delete m.files['kernels.wgsl']),
    );
    await refused(
      'K7001',
      /targets\.webgpu expected kernels for entries infer, train_step, found infer/,
      await forged({}, (m) => delete gpu(m).kernels.train_step),
    );
    // the WGSL itself, its hash recomputed: a renamed entry point, an extra binding, bytes that are not UTF-8
    await refused(
      'K7016',
      /kernel infer\/\w+ expected module 0 with a @compute entry point 'main', found none/,
      await forged(text(wgsl.replace('fn main(', 'fn mian('))),
    );
    await refused(
      'K7016',
      /kernel infer\/\w+ binds 1 chunks and its offsets, its module 0 declares bindings \[0,1,2\]/,
      await forged(
        text(
          wgsl.replace(
            '\n@group(0) @binding(0)',
            '\n@group(0) @binding(2) var<storage> x: array<u32>;\n@group(0) @binding(0)',
          ),
        ),
      ),
    );
    const bytes = files['kernels.wgsl']!.slice();
    bytes[manifestOf(files).targets.webgpu!.modules[0]![0] + 100] = 0xff;
    await refused(
      'K7016',
      /module 0 at bytes \[\d+, \d+\), expected UTF-8 WGSL/,
      await forged({ 'kernels.wgsl': bytes }),
    );
    // the manifest's webgpu section
    await refused(
      'K7016',
      /webgpu module 0 at bytes \[\d+, \d+\), expected inside kernels\.wgsl \(\d+ bytes\)/,
      await forged({}, (m) => (gpu(m).modules[0][1] = 2 ** 40)),
    );
    await refused(
      'K7016',
      /module 999, expected one of the \d+ modules/,
      await forged({}, (m) => (first(m).module = 999)),
    );
    await refused('K7016', /found 'evil' named/, await forged({}, (m) => (first(m).entryPoint = 'evil')));
    await refused(
      'K7015',
      /binds chunk 7, expected one of the 1 chunks/,
      await forged({}, (m) => first(m).bindings.push(7)),
    );
    await refused('K7015', /expected at most 8 distinct chunks/, await forged({}, (m) => first(m).bindings.push(0)));
    await refused(
      'K7015',
      /uses buffer '\w+' in chunk 0, which it does not bind/,
      await forged({}, (m) => (first(m).bindings = [])),
    );
    const placed = (m: any, kind: string) => gpu(m).places[m.memory.buffers.find((b: any) => b.kind === kind).name];
    await refused(
      'K7015',
      /buffer '\w+' at bytes \[\d+, \d+\) of webgpu chunk 0, expected 16-aligned inside one of the 1 chunks/,
      await forged({}, (m) => (placed(m, 'output').offset = gpu(m).chunks[0])),
    );
    await refused('K7015', /expected 16-aligned/, await forged({}, (m) => (placed(m, 'input').offset += 4)));
    await refused(
      'K7015',
      /of webgpu chunk 3, expected 16-aligned inside one of the 1 chunks \(none bytes\)/,
      await forged({}, (m) => (placed(m, 'input').chunk = 3)),
    );
    // an input moved onto the params' bytes on the GPU alone: each chunk must be a window of the arena
    await refused(
      'K7015',
      /buffer '\w+' at offset 0 of webgpu chunk 0, expected \d+ \(its arena offset \d+ minus the chunk's start 0\)/,
      await forged({}, (m) => (placed(m, 'input').offset = 0)),
    );
    await refused(
      'K7015',
      /buffer '\w+' expected a place on the GPU, found none/,
      await forged({}, (m) => delete gpu(m).places[m.memory.buffers[0].name]),
    );
    await refused(
      'K7015',
      /places buffer 'ghost', which the memory plan does not declare/,
      await forged({}, (m) => (gpu(m).places.ghost = { chunk: 0, offset: 0 })),
    );
    await refused(
      'K7015',
      /webgpu chunks of 9007199254740992 bytes in all, expected at most \d+/,
      await forged({}, (m) => (gpu(m).chunks[0] = 2 ** 53)),
    );
    await refused(
      'K7015',
      /chunk 0 of 40 bytes, expected a positive multiple of 16/,
      await forged({}, (m) => (gpu(m).chunks[0] = 40)),
    );
    for (const w of [
      [0, 1, 1],
      [65536, 1, 1],
      [1, 1, 2 ** 53],
    ])
      await refused(
        'K7017',
        /workgroups \[[\d,]+\], expected each in \[1, 65535\]/,
        await forged({}, (m) => (first(m).workgroups = w)),
      );
  });

  it('bad calls: input names, dtypes, shapes, lengths, out-of-range labels, missing entries and backends', async () => {
    const call =
      (inputs: Record<string, unknown>, entry = 'train_step') =>
      async (m: KilnModel) =>
        m.run(entry, inputs as never);
    const y = (v: number[]) => Int32Array.from(v);
    await expectError('K7002', /unknown input 'z'; expected x: f32\[4,28,28,1\]/, files, {}, call({ z: x() }, 'infer'));
    await expectError('K7002', /input 'x': expected f32\[4,28,28,1\], found nothing/, files, {}, call({}, 'infer'));
    await expectError(
      'K7002',
      /input 'x': expected a Float32Array for f32\[4,28,28,1\], found Float64Array/,
      files,
      {},
      call({ x: new Float64Array(3136) }, 'infer'),
    );
    await expectError(
      'K7002',
      /input 'x': expected a Float32Array for f32\[4,28,28,1\], found Array/,
      files,
      {},
      call({ x: { data: [1, 2] } }, 'infer'),
    );
    await expectError(
      'K7002',
      /input 'x': expected 3136 elements for f32\[4,28,28,1\], found 3135/,
      files,
      {},
      call({ x: new Float32Array(3135) }, 'infer'),
    );
    await expectError(
      'K7002',
      /input 'x': expected shape \[4,28,28,1\], found \[4,784\]/,
      files,
      {},
      call({ x: { data: x(), shape: [4, 784] } }, 'infer'),
    );
    await expectError(
      'K7002',
      /input 'y': expected values in \[0, 10\), found 10 at element 2/,
      files,
      {},
      call({ x: x(), y: y([0, 1, 10, 3]) }),
    );
    await expectError(
      'K7002',
      /input 'y': expected values in \[0, 10\), found -1 at element 0/,
      files,
      {},
      call({ x: x(), y: y([-1, 1, 2, 3]) }),
    );
    await expectError(
      'K7002',
      /input 'y': expected a Int32Array for i32\[4\], found Float32Array/,
      files,
      {},
      call({ x: x(), y: new Float32Array(4) }),
    );
    await expectError(
      'K7002',
      /expected an entry point \(infer, train_step\), found 'predict'/,
      files,
      {},
      call({}, 'predict'),
    );
    await expectError(
      'K7006',
      /setParams: tensor 'dense_1\/kernel' expected F32\[576,64\], found F32\[64,576\]/,
      files,
      {},
      (m) => m.setParams({ 'dense_1/kernel': { dtype: 'F32', shape: [64, 576], data: new Float32Array(576 * 64) } }),
    );
    const { 'kernels.wgsl': _, ...noGpu } = await forged({}, (m) => {
      delete m.targets.webgpu;
      delete m.files['kernels.wgsl'];
    });
    await expectError('K7008', /expected to run on WebGPU, but the artifact has no webgpu target/, noGpu, {
      backend: 'webgpu',
    });
    await expectError('K7008', /expected backend 'auto', 'wasm' or 'webgpu', found 'cuda'/, files, {
      backend: 'cuda' as never,
    });
    console.log(`hostile-artifact suite: ${cases} cases, each ended in its expected typed error`);
  });
});
