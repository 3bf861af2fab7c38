// Kernel IR expressions -> WGSL expressions. The arena is one or a few `array<u32>` storage
// bindings (targets/wgsl/layout.ts); an f32 element is read with bitcast<f32>, an i32 with
// bitcast<i32>, a bool as `!= 0u`, so moving a value never touches its bits. Values keep their
// dtype in WGSL's spelling (f32, i32, bool). Integer index arithmetic is i32. Math the WGSL
// builtins do not give with the interpreter's semantics (stable sigmoid and tanh, pow of a negative
// base, i32 division by zero, the counter-based RNG of ir/random.ts) are small helper functions,
// emitted into a shader only when a kernel uses them.
import { fail } from '../../ir/errors.ts';
import type { BufferDecl, Combine, IExpr, SExpr } from '../../ir/kernel.ts';
import type { DType } from '../../ir/types.ts';
import { sexprDtype } from '../../ir/kernel-walk.ts';
import { iadd, ic, imul, linearForm } from '../../ir/iexpr.ts';
import type { Place } from './layout.ts';

/** What rendering an expression needs from its kernel: buffers, the binding of each arena chunk,
 *  the dtypes of accumulators and bindings, and the helpers used so far. */
export class Scope {
  /** arena chunk -> binding slot of this kernel, in order of first use. */
  readonly slots = new Map<number, number>();
  /** (buffer, constant term of an index) -> its field in the kernel's uniform of element offsets
   *  (`base.b{i}`), in order of first use: offsets are data, not code, so kernels that differ only in
   *  where their buffers live, or in which slice of one they read (an RNN's time steps), share one
   *  shader. */
  readonly bases = new Map<string, { readonly buf: string; readonly c: number; readonly field: number }>();
  readonly helpers = new Set<keyof typeof HELPERS>();
  readonly named = new Map<string, { wgsl: string; dtype: DType }>();
  /** Statements an expression needs before the statement that uses it (an inner reduction's loop);
   *  whoever emits a statement takes them first (`takePre`). */
  pre: string[] = [];
  /** WGSL for loop variable i where it is not `v{i}` (a contraction operand's sub-coordinates). */
  vars?: (i: number) => string | undefined;
  /** A load rendered another way where this returns its WGSL (a vec4 loop kernel's lane of a vec4). */
  load?: (e: Extract<SExpr, { k: 'load' }>) => string | undefined;
  private fresh = 0;
  constructor(
    readonly kernel: string,
    private readonly decls: ReadonlyMap<string, BufferDecl>,
    private readonly places: ReadonlyMap<string, Place>,
  ) {}

  /** A new variable name, unique in the kernel. */
  name(prefix: string): string {
    return `${prefix}${this.fresh++}`;
  }

  /** The pending statements, emptied. */
  takePre(): string {
    return this.pre.splice(0).join(' ');
  }

  decl(buf: string): BufferDecl {
    return this.decls.get(buf) ?? fail('K6001', `wgsl: kernel ${this.kernel} reads unknown buffer '${buf}'`);
  }

  /** The binding variable of `buf` and the uniform field of its element `c`: (`m0`, `base.b2`). */
  where(buf: string, c = 0): { mem: string; base: string } {
    const p =
      this.places.get(buf) ?? fail('K6001', `wgsl: buffer '${buf}' of kernel ${this.kernel} has no place in the arena`);
    let slot = this.slots.get(p.chunk);
    if (slot === undefined) this.slots.set(p.chunk, (slot = this.slots.size));
    const key = `${buf}@${c}`;
    let b = this.bases.get(key);
    if (b === undefined) this.bases.set(key, (b = { buf, c, field: this.bases.size }));
    return { mem: `m${slot}`, base: `base.b${b.field}` };
  }

  /** Whether vec4 loads and stores may be rendered (WgslOptions.vec4). */
  vec4 = true;
  /** Whether the chunks are bound as `array<vec4<u32>>` (a kernel with vec4 loads: `vec4At`), each
   *  scalar element then a component of one. Set before rendering anything. */
  wide = false;

  /** The u32 element at word `at` of binding `mem`. */
  private elem(mem: string, at: string): string {
    return this.wide ? `${mem}[(${at}) >> 2u][(${at}) & 3i]` : `${mem}[${at}]`;
  }

