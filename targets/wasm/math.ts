// The one decomposition of the transcendental functions WebAssembly lacks: f32x4 polynomial
// approximations (Cephes-style range reduction + minimax polynomials). Each is written once, as a
// body over named locals, and instantiated two ways: as a module function (`mathFunctions`; scalar
// code calls it through lane 0) or expanded inline into a vector kernel with the kernel's own locals
// (`inlineMath`: V8 treats every xmm register as caller-saved, so a call in a loop kernel spills its
// live vectors). Both instantiations compute the same values.
// Accuracy is tested against Math over the whole f32 range in test/targets/wasm-math.test.ts.
import { fail } from '../../ir/errors.ts';
import { flit } from './wat.ts';

const k = (v: number): string => `(v128.const f32x4 ${flit(v)} ${flit(v)} ${flit(v)} ${flit(v)})`;
const ki = (v: number): string => `(v128.const i32x4 ${v | 0} ${v | 0} ${v | 0} ${v | 0})`;
const add = (a: string, b: string): string => `(f32x4.add ${a} ${b})`;
const sub = (a: string, b: string): string => `(f32x4.sub ${a} ${b})`;
const mul = (a: string, b: string): string => `(f32x4.mul ${a} ${b})`;
const div = (a: string, b: string): string => `(f32x4.div ${a} ${b})`;
const sel = (a: string, b: string, m: string): string => `(v128.bitselect ${a} ${b} ${m})`;
/** x clamped to [lo, hi]; a NaN x stays NaN (pmin/pmax keep their first operand when unordered, one instruction each). */
const clamp = (x: string, lo: number, hi: number): string => `(f32x4.pmin (f32x4.pmax ${x} ${k(lo)}) ${k(hi)})`;

type Mad = (a: string, b: string, c: string) => string;
/** a*b + c (fused when relaxed SIMD is on). */
const mad =
  (relaxed: boolean): Mad =>
  (a, b, c) =>
    relaxed ? `(f32x4.relaxed_madd ${a} ${b} ${c})` : add(mul(a, b), c);

/** Horner evaluation of c[0]*x^(n-1) + ... + c[n-1]. */
const horner = (m: Mad, x: string, c: readonly number[]): string =>
  c.slice(1).reduce((acc, ci) => m(acc, x, k(ci)), k(c[0]!));

export type MathName = 'exp' | 'exp_clamped' | 'log' | 'tanh' | 'sigmoid' | 'sincos' | 'sin' | 'cos' | 'pow';

/** Where a math body is instantiated: `L`/`S` read and write its named locals (parameters included),
 *  `call` invokes another math function (a call, or a nested inline expansion). */
interface Scope {
  readonly m: Mad;
  L(n: string): string;
  S(n: string, v: string): string;
  call(fn: MathName, ...args: string[]): string;
}

interface MathDef {
  readonly params: readonly string[];
  readonly locals: readonly string[];
  /** Statements; the last leaves the result. */
  readonly body: (s: Scope) => readonly string[];
}

/** 2^23 + 2^22: adding it rounds an f32 of magnitude < 2^22 to an integer n (ties to even) and leaves n in
 *  the low mantissa bits, so (bits << 23) is n in an exponent field; no nearest/trunc_sat conversions. */
const MAGIC = 12582912;
const MAGIC_BITS = 0x4b400000;

/** The shared core of e^x (locals c, t, n, r, p): c = x clamped to [lo, hi], t = c/ln2 + MAGIC,
 *  n = round(c/ln2), r = c - n ln2 (two-part ln2), p = e^r = 1 + r + r^2 P(r) with P of degree 4 (a weighted
 *  minimax fit on |r| <= 0.35, relative error 3.3e-9, far below f32 rounding; Cephes's degree 5 bought
 *  nothing measurable); e^c = p 2^n. */
function expReduced(s: Scope, lo: number, hi: number): string[] {
  const { m, L, S } = s;
  return [
    S('c', clamp(L('x'), lo, hi)),
    S('t', m(L('c'), k(Math.LOG2E), k(MAGIC))),
    S('n', sub(L('t'), k(MAGIC))),
    S('r', m(L('n'), k(2.1219444e-4), m(L('n'), k(-0.693359375), L('c')))),
    S(
      'p',
      add(
        m(
          horner(m, L('r'), [1.3813133241e-3, 8.3694244177e-3, 4.1668457335e-2, 1.6666514744e-1, 4.9999993048e-1]),
          mul(L('r'), L('r')),
          L('r'),
        ),
        k(1),
      ),
    ),
  ];
}

/** The f32 2^i from i32 lanes i in [-126, 127]. */
const pow2 = (i: string): string => `(i32x4.shl (i32x4.add ${i} ${ki(127)}) (i32.const 23))`;

