// conv2d and its gradient forms as GEMMs on the matmul micro-kernel (matmul.ts `gemm`, `packB`).
// NHWC activations, [KH,KW,C,F] filters, K = KH*KW*C, rows = output pixels:
//  conv2d              out[N*OH*OW, F] = patches(x)[N*OH*OW, K] x w[K, F]; each block of MC patch rows is
//                      written into scratch just before the block runs (im2col, zeros for padding).
//  conv2d_input_grad   dpatches[N*OH*OW, K] = dy[N*OH*OW, F] x w^T[F, K], a block of MC rows at a time into
//                      scratch, each block then added into the zeroed dx (col2im); the caller runs the
//                      epilogue in place afterwards.
//  conv2d_filter_grad  dw[K, F] = patches(x)^T[K, N*OH*OW] x dy[N*OH*OW, F], k (pixels) in blocks: each block's
//                      transposed patches are built into scratch in 4-row tiles (L2-sized) just before it
//                      runs; dy is read in place when F % 8 = 0 (packed otherwise).
// im2col, col2im and the patch build walk the pixels in order with the window's taps unrolled; a window
// wholly inside x copies at constant offsets with no per-tap bounds test.
// The epilogue (bias, activation) runs on each result tile as it is stored.
import type { IExpr, SExpr, TemplateKernel } from '../../ir/kernel.ts';
import { store, sx } from './expr.ts';
import { Func, type BufInfo } from './func.ts';
import { blockK, blockKLen, blockRow, gemm, gemmScratchBytes, MC, MR, NR, packB } from './matmul.ts';
import { forLoop, get, i32c, set } from './wat.ts';

/** An im2col: input [n, h, w, c] read through a kh x kw window at output pixels [oh, ow]. */
interface Geom {
  readonly n: number; readonly h: number; readonly w: number; readonly c: number;
  readonly oh: number; readonly ow: number;
  readonly kh: number; readonly kw: number;
  readonly sh: number; readonly sw: number; readonly dh: number; readonly dw: number;
  readonly pt: number; readonly pl: number;
}

const panelBytes = (n: number, k: number): number => Math.ceil(n / NR) * NR * k * 4;
/** Rows of A the micro-kernel may read (whole tiles of 4). */
const aRows = (m: number): number => Math.ceil(m / MR) * MR;
const ints = (k: TemplateKernel, name: string, d: readonly number[]): number[] => [...((k.attrs[name] as readonly number[] | undefined) ?? d)];

/** The im2col geometry of a conv template (null: not a conv). */
function geomOf(k: TemplateKernel): Geom | null {
  const [sh, sw] = ints(k, 'strides', [1, 1]) as [number, number];
  const [dh, dw] = ints(k, 'dilations', [1, 1]) as [number, number];
  const [pt, , pl] = ints(k, 'pads', [0, 0, 0, 0]) as [number, number, number];
  const [a, b] = k.inputTypes.map((t) => t.shape) as [readonly number[], readonly number[]];
  const o = k.outType.shape;
  switch (k.op) {
    case 'conv2d': return { n: a[0]!, h: a[1]!, w: a[2]!, c: a[3]!, oh: o[1]!, ow: o[2]!, kh: b[0]!, kw: b[1]!, sh, sw, dh, dw, pt, pl };
    case 'conv2d_filter_grad': return { n: a[0]!, h: a[1]!, w: a[2]!, c: a[3]!, oh: b[1]!, ow: b[2]!, kh: o[0]!, kw: o[1]!, sh, sw, dh, dw, pt, pl };
    // patches of dx (the conv's input) at the pixels of dy
    case 'conv2d_input_grad': return { n: o[0]!, h: o[1]!, w: o[2]!, c: o[3]!, oh: a[1]!, ow: a[2]!, kh: b[0]!, kw: b[1]!, sh, sw, dh, dw, pt, pl };
    default: return null;
  }
}

/** The convs rendered whole by `renderConv` (conv2d_input_grad scatters: `convInputGrad` is its body). */
export const CONV_OPS = ['conv2d', 'conv2d_filter_grad'] as const;

