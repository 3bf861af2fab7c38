// The elementwise ops' code: one table keyed by op name. Each entry renders scalar or vector code
// (the function's mode says which) from its rendered arguments. Ops WebAssembly has no instruction
// for (exp, log, tanh, sigmoid, pow, sin, cos) use the shared vector decompositions of math.ts:
// expanded inline (or called) in vector mode, called through lane 0 in scalar mode.
import type { Attrs } from '../../ir/graph.ts';
import { fail } from '../../ir/errors.ts';
import type { DType } from '../../ir/types.ts';
import type { ElementwiseOpName } from '../../ir/ops/index.ts';
import type { Func } from './func.ts';
import { fromLanes } from './expr.ts';
import { inlineMath, type MathName } from './math.ts';
import { get, lanes, scalarType, sconst, set, vconst } from './wat.ts';

export type OpCode = (f: Func, args: readonly string[], types: readonly DType[], out: DType, attrs: Attrs) => string;

const vec = (f: Func): boolean => f.vec !== null;
/** `f32`/`i32` in scalar mode, `f32x4`/`i32x4` in vector mode. */
const ty = (f: Func, d: DType): string => (vec(f) ? lanes(d) : scalarType(d));

function need(op: string, types: readonly DType[], ok: readonly DType[]): void {
  for (const t of types)
    if (!ok.includes(t)) fail('K6001', `${op}: no WebAssembly lowering for ${op} on ${t} (supports ${ok.join(', ')})`);
}

/** Binds rendered values to temporaries so a body can use each more than once. */
function bind(f: Func, d: DType, vals: readonly string[], body: (...xs: string[]) => string): string {
  const t = vec(f) ? 'v128' : scalarType(d);
  const ls = vals.map(() => f.tmp(t));
  const sets = vals.map((v, i) => set(ls[i]!, v)).join(' ');
  return `(block (result ${t}) ${sets} ${body(...ls.map(get))})`;
}

/** An instruction with the same name in scalar and vector form (add, sub, mul, sqrt, ...). */
const inst =
  (name: string, ok: readonly DType[] = ['f32']): OpCode =>
  (f, args, types) => {
    need(name, types, ok);
    return `(${ty(f, types[0]!)}.${name} ${args.join(' ')})`;
  };

/** A comparison: signed for i32, unsigned for bool (0 < 1, and masks -1 > 0 unsigned). */
const cmp =
  (name: string): OpCode =>
  (f, args, types) => {
    const d = types[0]!;
    return `(${ty(f, d)}.${name}${d === 'i32' ? '_s' : d === 'bool' ? '_u' : ''} ${args.join(' ')})`;
  };

/** A math.ts vector function: inline (or a call) in vector mode; in scalar mode a call through lane 0. */
const mathFn =
  (name: MathName): OpCode =>
  (f, args, types) => {
    need(name, types, ['f32']);
    if (vec(f)) return inlineMath(name, args, () => f.tmp('v128'), f.relaxed);
    return `(f32x4.extract_lane 0 (call $${name} ${args.map((a) => `(f32x4.splat ${a})`).join(' ')}))`;
  };

/** Scalar i32 min/max (wasm has no scalar instruction for them). */
const minmax =
  (name: 'min' | 'max'): OpCode =>
  (f, args, types) => {
    const d = types[0]!;
    need(name, types, ['f32', 'i32']);
    if (d === 'f32') return `(${ty(f, d)}.${name} ${args.join(' ')})`;
    if (vec(f)) return `(i32x4.${name}_s ${args.join(' ')})`;
    return bind(f, d, args, (a, b) => `(select ${a} ${b} (i32.${name === 'min' ? 'lt_s' : 'gt_s'} ${a} ${b}))`);
  };

const one = (f: Func, d: DType): string => (vec(f) ? vconst(d, 1) : sconst(d, 1));
const zero = (f: Func, d: DType): string => (vec(f) ? vconst(d, 0) : sconst(d, 0));

/** i32 division truncating toward zero, 0 for a zero divisor (wasm would trap); lane by lane in vector mode. */
const idiv: OpCode = (f, args) => {
  const s = (a: string, b: string): string =>
    `(select (i32.div_s ${a} (select ${b} (i32.const 1) ${b})) (i32.const 0) ${b})`;
  if (!vec(f)) return bind(f, 'i32', args, s);
  return bind(f, 'i32', args, (a, b) =>
    fromLanes('i32', (l) => s(`(i32x4.extract_lane ${l} ${a})`, `(i32x4.extract_lane ${l} ${b})`)),
  );
};

