// The loop renderer computes a kernel's bindings (the subexpressions its stores repeat, bound by
// compiler/lower/share.ts) once per point. Checked on the rendered code (one call of the math
// function per mode) and on the values; the choice of bindings is tested in test/compiler/share.test.ts.
import { describe, expect, it } from 'vitest';
import type { Program, SExpr } from '../../ir/kernel.ts';
import { share } from '../../compiler/lower/share.ts';
import { programWat, renderWasm } from '../../targets/wasm/index.ts';
import { loadWasm } from '../../runtime/index.ts';
import { toManifest } from '../../compiler/artifact/manifest.ts';

const v0 = { k: 'var' as const, i: 0 };
const load = (buf: string): SExpr => ({ k: 'load', buf, at: v0 });
const op = (name: string, ...args: SExpr[]): SExpr => ({ k: 'op', op: name, dtype: 'f32', args });
const f32 = (shape: number[]) => ({ dtype: 'f32' as const, shape });

// a = sigmoid(x) * sigmoid(x) + x; b = a + sigmoid(x) * a   (distinct but equal sigmoid nodes; b reads a)
const A = op('add', op('mul', op('sigmoid', load('x')), op('sigmoid', load('x'))), load('x'));
const B = op('add', load('a'), op('mul', op('sigmoid', load('x')), load('a')));
const N = 7;
const PROGRAM: Program = {
  name: 'cse',
  buffers: [
    { name: 'x', dtype: 'f32', size: N, role: 'input' },
    { name: 'a', dtype: 'f32', size: N, role: 'output' },
    { name: 'b', dtype: 'f32', size: N, role: 'output' },
  ],
  params: [],
  entries: [
    {
      name: 'main',
      inputs: [{ name: 'x', buf: 'x', type: f32([N]) }],
      outputs: [
        { name: 'a', buf: 'a', type: f32([N]) },
        { name: 'b', buf: 'b', type: f32([N]) },
      ],
      kernels: [
        share({
          kind: 'loop',
          name: 'k0',
          space: [N],
          stores: [
            { buf: 'a', at: v0, value: A },
            { buf: 'b', at: v0, value: B },
          ],
        }),
      ],
    },
  ],
  memory: { arenaBytes: 96, offsets: { x: 0, a: 32, b: 64 } },
};

describe('wasm loop kernels: repeated subexpressions', () => {
  it('computes a shared sigmoid once per mode and gives the values of the unshared expressions', async () => {
    const wat = programWat(PROGRAM);
    const kernel = wat.slice(wat.indexOf('(func $e0_k0_k0'));
    // one inline expansion in the f32x4 body, one call in the scalar tail
    expect(kernel.match(/\(; sigmoid ;\)/g)?.length).toBe(1);
    expect(kernel.match(/call \$sigmoid/g)?.length).toBe(1);
    const exe = await loadWasm((await renderWasm(PROGRAM)).binary, toManifest(PROGRAM));
    const x = Float32Array.from({ length: N }, (_, i) => i - 3.5);
    const out = exe.run('main', { x });
    const sig = (t: number): number => 1 / (1 + Math.exp(-t));
    x.forEach((t, i) => {
      const a = sig(t) * sig(t) + t;
      expect(out['a']!.data[i]).toBeCloseTo(a, 5);
      expect(out['b']!.data[i]).toBeCloseTo(a + sig(t) * a, 5);
    });
  });
});