/** Bytes of scratch a conv needs (packed B, then A or the block of results), or null when k is not a conv. */
export function convScratchBytes(k: TemplateKernel): number | null {
  const g = geomOf(k);
  if (!g) return null;
  const K = g.kh * g.kw * g.c, M = g.n * g.oh * g.ow, F = k.inputTypes[1]!.shape[3]!;
  if (k.op === 'conv2d_filter_grad') {
    const kc = filterKc(K);
    return (F % NR === 0 ? 0 : panelBytes(F, M)) + aRows(K) * kc * 4 + gemmScratchBytes(F, M, kc, aRows(K));
  }
  // input grad: dy is A in place, read up to 3 rows past its end
  if (k.op === 'conv2d_input_grad') return panelBytes(K, F) + MC * K * 4 + gemmScratchBytes(K, F) + 3 * F * 4 + 16;
  return panelBytes(F, K) + MC * K * 4 + gemmScratchBytes(F, K);
}

/** dst[0..count) = src[..] (or 0 when src is null; or dst += src with `add`), floats at byte addresses held in
 *  locals plus constant offsets. */
function copyFloats(f: Func, count: number, dst: string, src: string | null, tag: string, add = false, dOff = 0, sOff = 0): string {
  const op = (t: 'v128' | 'f32', d: string, s: string, o: number): string => {
    const value = s === '' ? (t === 'v128' ? '(v128.const i32x4 0 0 0 0)' : '(f32.const 0)') : `(${t}.load offset=${o + sOff} ${s})`;
    const v = add ? `(${t === 'v128' ? 'f32x4' : 'f32'}.add (${t}.load offset=${o + dOff} ${d}) ${value})` : value;
    return `(${t}.store offset=${o + dOff} ${d} ${v})`;
  };
  const full = count - (count % 4);
  const parts: string[] = [];
  if (full <= 64) for (let o = 0; o < full * 4; o += 16) parts.push(op('v128', get(dst), src ? get(src) : '', o));
  else {
    const i = f.local(`cp_${tag}`, 'i32');
    const at = (x: string): string => `(i32.add ${get(x)} ${get(i)})`;
    parts.push(forLoop(i, 0, full * 4, 16, op('v128', at(dst), src ? at(src) : '', 0), `cp${tag}`));
  }
  for (let o = full * 4; o < count * 4; o += 4) parts.push(op('f32', get(dst), src ? get(src) : '', o));
  return parts.join('\n');
}

/** A loop over `count` output pixels from pixel `first` (i32 expressions): per pixel the locals h, w hold
 *  its window's top-left input coordinates (oh*sh - pt, ow*sw - pl) and base the address of x[n, h, w, 0]
 *  (wrapped when outside x); `body(k)` runs with k counting pixels from 0, then (n, oh, ow) step on. */
function eachPixel(f: Func, g: Geom, x: number, first: string, count: string, body: (k: string) => string, tag: string): string {
  const [n, h, w, base, k] = ['px_n', 'px_h', 'px_w', 'px_base', 'px_k'].map((s) => f.local(s, 'i32')) as [string, string, string, string, string];
  const P = g.oh * g.ow;
  return `${set(n, `(i32.div_u ${first} ${i32c(P)})`)}
${set(h, `(i32.sub (i32.mul (i32.div_u (i32.rem_u ${first} ${i32c(P)}) ${i32c(g.ow)}) ${i32c(g.sh)}) ${i32c(g.pt)})`)}
${set(w, `(i32.sub (i32.mul (i32.rem_u ${first} ${i32c(g.ow)}) ${i32c(g.sw)}) ${i32c(g.pl)})`)}
${set(k, i32c(0))}
(loop $Lpx${tag}
${set(base, `(i32.add ${i32c(x)} (i32.mul (i32.add (i32.mul (i32.add (i32.mul ${get(n)} ${i32c(g.h)}) ${get(h)}) ${i32c(g.w)}) ${get(w)}) ${i32c(g.c * 4)}))`)}
${body(k)}
(if (i32.eq ${get(w)} ${i32c((g.ow - 1) * g.sw - g.pl)})
(then ${set(w, i32c(-g.pl))}
(if (i32.eq ${get(h)} ${i32c((g.oh - 1) * g.sh - g.pt)}) (then ${set(h, i32c(-g.pt))} ${set(n, `(i32.add ${get(n)} (i32.const 1))`)}) (else ${set(h, `(i32.add ${get(h)} ${i32c(g.sh)})`)})))
(else ${set(w, `(i32.add ${get(w)} ${i32c(g.sw)})`)}))
${set(k, `(i32.add ${get(k)} (i32.const 1))`)}
(br_if $Lpx${tag} (i32.lt_s ${get(k)} ${count})))`;
}