const DEFS: Readonly<Record<MathName, MathDef>> = {
  exp: {
    // the whole f32 range: 2^n applied in two halves (covers denormal results), inf above 88.72, 0 below -103.97; NaN propagates
    params: ['x'],
    locals: ['c', 't', 'n', 'r', 'p', 'i', 'h'],
    body: (s) => [
      ...expReduced(s, -104, 89),
      s.S('i', `(i32x4.sub ${s.L('t')} ${ki(MAGIC_BITS)})`),
      s.S('h', `(i32x4.shr_s ${s.L('i')} (i32.const 1))`),
      s.S('p', mul(mul(s.L('p'), pow2(s.L('h'))), pow2(`(i32x4.sub ${s.L('i')} ${s.L('h')})`))),
      s.S('p', sel(k(Infinity), s.L('p'), `(f32x4.gt ${s.L('x')} ${k(88.72283935546875)})`)),
      sel(k(0), s.L('p'), `(f32x4.lt ${s.L('x')} ${k(-103.972)})`),
    ],
  },
  exp_clamped: {
    // e^clamp(x, -87, 88): 2^n is a normal f32 (its bits are t << 23, rebiased), one scale, no special
    // cases; NaN propagates. For sigmoid and tanh, whose saturation makes the rest unnecessary.
    params: ['x'],
    locals: ['c', 't', 'n', 'r', 'p'],
    body: (s) => [
      ...expReduced(s, -87, 88),
      mul(s.L('p'), `(i32x4.add (i32x4.shl ${s.L('t')} (i32.const 23)) ${ki(127 << 23)})`),
    ],
  },
  log: {
    // x = m 2^e with m in [sqrt(1/2), sqrt(2)); log(m) = f - f^2/2 + f^3 P(f), f = m - 1
    params: ['x'],
    locals: ['e', 'm', 'z', 'y', 's', 'lt'],
    body: ({ m, L, S }) => [
      S('s', `(f32x4.lt ${L('x')} ${k(1.1754943508222875e-38)})`), // denormals: scale by 2^23 first
      S('m', sel(mul(L('x'), k(8388608)), L('x'), L('s'))),
      S('e', `(f32x4.convert_i32x4_s (i32x4.sub (i32x4.shr_u ${L('m')} (i32.const 23)) ${ki(126)}))`),
      S('e', sub(L('e'), `(v128.and ${L('s')} ${k(23)})`)),
      S('m', `(v128.or (v128.and ${L('m')} ${ki(0x007fffff)}) ${ki(0x3f000000)})`),
      S('lt', `(f32x4.lt ${L('m')} ${k(Math.SQRT1_2)})`),
      S('e', sub(L('e'), `(v128.and ${L('lt')} ${k(1)})`)),
      S('m', sub(add(L('m'), `(v128.and ${L('lt')} ${L('m')})`), k(1))),
      S('z', mul(L('m'), L('m'))),
      S(
        'y',
        mul(
          mul(
            horner(
              m,
              L('m'),
              [
                7.0376836292e-2, -1.151461031e-1, 1.167699874e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1,
                2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1,
              ],
            ),
            L('m'),
          ),
          L('z'),
        ),
      ),
      S('y', m(L('e'), k(-2.1219444e-4), L('y'))),
      S('y', m(L('z'), k(-0.5), L('y'))),
      S('y', m(L('e'), k(0.693359375), add(L('m'), L('y')))),
      // log(0) = -inf, log(negative or nan) = nan, log(inf) = inf
      S('y', sel(k(-Infinity), L('y'), `(f32x4.eq ${L('x')} ${k(0)})`)),
      S('y', sel(k(NaN), L('y'), `(v128.not (f32x4.ge ${L('x')} ${k(0)}))`)),
      sel(k(Infinity), L('y'), `(f32x4.eq ${L('x')} ${k(Infinity)})`),
    ],
  },
  tanh: {
    // |x| < 0.625: x + x^3 P(x^2); else sign(x) (1 - 2 / (e^{2|x|} + 1)), e clamped (tanh is 1 in f32 from |x| = 9.1)
    params: ['x'],
    locals: ['a', 'z', 'small', 'big'],
    body: ({ m, L, S, call }) => [
      S('a', `(f32x4.abs ${L('x')})`),
      S('z', mul(L('x'), L('x'))),
      S(
        'small',
        m(
          mul(
            horner(
              m,
              L('z'),
              [-5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1, -3.33332819422e-1],
            ),
            L('z'),
          ),
          L('x'),
          L('x'),
        ),
      ),
      S('big', sub(k(1), div(k(2), add(call('exp_clamped', add(L('a'), L('a'))), k(1))))),
      S('big', `(v128.or ${L('big')} (v128.and ${L('x')} ${ki(-0x80000000)}))`),
      sel(L('small'), L('big'), `(f32x4.lt ${L('a')} ${k(0.625)})`),
    ],
  },
  sigmoid: {
    // 1 / (1 + e^-x), e clamped: 1 from x = 17, and sigmoid(-88) ~ 6e-39 (a denormal) for every x below -88
    params: ['x'],
    locals: [],
    body: ({ L, call }) => [div(k(1), add(k(1), call('exp_clamped', `(f32x4.neg ${L('x')})`)))],
  },
  sincos: {
    // sin and cos share one kernel: q = round(x / (pi/2)) + quadrant shift, r = x - q pi/2 (three-part pi/2)
    params: ['x', 'shift'],
    locals: ['q', 'r', 'z', 's', 'c', 'qi'],
    body: ({ m, L, S }) => [
      S('q', `(f32x4.nearest ${mul(L('x'), k(2 / Math.PI))})`),
      S(
        'r',
        sub(
          sub(sub(L('x'), mul(L('q'), k(1.5703125))), mul(L('q'), k(4.837512969970703125e-4))),
          mul(L('q'), k(7.54978995489188216e-8)),
        ),
      ),
      S('z', mul(L('r'), L('r'))),
      S('s', m(mul(horner(m, L('z'), [-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1]), L('z')), L('r'), L('r'))),
      S(
        'c',
        m(
          mul(horner(m, L('z'), [2.443315711809948e-5, -1.388731625493765e-3, 4.166664568298827e-2]), L('z')),
          L('z'),
          m(L('z'), k(-0.5), k(1)),
        ),
      ),
      S('qi', `(i32x4.add (i32x4.trunc_sat_f32x4_s ${L('q')}) ${L('shift')})`),
      S('s', sel(L('c'), L('s'), `(i32x4.ne (v128.and ${L('qi')} ${ki(1)}) ${ki(0)})`)),
      `(v128.xor ${L('s')} (i32x4.shl (v128.and ${L('qi')} ${ki(2)}) (i32.const 30)))`,
    ],
  },
  sin: { params: ['x'], locals: [], body: ({ L, call }) => [call('sincos', L('x'), ki(0))] },
  cos: { params: ['x'], locals: [], body: ({ L, call }) => [call('sincos', L('x'), ki(1))] },
  pow: {
    // |a|^b = exp(b log|a|); a < 0 needs an integer b (odd b: negative result), else nan; b = 0 gives 1
    params: ['a', 'b'],
    locals: ['r', 'odd', 'int'],
    body: ({ L, S, call }) => [
      S('r', call('exp', mul(L('b'), call('log', `(f32x4.abs ${L('a')})`)))),
      S('int', `(f32x4.eq (f32x4.trunc ${L('b')}) ${L('b')})`),
      S('odd', `(v128.and ${L('int')} (f32x4.ne (f32x4.trunc ${mul(L('b'), k(0.5))}) ${mul(L('b'), k(0.5))}))`),
      S('r', `(v128.or ${L('r')} (v128.and (v128.and ${L('odd')} ${L('a')}) ${ki(-0x80000000)}))`),
      S('r', sel(k(NaN), L('r'), `(v128.andnot (f32x4.lt ${L('a')} ${k(0)}) ${L('int')})`)),
      sel(k(1), L('r'), `(f32x4.eq ${L('b')} ${k(0)})`),
    ],
  },
};

