// Packing the contraction operands that are not strided views, for the GEMM of matmul.ts.
//  - Patches: an operand one side of which ends in a channel run (ir/contraction.ts `channelVar`), as a
//    convolution's window reads its image. Rows packed a block at a time just before the block runs
//    (im2col: conv2d), or the transposed patches of a k block built into MR-row tiles (the filter
//    gradient). Pixel by pixel, the window's taps unrolled:
//    one guard test and one copy of C channels per tap. When the index and guards are affine (any window
//    but an upsampled one), the pixel's address and guard values are computed once, its taps read at
//    constant offsets, and a pixel whose window lies wholly inside the guards takes a path with no test.
//    A window with fewer image pixels than rows (the input gradient's, gathering the windows over dy
//    that cover each pixel of dx) is not packed: matmul.ts multiplies the image itself (read in place)
//    by B once per tap, into a table of one row per (image pixel, tap), and each output row sums the
//    rows of its valid taps (`gatherRows`): the products of taps in the padding are never computed.
//    Over an upsampled image (a strided conv's input gradient: div and mod in the index) the rows go
//    phase by phase (y mod s, x mod s; `phasesOf`), in each of which the index is affine and which taps
//    read an image pixel is known, so a row's taps are read at constant offsets from one address.
//  - Anything else: element by element through its index expression.
import { affineExpr, affineOf, channelVar, type Affine } from '../../ir/contraction.ts';
import { iadd, ic, imul, iv, substitute } from '../../ir/iexpr.ts';
import type { Bound, IExpr, Operand, SExpr } from '../../ir/kernel.ts';
import { indexVarsOf, mapIExpr } from '../../ir/kernel-walk.ts';
import { guardCond, ix, sx, withMode } from './expr.ts';
import type { Func } from './func.ts';
import { firstThread, share, splitLoop } from './threads.ts';
import { forLoop, get, i32c, set } from './wat.ts';

/** Windows with more taps than this are packed element by element. */
const MAX_TAPS = 64;

interface Sub {
  readonly v: number;
  readonly ext: number;
}

/** An operand read as patches. */
export interface Patch {
  readonly op: Operand;
  /** The pixel side's sub-coordinates, and the taps: the other side's but its last (the channel). */
  readonly pixels: readonly Sub[];
  readonly taps: readonly Sub[];
  readonly chan: number;
  readonly channels: number;
  /** The index and guards as affine forms, when they all are and every tap adds a non-negative offset. */
  readonly affine: { readonly at: Affine; readonly guards: readonly Affine[] } | null;
}

const subs = (first: number, ext: readonly number[]): Sub[] => ext.map((e, d) => ({ v: first + d, ext: e }));
const coef = (a: Affine, v: number): number => a.coefs[v] ?? 0;
const count = (s: readonly Sub[]): number => s.reduce((n, x) => n * x.ext, 1);

/** The operand as patches with its taps on `side` (rows: transposed patches), or null. */
export function patchOf(op: Operand, batch: number, side: 'rows' | 'cols'): Patch | null {
  const chan = channelVar(op, batch, side);
  if (chan === null || batch > 0) return null;
  const rows = subs(0, op.rows),
    cols = subs(op.rows.length, op.cols);
  const [tapSide, pixels] = side === 'rows' ? [rows, cols] : [cols, rows];
  const taps = tapSide.slice(0, -1);
  if (count(taps) > MAX_TAPS) return null;
  const at = affineOf(op.at),
    guards = (op.guard ?? []).map((g) => affineOf(g.e));
  const affine =
    at && taps.every((t) => coef(at, t.v) >= 0) && guards.every((g) => g !== null)
      ? { at, guards: guards as Affine[] }
      : null;
  return { op, pixels, taps, chan, channels: tapSide[tapSide.length - 1]!.ext, affine };
}

/** The taps' coordinates in order (the last fastest). */
function tapValues(p: Patch): number[][] {
  let out: number[][] = [[]];
  for (const t of p.taps) out = out.flatMap((vs) => Array.from({ length: t.ext }, (_, i) => [...vs, i]));
  return out;
}