/** The pixel's window taps, unrolled: `inBounds(tap, src)` for each tap inside x (src: a local holding the
 *  address of its channel 0), `outside(tap)` for each in the padding. A window wholly inside x (always,
 *  when no window reaches the padding) takes a path with no per-tap test, reading at constant offsets
 *  from the pixel's base. */
function windowTaps(f: Func, g: Geom, inBounds: (tap: number, src: string, sOff: number) => string, outside: (tap: number) => string): string {
  const [h, w, base, src] = ['px_h', 'px_w', 'px_base', 'px_src'].map((s) => f.local(s, 'i32')) as [string, string, string, string];
  const span = (size: number, out: number, s: number, pad: number, k: number, d: number): boolean => pad === 0 && (out - 1) * s + (k - 1) * d < size;
  const allInside = span(g.h, g.oh, g.sh, g.pt, g.kh, g.dh) && span(g.w, g.ow, g.sw, g.pl, g.kw, g.dw);
  const fast: string[] = [], checked: string[] = [];
  for (let i = 0; i < g.kh; i++) {
    for (let j = 0; j < g.kw; j++) {
      const tap = i * g.kw + j, off = (i * g.dh * g.w + j * g.dw) * g.c * 4;
      fast.push(inBounds(tap, base, off));
      if (allInside) continue;
      const out = outside(tap);
      checked.push(`(if (i32.and (i32.lt_u (i32.add ${get(h)} ${i32c(i * g.dh)}) ${i32c(g.h)}) (i32.lt_u (i32.add ${get(w)} ${i32c(j * g.dw)}) ${i32c(g.w)}))
(then ${set(src, `(i32.add ${get(base)} ${i32c(off)})`)}
${inBounds(tap, src, 0)})${out ? `\n(else ${out})` : ''})`);
    }
  }
  if (allInside) return fast.join('\n');
  const inside = `(i32.and (i32.and (i32.ge_s ${get(h)} (i32.const 0)) (i32.lt_s ${get(h)} ${i32c(g.h - (g.kh - 1) * g.dh)})) (i32.and (i32.ge_s ${get(w)} (i32.const 0)) (i32.lt_s ${get(w)} ${i32c(g.w - (g.kw - 1) * g.dw)})))`;
  return `(if ${inside} (then ${fast.join('\n')}) (else ${checked.join('\n')}))`;
}

/** The patches of the current row block, rows [i0, min(i0 + MC, M)) at block + (r - i0) K: im2col copies
 *  them out of the image x (zeros for padding); col2im adds them into it (padding taps dropped). */
function patchBlock(f: Func, g: Geom, x: number, block: number, mode: 'im2col' | 'col2im'): string {
  const K = g.kh * g.kw * g.c, M = g.n * g.oh * g.ow;
  const d = f.local('ic_d', 'i32');
  const i0 = blockRow(f);
  const count = `(i32.sub (select ${i32c(M)} (i32.add ${get(i0)} ${i32c(MC)}) (i32.lt_s ${i32c(M)} (i32.add ${get(i0)} ${i32c(MC)}))) ${get(i0)})`;
  const copy = (tap: number, src: string, sOff: number): string => (mode === 'im2col'
    ? copyFloats(f, g.c, d, src, 'a', false, tap * g.c * 4, sOff)
    : copyFloats(f, g.c, src, d, 'a', true, sOff, tap * g.c * 4));
  const zero = (tap: number): string => (mode === 'im2col' ? copyFloats(f, g.c, d, null, 'z', false, tap * g.c * 4) : '');
  return eachPixel(f, g, x, get(i0), count, (k) => `${set(d, `(i32.add ${i32c(block)} (i32.mul ${get(k)} ${i32c(K * 4)}))`)}
${windowTaps(f, g, copy, zero)}`, 'ic');
}

/** k (output pixels) per block of the filter grad: the block's transposed patches (all K rows) stay in L2. */
const filterKc = (K: number): number => Math.max(16, Math.min(256, Math.floor(65536 / aRows(K)) & ~15));

/** The filter grad's A for the current k block: the transposed patches A[q, p] = patch p's element q for
 *  the block's pixels p0 <= p < p0 + kb, in MR-row tiles (`aTiled`, tile length kc) at dst. Pixel by pixel,
 *  (n, oh, ow) stepped along; each window tap is tested once, then its C channels copied (a tile of 4 rows
 *  is 4 channels of one tap when C % 4 = 0: one v128 each) or zeroed for padding. */