/** The functions a vector kernel expands inline; the rest (larger, rarer) stay calls. */
const INLINED: ReadonlySet<MathName> = new Set(['exp', 'exp_clamped', 'sigmoid', 'tanh']);

const funcScope = (relaxed: boolean): Scope => ({
  m: mad(relaxed),
  L: (n) => `(local.get $${n})`,
  S: (n, v) => `(local.set $${n} ${v})`,
  call: (fn, ...args) => `(call $${fn} ${args.join(' ')})`,
});

/** The WAT of every math function, with or without relaxed fused multiply-add. */
export function mathFunctions(relaxed: boolean): string {
  const s = funcScope(relaxed);
  const fns = Object.entries(DEFS).map(
    ([name, d]) =>
      `(func $${name} ${d.params.map((p) => `(param $${p} v128)`).join(' ')} (result v128) ${d.locals.map((l) => `(local $${l} v128)`).join(' ')}\n${d.body(s).join('\n')})`,
  );
  return [...fns, randomFunctions()].join('\n');
}

/** `fn` applied to vector arguments (rendered WAT), in a kernel that allocates fresh v128 locals with
 *  `fresh`: the body expanded inline for the small hot functions, a call for the others. */
export function inlineMath(fn: MathName, args: readonly string[], fresh: () => string, relaxed: boolean): string {
  const d = DEFS[fn];
  if (args.length !== d.params.length)
    fail('K6001', `wasm math: ${fn} takes ${d.params.length} arguments, got ${args.length}`);
  if (!INLINED.has(fn)) return `(call $${fn} ${args.join(' ')})`;
  const locals = new Map([...d.params, ...d.locals].map((n) => [n, fresh()]));
  const s: Scope = {
    m: mad(relaxed),
    L: (n) => `(local.get ${locals.get(n)!})`,
    S: (n, v) => `(local.set ${locals.get(n)!} ${v})`,
    call: (g, ...a) => inlineMath(g, a, fresh, relaxed),
  };
  const params = d.params.map((p, i) => s.S(p, args[i]!));
  return `(block (result v128) (; ${fn} ;) ${[...params, ...d.body(s)].join('\n')})`;
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
