// WebAssembly SIMD peak on this machine: a tight loop of independent f32x4 multiply-adds in a tiny
// hand-written module (assembled with wabt), one thread. Plain SIMD (f32x4.mul + f32x4.add) always;
// f32x4.relaxed_madd when the engine accepts relaxed SIMD.
import wabtInit from 'wabt';

/** Independent accumulators: enough to cover the add/mul latency, few enough to stay in registers. */
const ACCS = 12;
/** Floating-point operations per loop iteration: ACCS vectors of 4 lanes, a multiply and an add each. */
export const FLOPS_PER_ITER = ACCS * 4 * 2;

/** The module's text: `peak(iters)` runs acc = acc * m + a on every accumulator and returns a lane
 *  of their sum (so nothing is dead code). The values converge to a / (1 - m): no overflow, no denormals. */
export function peakWat(relaxed: boolean): string {
  const accs = Array.from({ length: ACCS }, (_, i) => i);
  const step = (i: number): string =>
    relaxed
      ? `(local.set $a${i} (f32x4.relaxed_madd (local.get $a${i}) (local.get $m) (local.get $c)))`
      : `(local.set $a${i} (f32x4.add (f32x4.mul (local.get $a${i}) (local.get $m)) (local.get $c)))`;
  const sum = accs.slice(1).reduce((e, i) => `(f32x4.add ${e} (local.get $a${i}))`, '(local.get $a0)');
  return `(module
  (func (export "peak") (param $n i32) (result f32)
    (local $m v128) (local $c v128) ${accs.map((i) => `(local $a${i} v128)`).join(' ')}
    (local.set $m (v128.const f32x4 0.999 0.998 0.997 0.996))
    (local.set $c (v128.const f32x4 0.001 0.002 0.003 0.004))
    (loop $l
      ${accs.map(step).join('\n      ')}
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (i32.gt_s (local.get $n) (i32.const 0))))
    (f32x4.extract_lane 0 ${sum})))`;
}

export async function peakBinary(relaxed: boolean): Promise<Uint8Array<ArrayBuffer>> {
  const wabt = await wabtInit();
  const mod = wabt.parseWat('peak.wat', peakWat(relaxed), { simd: true, relaxed_simd: relaxed });
  try {
    return new Uint8Array(mod.toBinary({}).buffer);
  } finally {
    mod.destroy();
  }
}

export interface Peak {
  readonly variant: 'simd' | 'relaxed';
  /** null when the engine rejects the module (relaxed SIMD not enabled). */
  readonly gflops: number | null;
  readonly reason?: string;
}

/** GFLOP/s of one variant: calls of 20 ms or more, the fastest of 9 (a peak: other load only slows it). */
export async function measurePeak(relaxed: boolean): Promise<Peak> {
  const variant = relaxed ? 'relaxed' : 'simd';
  const bin = await peakBinary(relaxed);
  if (!WebAssembly.validate(bin)) {
    return {
      variant,
      gflops: null,
      reason: relaxed
        ? 'relaxed SIMD is not enabled in this engine (bench run with --no-relaxed, or node without --experimental-wasm-relaxed-simd)'
        : 'WebAssembly SIMD is not supported',
    };
  }
  const { instance } = await WebAssembly.instantiate(bin);
  const peak = instance.exports.peak as (n: number) => number;
  let iters = 1e5;
  for (;;) {
    const t0 = performance.now();
    peak(iters);
    if (performance.now() - t0 > 20 || iters > 1e9) break;
    iters *= 4;
  }
  const samples = Array.from({ length: 9 }, () => {
    const t0 = performance.now();
    peak(iters);
    return performance.now() - t0;
  });
  return { variant, gflops: (FLOPS_PER_ITER * iters) / (Math.min(...samples) * 1e6) };
}