  /** `buf`'s element `at` (an i32 WGSL expression) as a storage reference of u32. */
  ref(buf: string, at: string): string {
    const { mem, base } = this.where(buf);
    return this.elem(mem, `${base} + ${at}`);
  }

  /** `buf`'s element at index `at` as a storage reference of u32; the index's constant term goes
   *  into the uniform field, its other terms stay in the code. */
  refAt(buf: string, at: IExpr): string {
    const { mem, base, rest } = this.split(buf, at);
    return this.elem(mem, `${base} + ${rest}`);
  }

  private split(buf: string, at: IExpr): { mem: string; base: string; rest: string } {
    const l = linearForm(at);
    const rest = [...l.terms.entries()]
      .filter(([, t]) => t.coef !== 0)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .reduce<IExpr>((sum, [, t]) => iadd(sum, imul(t.e, ic(t.coef))), ic(0));
    return { ...this.where(buf, l.c), rest: iexpr(this, rest) };
  }

  /** Whether element `at` of `buf` starts a 16-byte word for every point where `at`'s terms other
   *  than its constant are multiples of 4: its buffer's place plus the constant is. */
  aligned(buf: string, at: IExpr): boolean {
    const p = this.places.get(buf);
    return p !== undefined && (p.offset / 4 + linearForm(at).c) % 4 === 0;
  }

  /** The four elements of `buf` from index `at` (aligned: `aligned`) as one vec4<u32> reference. */
  vec4Ref(buf: string, at: IExpr): string {
    if (!this.wide) fail('K9001', `wgsl: kernel ${this.kernel}: a vec4 access in a kernel without vec4 bindings`);
    const { mem, base, rest } = this.split(buf, at);
    return `${mem}[(${base} + ${rest}) >> 2u]`;
  }

  /** The four f32 elements of `buf` from index `at` (aligned: `aligned`) as one vec4f load. */
  vec4At(buf: string, at: IExpr): string {
    return `bitcast<vec4f>(${this.vec4Ref(buf, at)})`;
  }

  /** Each field's element offset (its buffer's place plus its constant), in field order: the
   *  kernel's uniform data. */
  offsets(): number[] {
    return [...this.bases.values()].map((b) => this.places.get(b.buf)!.offset / 4 + b.c);
  }

  /** The `@group(0) @binding(i)` declarations of the chunks used, then the uniform of offsets
   *  (binding: the number of chunks). */
  bindings(): string {
    const fields = [...this.bases.values()].map((b) => `b${b.field}: i32`);
    return [
      ...[...this.slots.values()].map(
        (s) => `@group(0) @binding(${s}) var<storage, read_write> m${s}: array<${this.wide ? 'vec4<u32>' : 'u32'}>;`,
      ),
      ...(fields.length
        ? [`struct Base { ${fields.join(', ')} }`, `@group(0) @binding(${this.slots.size}) var<uniform> base: Base;`]
        : []),
    ].join('\n');
  }

  /** The helper functions used, each once. */
  helperCode(): string {
    const all = new Set<keyof typeof HELPERS>(['k_inf', 'k_nan']); // constants may name them
    const add = (h: keyof typeof HELPERS): void => {
      if (all.has(h)) return;
      for (const d of HELPER_DEPS[h] ?? []) add(d);
      all.add(h);
    };
    this.helpers.forEach(add);
    return [...all].map((h) => HELPERS[h]).join('\n');
  }
}

export const WGSL_TYPE: Readonly<Record<DType, string>> = { f32: 'f32', i32: 'i32', bool: 'bool' };

/** An f32 constant exactly (a finite f32 value prints as a decimal that parses back to it). */
export function f32Lit(v: number): string {
  const x = Math.fround(v);
  if (Number.isNaN(x)) return 'k_nan()';
  if (!Number.isFinite(x)) return x > 0 ? 'k_inf()' : '(-k_inf())';
  const s = Object.is(x, -0) ? '-0.0' : String(x);
  return `${s.includes('.') || s.includes('e') ? s : `${s}.0`}f`;
}

export function i32Lit(v: number): string {
  const x = v | 0;
  return x === -2147483648 ? 'bitcast<i32>(0x80000000u)' : `${x}i`;
}

export function constant(dtype: DType, v: number): string {
  if (dtype === 'f32') return wrapNeg(f32Lit(v));
  if (dtype === 'i32') return wrapNeg(i32Lit(v));
  return v !== 0 ? 'true' : 'false';
}