function patchSliceT(f: Func, g: Geom, x: number, dst: number, kc: number): string {
  const [d, c] = ['pt_d', 'pt_c'].map((s) => f.local(s, 'i32')) as [string, string];
  const C = g.c;
  const vector = C % 4 === 0, groups = vector ? C / 4 : C, unroll = groups <= 16;
  /** Byte offset from d of A[q, p] for q = tap * C + ch. */
  const at = (q: number): number => (Math.floor(q / MR) * kc) * MR * 4 + (q % MR) * 4;
  // one tap's C channels (from: a local holding the pixel's channel 0 less sOff, or null: zeros)
  const channels = (tap: number, from: string | null, sOff = 0): string => {
    const t = vector ? 'v128' : 'f32', zero = vector ? '(v128.const i32x4 0 0 0 0)' : '(f32.const 0)', w = vector ? 16 : 4;
    if (unroll) {
      return [...Array(groups).keys()].map((q) => `(${t}.store offset=${at(tap * C + q * (vector ? 4 : 1))} ${get(d)} ${from ? `(${t}.load offset=${sOff + q * w} ${get(from)})` : zero})`).join('\n');
    }
    // q = tap C + c: tile q / MR, row q % MR
    const q = `(i32.add ${i32c(tap * C)} ${get(c)})`;
    const to = `(i32.add ${get(d)} (i32.add (i32.mul (i32.shr_u ${q} (i32.const 2)) ${i32c(kc * MR * 4)}) (i32.shl (i32.and ${q} (i32.const 3)) (i32.const 2))))`;
    const value = from ? `(${t}.load offset=${sOff} (i32.add ${get(from)} (i32.shl ${get(c)} (i32.const 2))))` : zero;
    return forLoop(c, 0, C, vector ? 4 : 1, `(${t}.store ${to} ${value})`, `ptc${tap}${from ? 'c' : 'z'}`);
  };
  return eachPixel(f, g, x, get(blockK(f)), get(blockKLen(f)), (k) => `${set(d, `(i32.add ${i32c(dst)} (i32.shl ${get(k)} (i32.const 4)))`)}
${windowTaps(f, g, channels, (tap) => channels(tap, null))}`, 'pt');
}

/** Loop variables an expression reads. */
function varsOf(e: SExpr | undefined, out = new Set<number>()): Set<number> {
  const ivars = (x: IExpr): void => {
    if (x.k === 'var') out.add(x.i);
    else if (x.k === 'load') ivars(x.at);
    else if (x.k !== 'int') { ivars(x.a); ivars(x.b); }
  };
  if (!e) return out;
  if (e.k === 'load') { ivars(e.at); e.guard?.forEach((b) => ivars(b.e)); }
  else if (e.k === 'index') ivars(e.at);
  else if (e.k === 'random') { ivars(e.index); varsOf(e.counter, out); }
  else if (e.k === 'op') e.args.forEach((a) => varsOf(a, out));
  return out;
}

/** Stores a result (a vector of 4 columns or a scalar, by the mode) into the output viewed as [rows, cols]
 *  (its last axis is cols), through the epilogue;
 *  the output's leading coordinates are set from the row only when the epilogue reads them. */
export function emitRows(k: TemplateKernel) {
  const shape = k.outType.shape, r = shape.length, cols = shape[r - 1]!;
  const used = varsOf(k.epilogue);
  const epi: SExpr = k.epilogue ?? { k: 'acc', name: 'out' };
  const at: IExpr = { k: 'add', a: { k: 'mul', a: { k: 'var', i: r }, b: { k: 'int', v: cols } }, b: { k: 'var', i: r - 1 } };
  return (g: Func, row: string, col: string, value: string): string => {
    const vector = g.vec !== null;
    g.vec = vector ? r - 1 : null;
    const local = g.local(vector ? 'out_v' : 'out_s', vector ? 'v128' : 'f32');
    g.accs.set('out', { local, dtype: 'f32', vector });
    const parts = [set(g.v(r), get(row)), set(g.v(r - 1), get(col))];
    let inner = 1;
    for (let d = r - 2; d >= 0; d--) {
      if (used.has(d)) parts.push(set(g.v(d), `(i32.rem_u (i32.div_u ${get(row)} ${i32c(inner)}) ${i32c(shape[d]!)})`));
      inner *= shape[d]!;
    }
    parts.push(set(local, value), store(g, k.out, at, sx(g, epi)));
    return parts.join('\n');
  };
}

/** conv2d_input_grad's body (dx is zeroed before it runs, its epilogue runs after): dy x w^T by blocks
 *  of rows into scratch, each block added into dx. */