/** Sets the sub-coordinates' locals from a flat index (an i32 expression). */
function setCoords(f: Func, s: readonly Sub[], flat: string): string {
  let inner = 1;
  const parts: string[] = [];
  for (let d = s.length - 1; d >= 0; d--) {
    const q = inner === 1 ? flat : `(i32.div_u ${flat} ${i32c(inner)})`;
    parts.push(set(f.v(s[d]!.v), d === 0 ? q : `(i32.rem_u ${q} ${i32c(s[d]!.ext)})`));
    inner *= s[d]!.ext;
  }
  return parts.join('\n');
}

/** Steps the sub-coordinates on by one, the last fastest. */
function stepCoords(f: Func, s: readonly Sub[]): string {
  let code = '';
  s.forEach((x, d) => {
    const v = f.v(x.v);
    const inc = set(v, `(i32.add ${get(v)} (i32.const 1))`);
    code = d === 0 ? inc : `${inc}\n(if (i32.eq ${get(v)} ${i32c(x.ext)}) (then ${set(v, i32c(0))}\n${code}))`;
  });
  return code;
}

/** Where a tap's channels are read, as a byte address of the element index e of its channel 0:
 *  start + e mul / div + tap tapStep (the operand's buffer: mul 4; a table of one row per (pixel, tap):
 *  e / C pixels of `taps` rows of a row's bytes). */
interface Space {
  readonly start: number;
  readonly mul: number;
  readonly div: number;
  readonly tapStep: number;
}

const imageSpace = (f: Func, p: Patch): Space => ({ start: f.buf(p.op.buf).offset, mul: 4, div: 1, tapStep: 0 });

/** An affine form's part over some vars, plus `offset`, times mul / div (exact: the caller checked), as an
 *  i32 expression of their locals. */
function partOf(f: Func, a: Affine, s: readonly Sub[], offset: number, mul = 1, div = 1): string {
  return s.reduce(
    (e, x) => (coef(a, x.v) ? `(i32.add ${e} (i32.mul ${get(f.v(x.v))} ${i32c((coef(a, x.v) * mul) / div)}))` : e),
    i32c(offset),
  );
}

const pixelBase = (f: Func): string => f.local('px_base', 'i32');
const guardLocal = (f: Func, i: number): string => f.local(`px_g${i}`, 'i32');

/** A loop over `n` pixels (n >= 1) from pixel `first` (i32 expressions): the pixel's sub-coordinates in
 *  their vars' locals (set again per pixel with `recompute`, when the body writes them) (affine: its channel 0's address in px_base, its guard values in px_g<i>); `body(k)`
 *  runs with k counting pixels from 0. */
function eachPixel(
  f: Func,
  p: Patch,
  sp: Space,
  first: string,
  n: string,
  body: (k: string) => string,
  tag: string,
  recompute = false,
): string {
  const k = f.local('px_k', 'i32');
  // the sub-coordinates step on, or (when the body writes their locals) are set again from the pixel index
  const per: string[] = recompute ? [setCoords(f, p.pixels, `(i32.add ${first} ${get(k)})`)] : [];
  if (p.affine) {
    const at = p.affine.at;
    per.push(set(pixelBase(f), partOf(f, at, p.pixels, sp.start + (at.offset * sp.mul) / sp.div, sp.mul, sp.div)));
    p.affine.guards.forEach((g, i) => per.push(set(guardLocal(f, i), partOf(f, g, p.pixels, g.offset))));
  }
  return `${recompute ? '' : setCoords(f, p.pixels, first)}
${set(k, i32c(0))}
(loop $Lpx${tag}
${per.join('\n')}
${body(k)}
${recompute ? '' : stepCoords(f, p.pixels)}
${set(k, `(i32.add ${get(k)} (i32.const 1))`)}
(br_if $Lpx${tag} (i32.lt_s ${get(k)} ${n})))`;
}

/** Range [min, max] of an affine form's part over some sub-coordinates. */
function range(a: Affine, s: readonly Sub[]): [number, number] {
  let lo = 0,
    hi = 0;
  for (const x of s) {
    const c = coef(a, x.v) * (x.ext - 1);
    if (c < 0) lo += c;
    else hi += c;
  }
  return [lo, hi];
}