const wrapNeg = (s: string): string => (s.startsWith('-') ? `(${s})` : s);

/** A stored element of `dtype` read from a u32 reference. */
export function fromBits(dtype: DType, ref: string): string {
  return dtype === 'f32' ? `bitcast<f32>(${ref})` : dtype === 'i32' ? `bitcast<i32>(${ref})` : `(${ref} != 0u)`;
}

/** A value of `dtype` as the u32 bits stored for it. */
export function toBits(dtype: DType, v: string): string {
  return dtype === 'bool' ? `select(0u, 1u, ${v})` : `bitcast<u32>(${v})`;
}

const INFIX: Partial<Record<IExpr['k'], string>> = { add: '+', sub: '-', mul: '*', div: '/', mod: '%' };

/** An index expression as i32 WGSL; loop variable i is `v{i}`. */
export function iexpr(s: Scope, e: IExpr): string {
  switch (e.k) {
    case 'var':
      return s.vars?.(e.i) ?? `v${e.i}`;
    case 'int':
      return wrapNeg(i32Lit(e.v));
    case 'load':
      return fromBits('i32', s.refAt(e.buf, e.at));
    case 'min':
    case 'max':
      return `${e.k}(${iexpr(s, e.a)}, ${iexpr(s, e.b)})`;
    default:
      return `(${iexpr(s, e.a)} ${INFIX[e.k]} ${iexpr(s, e.b)})`;
  }
}

/** The dtype of a scalar expression's value. */
export function dtypeOf(s: Scope, e: SExpr): DType {
  return sexprDtype(
    e,
    (buf) => s.decl(buf).dtype,
    (name) =>
      s.named.get(name)?.dtype ?? fail('K6001', `wgsl: kernel ${s.kernel} reads '${name}', which it does not define`),
  );
}

/** A scalar expression as WGSL of its dtype. */
export function sexpr(s: Scope, e: SExpr): string {
  switch (e.k) {
    case 'const':
      return constant(e.dtype, e.v);
    case 'index':
      return iexpr(s, e.at);
    case 'acc':
    case 'let':
      return (
        s.named.get(e.name)?.wgsl ??
        fail('K6001', `wgsl: kernel ${s.kernel} reads '${e.name}', which it does not define`)
      );
    case 'load': {
      const lane = s.load?.(e);
      if (lane !== undefined) return lane;
      const value = fromBits(s.decl(e.buf).dtype, s.refAt(e.buf, e.at));
      if (!e.guard?.length) return value;
      // robust buffer access makes the discarded out-of-range load harmless; `&`, not `&&`: no
      // short-circuit branches (SwiftShader took a minute to compile a Winograd input transform's
      // two dozen guarded loads written with `&&`, a second with `&`)
      const inside = e.guard
        .map((g) => {
          const x = iexpr(s, g.e);
          return `((${x} >= ${g.lo}i) & (${x} < ${g.hi}i))`;
        })
        .join(' & ');
      return `select(${constant(s.decl(e.buf).dtype, e.otherwise ?? 0)}, ${value}, ${inside})`;
    }
    case 'random': {
      s.helpers.add(e.dist === 'uniform' ? 'rand_uniform' : 'rand_normal');
      return `rand_${e.dist}(${e.seed >>> 0}u, bitcast<u32>(${castTo(dtypeOf(s, e.counter), 'i32', sexpr(s, e.counter))}), bitcast<u32>(${iexpr(s, e.index)}))`;
    }
    case 'reduce':
      return reduction(s, e);
    case 'op': {
      const code = OP_CODE[e.op] ?? fail('K6001', `wgsl: no WGSL for op '${e.op}' (kernel ${s.kernel})`);
      return code(
        s,
        e.args.map((a) => sexpr(s, a)),
        e.args.map((a) => dtypeOf(s, a)),
        e.dtype,
      );
    }
  }
}

/** The first value of a fold by `c` over values of dtype `d`. */
export function combineInit(c: Combine, d: DType): string {
  if (c === 'sum') return constant(d, 0);
  const hi = c === 'min';
  return d === 'f32' ? constant('f32', hi ? Infinity : -Infinity) : constant('i32', hi ? 2147483647 : -2147483648);
}

/** `acc` combined with `x` (not argmax: it also tracks a position). first_max replaces only on a
 *  strictly greater value, so NaN never wins. */