export function convInputGrad(f: Func, k: TemplateKernel, scratch: number): string {
  const g = geomOf(k)!;
  const DY = f.buf(k.inputs[0]!), Wt = f.buf(k.inputs[1]!);
  const K = g.kh * g.kw * g.c, M = g.n * g.oh * g.ow, F = k.inputTypes[1]!.shape[3]!;
  if (K === 0 || M === 0 || F === 0) return '';
  const block = scratch + panelBytes(K, F);
  // B[p, j] = w[j, p] viewing w as [K, F]
  const pack = packB(f, { n: K, k: F, dst: scratch, contiguous: false, src: (p, j) => `(i32.add ${i32c(Wt.offset)} (i32.shl (i32.add (i32.mul ${j} ${i32c(F)}) ${p}) (i32.const 2)))` }, '');
  const emit = (e: Func, row: string, col: string, value: string): string => {
    const at = `(i32.add ${i32c(block)} (i32.shl (i32.add (i32.mul (i32.sub ${get(row)} ${get(blockRow(e))}) ${i32c(K)}) ${get(col)}) (i32.const 2)))`;
    return `(${e.vec !== null ? 'v128' : 'f32'}.store ${at} ${value})`;
  };
  const mm = gemm(f, { m: M, n: K, k: F, aAddr: i32c(DY.offset), aRowBytes: F * 4, packedB: scratch, emit, partial: block + MC * K * 4, finish: patchBlock(f, g, f.buf(k.out).offset, block, 'col2im') });
  return `${pack}\n${mm}`;
}

/** The GEMM rendering of conv2d or conv2d_filter_grad, or null for other templates. */
export function renderConv(k: TemplateKernel, name: string, bufs: ReadonlyMap<string, BufInfo>, scratch: number, relaxed: boolean): string | null {
  const g = geomOf(k);
  if (!g) return null;
  const f = new Func(name, bufs, relaxed);
  const X = f.buf(k.inputs[0]!), B = f.buf(k.inputs[1]!);
  const K = g.kh * g.kw * g.c, M = g.n * g.oh * g.ow;
  const emit = emitRows(k);
  if ([K, M, k.outType.shape[3]!].includes(0)) return f.render(k.outType.shape.includes(0) ? '' : `(memory.fill ${i32c(f.buf(k.out).offset)} (i32.const 0) ${i32c(k.outType.shape.reduce((a, b) => a * b, 1) * 4)})`);
  if (k.op === 'conv2d_filter_grad') {
    // one row block of all K rows; each k block of pixels builds its slice of A, dy (B) is read in place
    const F = k.outType.shape[3]!, kc = filterKc(K), inPlace = F % NR === 0;
    const slice = scratch + (inPlace ? 0 : panelBytes(F, M));
    const pack = inPlace ? '' : packB(f, { n: F, k: M, dst: scratch, contiguous: true, src: (p, j) => `(i32.add ${i32c(B.offset)} (i32.shl (i32.add (i32.mul ${p} ${i32c(F)}) ${j}) (i32.const 2)))` }, '');
    const aAddr = `(i32.sub ${i32c(slice)} (i32.mul ${get(blockK(f))} ${i32c(MR * 4)}))`;
    const mm = gemm(f, {
      m: K, n: F, k: M, aAddr, aRowBytes: 0, aTiled: true, aTileK: kc, kc, mc: aRows(K), packedB: inPlace ? B.offset : scratch,
      ...(inPlace ? { bRowBytes: F * 4 } : {}), emit, partial: slice + aRows(K) * kc * 4, prepareK: patchSliceT(f, g, X.offset, slice, kc),
    });
    return f.render(`${pack}\n${mm}`);
  }
  if (k.op !== 'conv2d') return null;
  const F = k.outType.shape[3]!;
  const pack = packB(f, { n: F, k: K, dst: scratch, contiguous: true, src: (p, j) => `(i32.add ${i32c(B.offset)} (i32.shl (i32.add (i32.mul ${p} ${i32c(F)}) ${j}) (i32.const 2)))` }, '');
  const packedA = scratch + panelBytes(F, K);
  const aAddr = `(i32.sub ${i32c(packedA)} (i32.mul ${get(blockRow(f))} ${i32c(K * 4)}))`;
  const mm = gemm(f, { m: M, n: F, k: K, aAddr, aRowBytes: K * 4, packedB: scratch, emit, partial: packedA + MC * K * 4, prepare: patchBlock(f, g, X.offset, packedA, 'im2col') });
  return f.render(`${pack}\n${mm}`);
}