function cast(f: Func, x: string, from: DType, to: DType): string {
  if (from === to) return x;
  const v = vec(f);
  switch (`${from}>${to}`) {
    case 'f32>i32':
      return v ? `(i32x4.trunc_sat_f32x4_s ${x})` : `(i32.trunc_sat_f32_s ${x})`;
    case 'i32>f32':
      return v ? `(f32x4.convert_i32x4_s ${x})` : `(f32.convert_i32_s ${x})`;
    case 'bool>f32':
      return v ? `(v128.and ${x} ${vconst('f32', 1)})` : `(f32.convert_i32_u ${x})`;
    case 'bool>i32':
      return v ? `(i32x4.neg ${x})` : x;
    default:
      return `(${ty(f, from)}.ne ${x} ${zero(f, from)})`; // to bool
  }
}

export const OP_CODE = {
  add: inst('add', ['f32', 'i32']),
  sub: inst('sub', ['f32', 'i32']),
  mul: inst('mul', ['f32', 'i32']),
  div: (f, args, types, out, attrs) =>
    types[0] === 'i32' ? idiv(f, args, types, out, attrs) : inst('div')(f, args, types, out, attrs),
  maximum: minmax('max'),
  minimum: minmax('min'),
  pow: mathFn('pow'),
  neg: (f, [x], [d]) => {
    need('neg', [d!], ['f32', 'i32']);
    return d === 'i32' && !vec(f) ? `(i32.sub (i32.const 0) ${x})` : `(${ty(f, d!)}.neg ${x})`;
  },
  abs: (f, args, types) => {
    need('abs', types, ['f32', 'i32']);
    if (types[0] === 'f32' || vec(f)) return `(${ty(f, types[0]!)}.abs ${args[0]})`;
    return bind(f, 'i32', args, (x) => `(select (i32.sub (i32.const 0) ${x}) ${x} (i32.lt_s ${x} (i32.const 0)))`);
  },
  sign: (f, args, [d]) => {
    need('sign', [d!], ['f32', 'i32']);
    const t = ty(f, d!);
    if (d === 'i32')
      return bind(f, 'i32', args, (x) =>
        vec(f)
          ? `(i32x4.sub (i32x4.lt_s ${x} ${zero(f, d)}) (i32x4.gt_s ${x} ${zero(f, d)}))`
          : `(i32.sub (i32.gt_s ${x} (i32.const 0)) (i32.lt_s ${x} (i32.const 0)))`,
      );
    if (!vec(f))
      return bind(f, 'f32', args, (x) => `(select (f32.copysign (f32.const 1) ${x}) ${x} (f32.ne ${x} (f32.const 0)))`);
    return bind(
      f,
      'f32',
      args,
      (x) =>
        `(v128.bitselect (v128.or (v128.and ${x} ${vconst('i32', -0x80000000)}) ${one(f, d!)}) ${x} (${t}.ne ${x} ${zero(f, d!)}))`,
    );
  },
  relu: (f, [x], [d]) => minmax('max')(f, [x!, zero(f, d!)], [d!, d!], d!, {}),
  sqrt: inst('sqrt'),
  rsqrt: (f, [x], [d]) => `(${ty(f, d!)}.div ${one(f, 'f32')} (${ty(f, d!)}.sqrt ${x}))`,
  reciprocal: (f, [x], [d]) => `(${ty(f, d!)}.div ${one(f, 'f32')} ${x})`,
  floor: inst('floor'),
  ceil: inst('ceil'),
  exp: mathFn('exp'),
  log: mathFn('log'),
  tanh: mathFn('tanh'),
  sigmoid: mathFn('sigmoid'),
  sin: mathFn('sin'),
  cos: mathFn('cos'),
  stop_gradient: (_f, [x]) => x!,
  cast: (f, [x], [from], out) => cast(f, x!, from!, out),
  less: cmp('lt'),
  less_equal: cmp('le'),
  greater: cmp('gt'),
  greater_equal: cmp('ge'),
  equal: (f, args, types) => `(${ty(f, types[0]!)}.eq ${args.join(' ')})`,
  not_equal: (f, args, types) => `(${ty(f, types[0]!)}.ne ${args.join(' ')})`,
  where: (f, [c, a, b]) => (vec(f) ? `(v128.bitselect ${a} ${b} ${c})` : `(select ${a} ${b} ${c})`),
} satisfies Record<ElementwiseOpName, OpCode>;

/** The rendering of an elementwise op of a kernel body (undefined for a name outside the registry). */
export const opCode = (op: string): OpCode | undefined => (OP_CODE as Record<string, OpCode>)[op];