/** The current pixel's taps, unrolled: `copy(tap, src, sOff)` for each tap inside the guards (src: a local
 *  holding an address, sOff: the constant byte offset from it of the tap's channel 0), `zero(tap)` for
 *  each outside. */
function eachTap(
  f: Func,
  p: Patch,
  sp: Space,
  copy: (tap: number, src: string, sOff: number) => string,
  zero: (tap: number) => string,
): string {
  const src = f.local('px_src', 'i32');
  const bounds = p.op.guard ?? [];
  const ifElse = (cond: string, then: string, tap: number): string => {
    const z = zero(tap);
    return `(if ${cond} (then ${then})${z ? `\n(else ${z})` : ''})`;
  };
  if (!p.affine) {
    // the index and guards evaluated per tap, the tap's coordinates constants
    return tapValues(p)
      .map((vals, t) => {
        const bind = [...p.taps.map((s, d) => set(f.v(s.v), i32c(vals[d]!))), set(f.v(p.chan), i32c(0))].join('\n');
        const e = sp.div === 1 ? ix(f, p.op.at) : `(i32.div_s ${ix(f, p.op.at)} ${i32c(sp.div)})`;
        const load = `${set(src, `(i32.add ${i32c(sp.start + t * sp.tapStep)} (i32.mul ${e} ${i32c(sp.mul)}))`)}\n${copy(t, src, 0)}`;
        return `${bind}\n${bounds.length ? ifElse(guardCond(f, bounds, 0), load, t) : load}`;
      })
      .join('\n');
  }
  const { at, guards } = p.affine;
  const tapPart = (a: Affine, vals: readonly number[]): number =>
    p.taps.reduce((s, x, d) => s + coef(a, x.v) * vals[d]!, 0);
  const tapBytes = (vals: readonly number[], t: number): number =>
    (tapPart(at, vals) * sp.mul) / sp.div + t * sp.tapStep;
  // guards that can fail somewhere: a pixel's window is inside when guard value + every tap part is
  const live = guards.flatMap((g, i) => {
    const [pl, ph] = range(g, p.pixels),
      [tl, th] = range(g, p.taps),
      b = bounds[i]!;
    return b.lo <= g.offset + pl + tl && g.offset + ph + th < b.hi ? [] : [{ g, i, lo: b.lo - tl, hi: b.hi - th, b }];
  });
  const values = tapValues(p);
  const fast = values.map((vals, t) => copy(t, pixelBase(f), tapBytes(vals, t))).join('\n');
  if (!live.length) return fast;
  const checked = values
    .map((vals, t) => {
      const tests = live.map(
        ({ g, i, b }) =>
          `(i32.lt_u (i32.add ${get(guardLocal(f, i))} ${i32c(tapPart(g, vals) - b.lo)}) ${i32c(b.hi - b.lo)})`,
      );
      const load = `${set(src, `(i32.add ${get(pixelBase(f))} ${i32c(tapBytes(vals, t))})`)}\n${copy(t, src, 0)}`;
      return ifElse(
        tests.reduce((x, y) => `(i32.and ${x} ${y})`),
        load,
        t,
      );
    })
    .join('\n');
  if (live.some((l) => l.hi <= l.lo)) return checked;
  const inside = live
    .map(({ i, lo, hi }) => `(i32.lt_u (i32.sub ${get(guardLocal(f, i))} ${i32c(lo)}) ${i32c(hi - lo)})`)
    .reduce((x, y) => `(i32.and ${x} ${y})`);
  return `(if ${inside} (then ${fast}) (else ${checked}))`;
}

/** dst[0..n) = src[..] (or 0 when src is null; dst += src with `add`), floats at byte addresses held in
 *  locals plus constant offsets. */
