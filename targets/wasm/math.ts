// The one decomposition of the transcendental functions WebAssembly lacks: f32x4 polynomial
// approximations (Cephes-style range reduction + minimax polynomials). Scalar code calls them
// through lane 0, so every kernel, vector or scalar, computes the same values.
// Accuracy is tested against Math over the whole f32 range in test/targets/wasm-math.test.ts.
import { flit } from './wat.ts';

const L = (n: string): string => `(local.get $${n})`;
const S = (n: string, v: string): string => `(local.set $${n} ${v})`;
const k = (v: number): string => `(v128.const f32x4 ${flit(v)} ${flit(v)} ${flit(v)} ${flit(v)})`;
const ki = (v: number): string => `(v128.const i32x4 ${v | 0} ${v | 0} ${v | 0} ${v | 0})`;
const add = (a: string, b: string): string => `(f32x4.add ${a} ${b})`;
const sub = (a: string, b: string): string => `(f32x4.sub ${a} ${b})`;
const mul = (a: string, b: string): string => `(f32x4.mul ${a} ${b})`;
const div = (a: string, b: string): string => `(f32x4.div ${a} ${b})`;
const sel = (a: string, b: string, m: string): string => `(v128.bitselect ${a} ${b} ${m})`;

/** a*b + c (fused when relaxed SIMD is on). */
const mad = (relaxed: boolean) => (a: string, b: string, c: string): string => (relaxed ? `(f32x4.relaxed_madd ${a} ${b} ${c})` : add(mul(a, b), c));

/** Horner evaluation of c[0]*x^(n-1) + ... + c[n-1]. */
const horner = (m: ReturnType<typeof mad>, x: string, c: readonly number[]): string => c.slice(1).reduce((acc, ci) => m(acc, x, k(ci)), k(c[0]!));

const fn = (name: string, params: readonly string[], locals: readonly string[], body: string): string =>
  `(func $${name} ${params.map((p) => `(param $${p} v128)`).join(' ')} (result v128) ${locals.map((l) => `(local $${l} v128)`).join(' ')}\n${body})`;