export function combineStep(c: Combine, acc: string, x: string): string {
  if (c === 'sum') return `${acc} + ${x}`;
  if (c === 'first_max') return `select(${acc}, ${x}, ${x} > ${acc})`;
  return `${c}(${acc}, ${x})`;
}

/** An inner reduction: its loop goes into `s.pre` (inner reductions of its value inside the loop),
 *  in the interpreter's order; the expression is the variable holding the result. */
function reduction(s: Scope, e: Extract<SExpr, { k: 'reduce' }>): string {
  const outer = s.pre;
  s.pre = [];
  const t = dtypeOf(s, e.value),
    x = sexpr(s, e.value),
    inner = s.takePre();
  s.pre = outer;
  const acc = s.name('q'),
    r = s.name('qr'),
    R = e.extents.reduce((a, b) => a * b, 1);
  let stride = R;
  const coords = e.extents
    .map((n, d) => {
      stride /= n;
      const q = stride === 1 ? r : `(${r} / ${stride}i)`;
      return `let v${e.first + d} = ${d === 0 ? q : `${q} % ${n}i`};`;
    })
    .join(' ');
  if (e.combine === 'argmax') {
    s.pre.push(
      `var ${acc}b: ${WGSL_TYPE[t]} = ${combineInit('max', t)}; var ${acc} = 0i; var ${acc}s = false;`,
      `for (var ${r} = 0i; ${r} < ${R}i; ${r}++) { ${coords} ${inner} let x = ${x}; if (!${acc}s || x > ${acc}b) { ${acc}s = x == x; ${acc}b = x; ${acc} = ${r}; } }`,
    );
    return castTo('i32', e.dtype, acc);
  }
  s.pre.push(
    `var ${acc}: ${WGSL_TYPE[t]} = ${combineInit(e.combine, t)};`,
    `for (var ${r} = 0i; ${r} < ${R}i; ${r}++) { ${coords} ${inner} ${acc} = ${combineStep(e.combine, acc, `(${x})`)}; }`,
  );
  return castTo(t, e.dtype, acc);
}

/** A value of dtype `from` converted as the interpreter's `coerce` does (f32 -> i32 truncates, -> bool is != 0). */
export function castTo(from: DType, to: DType, x: string): string {
  if (from === to) return x;
  if (to === 'bool') return `(${x} != ${constant(from, 0)})`;
  return `${WGSL_TYPE[to]}(${x})`;
}

type OpCode = (s: Scope, args: readonly string[], types: readonly DType[], out: DType) => string;

const infix =
  (op: string): OpCode =>
  (_s, [a, b]) =>
    `(${a} ${op} ${b})`;
const call =
  (fn: string): OpCode =>
  (_s, args) =>
    `${fn}(${args.join(', ')})`;
const helper =
  (h: keyof typeof HELPERS): OpCode =>
  (s, args) => {
    s.helpers.add(h);
    return `${h}(${args.join(', ')})`;
  };
/** Ordering comparisons; bools compare as 0 < 1. */
const order =
  (op: string): OpCode =>
  (_s, [a, b], [t]) =>
    t === 'bool' ? `(i32(${a}) ${op} i32(${b}))` : `(${a} ${op} ${b})`;

/** Each elementwise op of the registry, as the interpreter computes it (ir/ops/elementwise.ts). */
export const OP_CODE: Readonly<Record<string, OpCode>> = {
  add: infix('+'),
  sub: infix('-'),
  mul: infix('*'),
  div: (_s, [a, b], [t]) => (t === 'i32' ? `select(${a} / ${b}, 0i, ${b} == 0i)` : `(${a} / ${b})`),
  maximum: call('max'),
  minimum: call('min'),
  pow: helper('k_pow'),
  neg: (_s, [x]) => `(-${x})`,
  abs: call('abs'),
  sign: call('sign'),
  relu: (_s, [x], [t]) => `select(${constant(t!, 0)}, ${x}, ${x} > ${constant(t!, 0)})`,
  sqrt: call('sqrt'),
  rsqrt: (_s, [x]) => `(1.0f / sqrt(${x}))`,
  reciprocal: (_s, [x]) => `(1.0f / ${x})`,
  floor: call('floor'),
  ceil: call('ceil'),
  exp: call('exp'),
  log: call('log'),
  tanh: helper('k_tanh'),
  sigmoid: helper('k_sigmoid'),
  sin: call('sin'),
  cos: call('cos'),
  stop_gradient: (_s, [x]) => x!,
  cast: (_s, [x], [from], out) => castTo(from!, out, x!),
  less: order('<'),
  less_equal: order('<='),
  greater: order('>'),
  greater_equal: order('>='),
  equal: infix('=='),
  not_equal: infix('!='),
  where: (_s, [c, a, b]) => `select(${b}, ${a}, ${c})`,
};