function copyFloats(
  f: Func,
  n: number,
  dst: string,
  src: string | null,
  tag: string,
  dOff = 0,
  sOff = 0,
  add = false,
): string {
  const op = (t: 'v128' | 'f32', d: string, s: string | null, o: number): string => {
    const value =
      s === null
        ? t === 'v128'
          ? '(v128.const i32x4 0 0 0 0)'
          : '(f32.const 0)'
        : `(${t}.load offset=${o + sOff} ${s})`;
    const sum = add ? `(${t === 'v128' ? 'f32x4' : 'f32'}.add (${t}.load offset=${o + dOff} ${d}) ${value})` : value;
    return `(${t}.store offset=${o + dOff} ${d} ${sum})`;
  };
  const full = n - (n % 4);
  const parts: string[] = [];
  if (full <= 64) for (let o = 0; o < full * 4; o += 16) parts.push(op('v128', get(dst), src && get(src), o));
  else {
    const i = f.local(`cp_${tag}`, 'i32');
    const at = (x: string): string => `(i32.add ${get(x)} ${get(i)})`;
    parts.push(forLoop(i, 0, full * 4, 16, op('v128', at(dst), src && at(src), 0), `cp${tag}`));
  }
  for (let o = full * 4; o < n * 4; o += 4) parts.push(op('f32', get(dst), src && get(src), o));
  return parts.join('\n');
}

/** Rows [first, first + n) of a patch operand (taps on its columns) row-major at dst + (r - first) k floats
 *  (im2col; zeros where a guard fails). */
export function patchRows(f: Func, p: Patch, first: string, n: string, dst: number): string {
  const d = f.local('ic_d', 'i32'),
    C = p.channels,
    k = count(p.taps) * C;
  const copy = (tap: number, src: string, sOff: number): string => copyFloats(f, C, d, src, 'a', tap * C * 4, sOff);
  const zero = (tap: number): string => copyFloats(f, C, d, null, 'z', tap * C * 4);
  return eachPixel(
    f,
    p,
    imageSpace(f, p),
    first,
    n,
    (i) => `${set(d, `(i32.add ${i32c(dst)} (i32.mul ${get(i)} ${i32c(k * 4)}))`)}
${eachTap(f, p, imageSpace(f, p), copy, zero)}`,
    'ic',
  );
}

/** Columns [first, first + n) of a transposed patch operand (taps on its rows), in tiles of `mr` rows of
 *  `kc` columns at dst: element (q, c) at dst + ((q / mr) kc + c - first) mr + q % mr floats. Pixel by pixel,
 *  each tap's C channels copied (C % 4 = 0: a tile's 4 rows are 4 channels of one tap, one v128) or zeroed. */
export function patchCols(f: Func, p: Patch, first: string, n: string, dst: string, kc: number, mr: number): string {
  const [d, c] = ['pt_d', 'pt_c'].map((s) => f.local(s, 'i32')) as [string, string];
  const C = p.channels;
  const vector = C % 4 === 0 && mr === 4,
    groups = vector ? C / 4 : C,
    unroll = groups <= 16;
  /** Byte offset from d of row q. */
  const at = (q: number): number => Math.floor(q / mr) * kc * mr * 4 + (q % mr) * 4;
  const channels = (tap: number, from: string | null, sOff = 0): string => {
    const t = vector ? 'v128' : 'f32',
      zero = vector ? '(v128.const i32x4 0 0 0 0)' : '(f32.const 0)',
      w = vector ? 16 : 4;
    if (unroll) {
      return [...Array(groups).keys()]
        .map(
          (q) =>
            `(${t}.store offset=${at(tap * C + q * (vector ? 4 : 1))} ${get(d)} ${from ? `(${t}.load offset=${sOff + q * w} ${get(from)})` : zero})`,
        )
        .join('\n');
    }
    const q = `(i32.add ${i32c(tap * C)} ${get(c)})`;
    const to = `(i32.add ${get(d)} (i32.add (i32.mul (i32.div_u ${q} ${i32c(mr)}) ${i32c(kc * mr * 4)}) (i32.shl (i32.rem_u ${q} ${i32c(mr)}) (i32.const 2))))`;
    const value = from ? `(${t}.load offset=${sOff} (i32.add ${get(from)} (i32.shl ${get(c)} (i32.const 2))))` : zero;
    return forLoop(c, 0, C, vector ? 4 : 1, `(${t}.store ${to} ${value})`, `ptc${tap}${from ? 'c' : 'z'}`);
  };
  return eachPixel(
    f,
    p,
    imageSpace(f, p),
    first,
    n,
    (i) => `${set(d, `(i32.add ${dst} (i32.mul ${get(i)} ${i32c(mr * 4)}))`)}
${eachTap(
  f,
  p,
  imageSpace(f, p),
  (tap, src, sOff) => channels(tap, src, sOff),
  (tap) => channels(tap, null),
)}`,
    'pt',
  );
}