/** The WAT of every math function, with or without relaxed fused multiply-add. */
export function mathFunctions(relaxed: boolean): string {
  const m = mad(relaxed);
  const exp = fn('exp', ['x'], ['n', 'r', 'p', 'h'], [
    // n = round(x / ln2), r = x - n ln2 (two-part ln2), e^r by a degree-7 polynomial, times 2^n in two halves (covers denormals)
    S('n', `(f32x4.nearest ${mul(`(f32x4.min (f32x4.max ${L('x')} ${k(-104)}) ${k(89)})`, k(Math.LOG2E))})`),
    S('r', sub(sub(L('x'), mul(L('n'), k(0.693359375))), mul(L('n'), k(-2.12194440e-4)))),
    S('p', add(m(horner(m, L('r'), [1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1]), mul(L('r'), L('r')), L('r')), k(1))),
    S('n', `(i32x4.trunc_sat_f32x4_s ${L('n')})`),
    S('h', `(i32x4.shr_s ${L('n')} (i32.const 1))`),
    S('p', mul(mul(L('p'), `(i32x4.shl (i32x4.add ${L('h')} ${ki(127)}) (i32.const 23))`), `(i32x4.shl (i32x4.add (i32x4.sub ${L('n')} ${L('h')}) ${ki(127)}) (i32.const 23))`)),
    S('p', sel(k(Infinity), L('p'), `(f32x4.gt ${L('x')} ${k(88.72283935546875)})`)),
    S('p', sel(k(0), L('p'), `(f32x4.lt ${L('x')} ${k(-103.972)})`)),
    sel(L('x'), L('p'), `(f32x4.ne ${L('x')} ${L('x')})`),
  ].join('\n'));
  const log = fn('log', ['x'], ['e', 'm', 'z', 'y', 's', 'lt'], [
    // x = m 2^e with m in [sqrt(1/2), sqrt(2)); log(m) = f - f^2/2 + f^3 P(f), f = m - 1
    S('s', `(f32x4.lt ${L('x')} ${k(1.1754943508222875e-38)})`), // denormals: scale by 2^23 first
    S('m', sel(mul(L('x'), k(8388608)), L('x'), L('s'))),
    S('e', `(f32x4.convert_i32x4_s (i32x4.sub (i32x4.shr_u ${L('m')} (i32.const 23)) ${ki(126)}))`),
    S('e', sub(L('e'), `(v128.and ${L('s')} ${k(23)})`)),
    S('m', `(v128.or (v128.and ${L('m')} ${ki(0x007fffff)}) ${ki(0x3f000000)})`),
    S('lt', `(f32x4.lt ${L('m')} ${k(Math.SQRT1_2)})`),
    S('e', sub(L('e'), `(v128.and ${L('lt')} ${k(1)})`)),
    S('m', sub(add(L('m'), `(v128.and ${L('lt')} ${L('m')})`), k(1))),
    S('z', mul(L('m'), L('m'))),
    S('y', mul(mul(horner(m, L('m'), [7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1]), L('m')), L('z'))),
    S('y', m(L('e'), k(-2.12194440e-4), L('y'))),
    S('y', m(L('z'), k(-0.5), L('y'))),
    S('y', m(L('e'), k(0.693359375), add(L('m'), L('y')))),
    // log(0) = -inf, log(negative or nan) = nan, log(inf) = inf
    S('y', sel(k(-Infinity), L('y'), `(f32x4.eq ${L('x')} ${k(0)})`)),
    S('y', sel(k(NaN), L('y'), `(v128.not (f32x4.ge ${L('x')} ${k(0)}))`)),
    sel(k(Infinity), L('y'), `(f32x4.eq ${L('x')} ${k(Infinity)})`),
  ].join('\n'));
  const tanh = fn('tanh', ['x'], ['a', 'z', 'small', 'big'], [
    // |x| < 0.625: x + x^3 P(x^2); else sign(x) (1 - 2 / (e^{2|x|} + 1))
    S('a', `(f32x4.abs ${L('x')})`),
    S('z', mul(L('x'), L('x'))),
    S('small', m(mul(horner(m, L('z'), [-5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1, -3.33332819422e-1]), L('z')), L('x'), L('x'))),
    S('big', sub(k(1), div(k(2), add(`(call $exp ${add(L('a'), L('a'))})`, k(1))))),
    S('big', `(v128.or ${L('big')} (v128.and ${L('x')} ${ki(-0x80000000)}))`),
    sel(L('small'), L('big'), `(f32x4.lt ${L('a')} ${k(0.625)})`),
  ].join('\n'));
  const sigmoid = fn('sigmoid', ['x'], [], div(k(1), add(k(1), `(call $exp (f32x4.neg ${L('x')}))`)));
  // sin and cos share one kernel: q = round(x / (pi/2)) + quadrant shift, r = x - q pi/2 (three-part pi/2)
  const sincos = fn('sincos', ['x', 'shift'], ['q', 'r', 'z', 's', 'c', 'qi'], [
    S('q', `(f32x4.nearest ${mul(L('x'), k(2 / Math.PI))})`),
    S('r', sub(sub(sub(L('x'), mul(L('q'), k(1.5703125))), mul(L('q'), k(4.837512969970703125e-4))), mul(L('q'), k(7.54978995489188216e-8)))),
    S('z', mul(L('r'), L('r'))),
    S('s', m(mul(horner(m, L('z'), [-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1]), L('z')), L('r'), L('r'))),
    S('c', m(mul(horner(m, L('z'), [2.443315711809948e-5, -1.388731625493765e-3, 4.166664568298827e-2]), L('z')), L('z'), m(L('z'), k(-0.5), k(1)))),
    S('qi', `(i32x4.add (i32x4.trunc_sat_f32x4_s ${L('q')}) ${L('shift')})`),
    S('s', sel(L('c'), L('s'), `(i32x4.ne (v128.and ${L('qi')} ${ki(1)}) ${ki(0)})`)),
    `(v128.xor ${L('s')} (i32x4.shl (v128.and ${L('qi')} ${ki(2)}) (i32.const 30)))`,
  ].join('\n'));
  const sin = fn('sin', ['x'], [], `(call $sincos ${L('x')} ${ki(0)})`);
  const cos = fn('cos', ['x'], [], `(call $sincos ${L('x')} ${ki(1)})`);
  const pow = fn('pow', ['a', 'b'], ['r', 'odd', 'int'], [
    // |a|^b = exp(b log|a|); a < 0 needs an integer b (odd b: negative result), else nan; b = 0 gives 1
    S('r', `(call $exp ${mul(L('b'), `(call $log (f32x4.abs ${L('a')}))`)})`),
    S('int', `(f32x4.eq (f32x4.trunc ${L('b')}) ${L('b')})`),
    S('odd', `(v128.and ${L('int')} (f32x4.ne (f32x4.trunc ${mul(L('b'), k(0.5))}) ${mul(L('b'), k(0.5))}))`),
    S('r', `(v128.or ${L('r')} (v128.and (v128.and ${L('odd')} ${L('a')}) ${ki(-0x80000000)}))`),
    S('r', sel(k(NaN), L('r'), `(v128.andnot (f32x4.lt ${L('a')} ${k(0)}) ${L('int')})`)),
    sel(k(1), L('r'), `(f32x4.eq ${L('b')} ${k(0)})`),
  ].join('\n'));
  return [exp, log, tanh, sigmoid, sincos, sin, cos, pow, randomFunctions()].join('\n');
}