/** Helper functions by name; the RNG is ir/random.ts's lowbias32 finalizer with wrapping u32 multiplies. */
const HELPERS = {
  // infinity and NaN cannot be constant expressions in WGSL: bit patterns made at run time
  k_inf: 'fn k_inf() -> f32 { let bits = 0x7f800000u; return bitcast<f32>(bits); }',
  k_nan: 'fn k_nan() -> f32 { let bits = 0x7fc00000u; return bitcast<f32>(bits); }',
  // 1 / (1 + e^-x) through e^-|x|, which never overflows
  k_sigmoid: `fn k_sigmoid(x: f32) -> f32 {
  let e = exp(-abs(x));
  return select(e / (1.0f + e), 1.0f / (1.0f + e), x >= 0.0f);
}`,
  // sign(x) (1 - e^-2|x|) / (1 + e^-2|x|): no inf / inf for large |x|
  k_tanh: `fn k_tanh(x: f32) -> f32 {
  let e = exp(-2.0f * abs(x));
  return sign(x) * (1.0f - e) / (1.0f + e);
}`,
  // Math.pow: a negative base to an integer power keeps the power's parity, to any other power is NaN
  k_pow: `fn k_pow(a: f32, b: f32) -> f32 {
  if (b == 0.0f) { return 1.0f; }
  if (a == 0.0f) { return select(0.0f, k_inf(), b < 0.0f); }
  let m = pow(abs(a), b);
  if (a > 0.0f) { return m; }
  if (floor(b) != b) { return k_nan(); }
  return select(m, -m, b - 2.0f * floor(0.5f * b) == 1.0f);
}`,
  k_mix32: `fn k_mix32(x0: u32) -> u32 {
  var x = x0 ^ (x0 >> 16u);
  x = x * 0x7feb352du;
  x = x ^ (x >> 15u);
  x = x * 0x846ca68bu;
  return x ^ (x >> 16u);
}`,
  rand_bits: `fn rand_bits(seed: u32, counter: u32, index: u32) -> u32 {
  return k_mix32(k_mix32(k_mix32(index) ^ counter) ^ seed);
}`,
  rand_uniform: `fn rand_uniform(seed: u32, counter: u32, index: u32) -> f32 {
  return f32(rand_bits(seed, counter, index) >> 8u) * 5.9604644775390625e-8f;
}`,
  // cos(2 pi t) for t in [0, 1) to about 1e-7 (WGSL's cos may be off by 2^-11 in absolute terms):
  // quadrant q and a remainder r in [-pi/4, pi/4], then Taylor series of sin and cos
  k_cos2pi: `fn k_cos2pi(t: f32) -> f32 {
  let q = round(4.0f * t);
  let r = 1.5707963267948966f * (4.0f * t - q);
  let r2 = r * r;
  let c = 1.0f + r2 * (-0.5f + r2 * (0.041666668f + r2 * (-0.0013888889f + r2 * 0.000024801587f)));
  let s = r * (1.0f + r2 * (-0.16666667f + r2 * (0.008333334f + r2 * -0.0001984127f)));
  let k = i32(q) & 3;
  return select(select(select(s, -c, k == 2), -s, k == 1), c, k == 0);
}`,
  rand_normal: `fn rand_normal(seed: u32, counter: u32, index: u32) -> f32 {
  let u1 = f32((rand_bits(seed, counter, 2u * index) >> 8u) + 1u) * 5.9604644775390625e-8f;
  let u2 = f32(rand_bits(seed, counter, 2u * index + 1u) >> 8u) * 5.9604644775390625e-8f;
  return sqrt(-2.0f * log(u1)) * k_cos2pi(u2);
}`,
} as const;

const HELPER_DEPS: Partial<Record<keyof typeof HELPERS, readonly (keyof typeof HELPERS)[]>> = {
  k_pow: ['k_inf', 'k_nan'],
  rand_bits: ['k_mix32'],
  rand_uniform: ['rand_bits'],
  rand_normal: ['rand_bits', 'k_cos2pi'],
};