/** The image pixels of a patch operand whose every channel run starts at a multiple of C in a buffer of
 *  whole pixels (the buffer as [pixels, C]), or null. */
export function imagePixels(p: Patch, size: number): number | null {
  const C = p.channels;
  const whole = (e: IExpr): boolean => {
    switch (e.k) {
      case 'int':
        return e.v % C === 0;
      case 'var':
        return e.i === p.chan || C === 1;
      case 'add':
      case 'sub':
        return whole(e.a) && whole(e.b);
      case 'mul':
        return whole(e.a) || whole(e.b);
      default:
        return C === 1;
    }
  };
  return size % C === 0 && whole(p.op.at) ? size / C : null;
}

/** Rows [0, m) of a contraction over a patch operand from `table`: one row of `width` floats per (image
 *  pixel, tap), the image pixel's channels times B's rows of that tap. Each row sums the table rows of
 *  the taps inside its guards into `acc` (width floats of scratch), then `emit(row, col, value, vector)`
 *  stores its columns. */
export function gatherRows(
  f: Func,
  p: Patch,
  m: number,
  table: number,
  width: number,
  acc: number,
  emit: (row: string, col: string, value: string, vector: boolean) => string,
): string {
  const sp: Space = { start: table, mul: count(p.taps) * width * 4, div: p.channels, tapStep: width * 4 };
  const [a, col] = ['gs_acc', 'gs_col'].map((s) => f.local(s, 'i32')) as [string, string];
  const full = width - (width % 4);
  const at = `(i32.add ${i32c(acc)} (i32.shl ${get(col)} (i32.const 2)))`;
  const sum = (row: string, tag: string, taps: string): string => `${copyFloats(f, width, a, null, 'g0')}
${taps}
${forLoop(col, 0, full, 4, emit(row, col, `(v128.load ${at})`, true), `gsv${tag}`)}
${forLoop(col, full, width, 1, emit(row, col, `(f32.load ${at})`, false), `gss${tag}`)}`;
  const phases = p.affine ? null : phasesOf(p);
  if (phases)
    return firstThread(
      f,
      `${set(a, i32c(acc))}\n${phases.map((ph, i) => phasedRows(f, p, sp, ph, `${i}`, (src) => copyFloats(f, width, a, src, 'g', 0, 0, true), sum)).join('\n')}`,
    );
  // a threaded build's threads each take a share of the rows
  const rows = share(f, m, 'gs');
  const all = `${set(a, i32c(acc))}
${eachPixel(
  f,
  p,
  sp,
  rows.lo,
  f.threads ? `(i32.sub ${rows.hi} ${rows.lo})` : rows.hi,
  (k) => {
    // the row: the pixel count k from the share's first row
    const row = f.threads ? f.local('gs_row', 'i32') : k;
    return `${f.threads ? `${set(row, `(i32.add ${rows.lo} ${get(k)})`)}\n` : ''}${copyFloats(f, width, a, null, 'g0')}
${eachTap(
  f,
  p,
  sp,
  (_t, src, sOff) => copyFloats(f, width, a, src, 'g', 0, sOff, true),
  () => '',
)}
${forLoop(col, 0, full, 4, emit(row, col, `(v128.load ${at})`, true), 'gsv')}
${forLoop(col, full, width, 1, emit(row, col, `(f32.load ${at})`, false), 'gss')}`;
  },
  'gs',
  true,
)}`;
  return f.threads ? `${rows.code}\n(if (i32.lt_s ${rows.lo} ${rows.hi}) (then\n${all}))` : all;
}

/** One phase of a window over an upsampled image (a strided convolution's input gradient): the pixels
 *  whose coordinates are start + step q (q < count), and the taps that read image pixels there, whose
 *  index and guards are affine in q: offsets per tap over coefficients shared by every tap. */