/** The counter-based RNG of ir/random.ts on i32x4 lanes (uniform and Box-Muller normal). */
function randomFunctions(): string {
  const mix = `(func $mix32 (param $x v128) (result v128)
(local.set $x (v128.xor (local.get $x) (i32x4.shr_u (local.get $x) (i32.const 16))))
(local.set $x (i32x4.mul (local.get $x) ${ki(0x7feb352d)}))
(local.set $x (v128.xor (local.get $x) (i32x4.shr_u (local.get $x) (i32.const 15))))
(local.set $x (i32x4.mul (local.get $x) ${ki(0x846ca68b)}))
(v128.xor (local.get $x) (i32x4.shr_u (local.get $x) (i32.const 16))))`;
  const bits = `(func $rbits (param $seed i32) (param $counter i32) (param $i v128) (result v128)
(call $mix32 (v128.xor (call $mix32 (v128.xor (call $mix32 (local.get $i)) (i32x4.splat (local.get $counter)))) (i32x4.splat (local.get $seed)))))`;
  const unit = (e: string): string => mul(`(f32x4.convert_i32x4_s ${e})`, k(1 / 16777216));
  const uniform = `(func $random_uniform (param $seed i32) (param $counter i32) (param $i v128) (result v128)
${unit(`(i32x4.shr_u (call $rbits (local.get $seed) (local.get $counter) (local.get $i)) (i32.const 8))`)})`;
  const normal = `(func $random_normal (param $seed i32) (param $counter i32) (param $i v128) (result v128) (local $u1 v128) (local $u2 v128)
(local.set $i (i32x4.shl (local.get $i) (i32.const 1)))
(local.set $u1 ${unit(`(i32x4.add (i32x4.shr_u (call $rbits (local.get $seed) (local.get $counter) (local.get $i)) (i32.const 8)) ${ki(1)})`)})
(local.set $u2 ${unit(`(i32x4.shr_u (call $rbits (local.get $seed) (local.get $counter) (i32x4.add (local.get $i) ${ki(1)})) (i32.const 8))`)})
${mul(`(f32x4.sqrt ${mul(k(-2), '(call $log (local.get $u1))')})`, `(call $cos ${mul(k(2 * Math.PI), '(local.get $u2)')})`)})`;
  return [mix, bits, uniform, normal].join('\n');
}
