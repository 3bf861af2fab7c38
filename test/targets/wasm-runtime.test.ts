// The runtime's wasm executor on hand-built programs: constant tables (`init`) written at load,
// params persisting across calls, typed input errors (K7002), relaxed-SIMD selection at load time.
import v8 from 'node:v8';
import { describe, expect, it } from 'vitest';
import type { Program } from '../../ir/kernel.ts';
import { renderWasm } from '../../targets/wasm/index.ts';
import { loadWasm, relaxedSimdSupported } from '../../runtime/index.ts';
import { toManifest } from '../../compiler/artifact/manifest.ts';

const f32 = (shape: number[]) => ({ dtype: 'f32' as const, shape });
const v = (i: number) => ({ k: 'var' as const, i });
const load = (buf: string, at = v(0)) => ({ k: 'load' as const, buf, at });

/** y = x * table + w; w += 1 (an update of a param in place). */
const PROGRAM: Program = {
  name: 'hand',
  buffers: [
    { name: 'x', dtype: 'f32', size: 6, role: 'input' },
    { name: 'table', dtype: 'f32', size: 6, role: 'param', init: [1, 2, 3, 4, 5, 6] },
    { name: 'w', dtype: 'f32', size: 6, role: 'param' },
    { name: 'y', dtype: 'f32', size: 6, role: 'output' },
  ],
  params: [{ name: 'w', buf: 'w', type: f32([6]) }],
  entries: [
    {
      name: 'step',
      inputs: [{ name: 'x', buf: 'x', type: f32([2, 3]) }],
      outputs: [{ name: 'y', buf: 'y', type: f32([2, 3]) }],
      kernels: [
        {
          kind: 'loop',
          name: 'k0',
          space: [6],
          stores: [
            {
              buf: 'y',
              at: v(0),
              value: {
                k: 'op',
                op: 'add',
                dtype: 'f32',
                args: [{ k: 'op', op: 'mul', dtype: 'f32', args: [load('x'), load('table')] }, load('w')],
              },
            },
            {
              buf: 'w',
              at: v(0),
              value: { k: 'op', op: 'add', dtype: 'f32', args: [load('w'), { k: 'const', v: 1, dtype: 'f32' }] },
            },
          ],
        },
      ],
    },
  ],
  memory: { arenaBytes: 128, offsets: { x: 0, table: 32, w: 64, y: 96 } },
};
const P = PROGRAM;

describe('wasm runtime executor', () => {
  it('writes constant tables at load, keeps params across calls, reads and writes params by name', async () => {
    const exe = await loadWasm((await renderWasm(P)).binary, toManifest(P));
    exe.writeParam('w', new Float32Array([10, 20, 30, 40, 50, 60]));
    const x = { type: f32([2, 3]), data: new Float32Array([1, 1, 1, 2, 2, 2]) };
    expect(Array.from(exe.run('step', { x }).y!.data)).toEqual([11, 22, 33, 48, 60, 72]);
    expect(Array.from(exe.run('step', { x }).y!.data)).toEqual([12, 23, 34, 49, 61, 73]);
    expect(Array.from(exe.readParam('w').data)).toEqual([12, 22, 32, 42, 52, 62]);
  });

  it('rejects bad inputs with K7002 naming the input and the types', async () => {
    const exe = await loadWasm((await renderWasm(P)).binary, toManifest(P));
    expect(() => exe.run('step', {})).toThrow(/K7002: step: input 'x': expected f32\[2,3\], found nothing/);
    expect(() => exe.run('step', { x: { shape: [3, 2], data: new Float32Array(6) } })).toThrow(
      /'x': expected shape \[2,3\], found \[3,2\]/,
    );
    expect(() => exe.run('step', { x: new Int32Array(6) })).toThrow(
      /'x': expected a Float32Array for f32\[2,3\], found Int32Array/,
    );
    expect(() => exe.run('step', { x: new Float32Array(5) })).toThrow(/expected 6 elements for f32\[2,3\], found 5/);
    expect(() => exe.run('step', { x: new Float32Array(6), z: new Float32Array(1) })).toThrow(/unknown input 'z'/);
    expect(() => exe.run('train', {})).toThrow(/expected an entry point \(step\), found 'train'/);
    expect(() => exe.readParam('v')).toThrow(/K7002: model hand: expected a param name, found 'v'/);
  });

  it('an op without a wasm lowering fails at compile time with K6001 naming it', async () => {
    const bad: Program = {
      ...P,
      entries: [
        {
          ...P.entries[0]!,
          kernels: [
            {
              kind: 'loop',
              name: 'k',
              space: [6],
              stores: [{ buf: 'y', at: v(0), value: { k: 'op', op: 'erf', dtype: 'f32', args: [load('x')] } }],
            },
          ],
        },
      ],
    };
    await expect(renderWasm(bad)).rejects.toThrow(/K6001: erf: no WebAssembly lowering for op 'erf'/);
  });

  it('picks the relaxed-SIMD binary when the engine supports it, and both give the same results', async () => {
    const bins = await renderWasm(P);
    expect(bins.relaxed).toBeInstanceOf(Uint8Array);
    const plain = await loadWasm({ simd: bins.binary, relaxed: bins.relaxed }, toManifest(P));
    expect(plain.variant).toBe(relaxedSimdSupported() ? 'relaxed' : 'simd');
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
    expect(relaxedSimdSupported()).toBe(true);
    const relaxed = await loadWasm({ simd: bins.binary, relaxed: bins.relaxed }, toManifest(P));
    expect(relaxed.variant).toBe('relaxed');
    const x = new Float32Array([1, 2, 3, 4, 5, 6]);
    expect(Array.from(relaxed.run('step', { x }).y!.data)).toEqual(Array.from(plain.run('step', { x }).y!.data));
  });
});