interface Phase {
  readonly start: readonly number[];
  readonly step: readonly number[];
  readonly count: readonly number[];
  readonly at: Affine;
  readonly guards: readonly { readonly g: Affine; readonly b: Bound }[];
  readonly taps: readonly { readonly t: number; readonly at: number; readonly guards: readonly number[] }[];
}

const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);

/** e as an affine form once each div or mod by a constant u of an affine form whose coefficients u
 *  divides is resolved (exact there: a mod guard keeps only the points it divides), or null. */
function liftedAffine(e: IExpr): Affine | null {
  return affineOf(
    mapIExpr(e, (x) => {
      if ((x.k !== 'div' && x.k !== 'mod') || x.b.k !== 'int' || x.b.v <= 0) return x;
      const a = affineOf(x.a),
        u = x.b.v;
      if (!a || a.coefs.some((c) => c % u !== 0)) return x;
      return x.k === 'div'
        ? affineExpr(
            Math.floor(a.offset / u),
            a.coefs.map((c) => c / u),
          )
        : ic(((a.offset % u) + u) % u);
    }),
  );
}

const sameCoefs = (a: Affine, b: Affine, s: readonly Sub[]): boolean => s.every((x) => coef(a, x.v) === coef(b, x.v));

/** The phases of a patch whose pixel coordinates are divided (div, mod) by constants, each pixel
 *  coordinate split by the divisors that read it; null when that leaves something not affine. */
function phasesOf(p: Patch): Phase[] | null {
  const bounds = p.op.guard ?? [],
    exprs = [p.op.at, ...bounds.map((g) => g.e)];
  const period = new Map<number, number>();
  for (const e of exprs) {
    mapIExpr(e, (x) => {
      if ((x.k === 'div' || x.k === 'mod') && x.b.k === 'int')
        for (const v of indexVarsOf(x.a))
          period.set(v, ((period.get(v) ?? 1) * x.b.v) / gcd(period.get(v) ?? 1, x.b.v));
      return x;
    });
  }
  const step = p.pixels.map((x) => period.get(x.v) ?? 1);
  if (step.every((s) => s === 1) || step.reduce((a, b) => a * b, 1) > 16) return null;
  let starts: number[][] = [[]];
  for (const s of step) starts = starts.flatMap((st) => Array.from({ length: s }, (_, i) => [...st, i]));
  const values = tapValues(p),
    phases: Phase[] = [];
  for (const start of starts) {
    const count = p.pixels.map((x, d) => Math.max(0, Math.ceil((x.ext - start[d]!) / step[d]!)));
    if (count.includes(0)) continue;
    let at: Affine | null = null;
    const guards: (Affine | null)[] = bounds.map(() => null),
      taps: Phase['taps'][number][] = [];
    for (const [t, vals] of values.entries()) {
      const sub = (i: number): IExpr => {
        const d = p.pixels.findIndex((x) => x.v === i),
          tap = p.taps.findIndex((x) => x.v === i);
        return d >= 0
          ? iadd(ic(start[d]!), imul(ic(step[d]!), iv(i)))
          : tap >= 0
            ? ic(vals[tap]!)
            : i === p.chan
              ? ic(0)
              : iv(i);
      };
      const ta = liftedAffine(substitute(p.op.at, sub));
      if (!ta || (at && !sameCoefs(at, ta, p.pixels))) return null;
      at ??= ta;
      const offs: number[] = [];
      let inside = true;
      for (const [i, b] of bounds.entries()) {
        const g = liftedAffine(substitute(b.e, sub));
        if (!g) return null;
        if (p.pixels.every((x) => coef(g, x.v) === 0)) inside &&= b.lo <= g.offset && g.offset < b.hi;
        else if (guards[i] && !sameCoefs(guards[i], g, p.pixels)) return null;
        else guards[i] ??= g;
        offs[i] = g.offset;
      }
      if (inside) taps.push({ t, at: ta.offset, guards: offs });
    }
    const live = bounds.flatMap((b, i) => (guards[i] ? [{ g: guards[i], b, i }] : []));
    phases.push({
      start,
      step,
      count,
      at: at!,
      guards: live.map(({ g, b }) => ({ g, b })),
      taps: taps.map((x) => ({ ...x, guards: live.map(({ i }) => x.guards[i]!) })),
    });
  }
  return phases;
}

/** The rows of one phase: per pixel its row, table address and guard values computed once, then
 *  `sum(row, tag, taps)` with `add(src)` for each of the phase's taps that its live guards admit. */
function phasedRows(
  f: Func,
  p: Patch,
  sp: Space,
  ph: Phase,
  tag: string,
  add: (src: string) => string,
  sum: (row: string, tag: string, taps: string) => string,
): string {
  const q = p.pixels.map((_, d) => f.local(`ph_q${d}`, 'i32'));
  const [row, src] = [f.local('ph_row', 'i32'), f.local('px_src', 'i32')];
  const rowStride = p.pixels.map((_, d) => count(p.pixels.slice(d + 1)));
  const part = (a: Affine, offset: number, mul = 1, div = 1): string =>
    p.pixels.reduce(
      (e, x, d) => (coef(a, x.v) ? `(i32.add ${e} (i32.mul ${get(q[d]!)} ${i32c((coef(a, x.v) * mul) / div)}))` : e),
      i32c(offset),
    );
  const rowAt = p.pixels.reduce(
    (e, _x, d) => `(i32.add ${e} (i32.mul ${get(q[d]!)} ${i32c(ph.step[d]! * rowStride[d]!)}))`,
    i32c(ph.start.reduce((n, s, d) => n + s * rowStride[d]!, 0)),
  );
  const per = [
    set(row, rowAt),
    set(pixelBase(f), part(ph.at, sp.start, sp.mul, sp.div)),
    ...ph.guards.map(({ g }, i) => set(guardLocal(f, i), part(g, 0))),
  ];
  const taps = ph.taps.map((tap) => {
    const load = `${set(src, `(i32.add ${get(pixelBase(f))} ${i32c((tap.at * sp.mul) / sp.div + tap.t * sp.tapStep)})`)}\n${add(src)}`;
    const tests = ph.guards.map(
      ({ b }, i) => `(i32.lt_u (i32.add ${get(guardLocal(f, i))} ${i32c(tap.guards[i]! - b.lo)}) ${i32c(b.hi - b.lo)})`,
    );
    return tests.length ? `(if ${tests.reduce((x, y) => `(i32.and ${x} ${y})`)} (then ${load}))` : load;
  });
  let body = `${per.join('\n')}\n${sum(row, `p${tag}`, taps.join('\n'))}`;
  for (let d = p.pixels.length - 1; d >= 0; d--) body = forLoop(q[d]!, 0, ph.count[d]!, 1, body, `ph${tag}q${d}`);
  return body;
}

/** Every element (r, c) of an operand through its index expression, stored as f32 at dst(r, c) (a byte
 *  address given the locals of r and c); 0 where a guard fails. With `split`, this thread's share of the rows. */
export function fillElements(
  f: Func,
  op: Operand,
  batch: number,
  dst: (r: string, c: string) => string,
  tag: string,
  split = false,
): string {
  const [r, c] = ['r', 'c'].map((s) => f.local(`fe_${s}${tag}`, 'i32')) as [string, string];
  const rowSubs = subs(batch, op.rows),
    colSubs = subs(batch + op.rows.length, op.cols);
  const load: SExpr = op.guard
    ? { k: 'load', buf: op.buf, at: op.at, guard: op.guard }
    : { k: 'load', buf: op.buf, at: op.at };
  let body = `(f32.store ${dst(r, c)} ${withMode(f, null, () => sx(f, load))})\n${set(c, `(i32.add ${get(c)} (i32.const 1))`)}`;
  for (let d = colSubs.length - 1; d >= 0; d--)
    body = forLoop(f.v(colSubs[d]!.v), 0, colSubs[d]!.ext, 1, body, `fe${tag}c${d}`);
  const row = `${setCoords(f, rowSubs, get(r))}\n${set(c, i32c(0))}\n${body}`;
  return splitLoop(f, split, r, 0, count(rowSubs), 1, row, `fe${tag}r`);
}
