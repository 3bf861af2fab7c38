// max_pool2d and max_pool2d_grad vectorized over channels (NHWC: C contiguous). Per window, each tap's
// pixel address is computed once (-1 for padding, tested only when some window reaches the padding);
// then 4 channels at a time (scalars for the channels past the last multiple of 4):
//  max_pool2d       the first maximal tap's value (as the reference): with every tap in bounds, the first tap
//                   then f32x4.pmax with each later one; stored through the epilogue.
//  max_pool2d_grad  the first maximal tap is tracked per lane (best value, tap id); dy goes to the tap whose
//                   id matches (a masked value). When windows overlap it is added into the zeroed dx
//                   (`maxPoolGrad`, the epilogue then runs in place); when they abut (stride = window, no
//                   padding) each element of dx is stored once, through the epilogue (`renderPool`), the
//                   uncovered last rows and columns as 0, with no zeroing pass.
import type { TemplateKernel } from '../../ir/kernel.ts';
import { emitRows } from './conv.ts';
import { withMode } from './expr.ts';
import { Func, type BufInfo } from './func.ts';
import { forLoop, get, i32c, set } from './wat.ts';

interface Pool {
  readonly n: number; readonly h: number; readonly w: number; readonly c: number;
  readonly oh: number; readonly ow: number;
  readonly kh: number; readonly kw: number; readonly sh: number; readonly sw: number;
  readonly pt: number; readonly pl: number;
  /** No window reaches the padding: every tap is in bounds. */
  readonly interior: boolean;
  /** The windows do not overlap (each element of x is in at most one). */
  readonly disjoint: boolean;
  /** Interior windows that abut (stride = window): they cover x but for its last rows and columns. */
  readonly abut: boolean;
}

function poolOf(k: TemplateKernel): Pool {
  const x = k.inputTypes[0]!.shape, y = k.op === 'max_pool2d' ? k.outType.shape : k.inputTypes[1]!.shape;
  const [kh, kw] = k.attrs['window'] as readonly number[] as [number, number];
  const [sh, sw] = ((k.attrs['strides'] as readonly number[] | undefined) ?? [1, 1]) as [number, number];
  const [pt, , pl] = ((k.attrs['pads'] as readonly number[] | undefined) ?? [0, 0, 0, 0]) as [number, number, number];
  const [n, h, w, c] = x as [number, number, number, number], [oh, ow] = [y[1]!, y[2]!];
  const interior = pt === 0 && pl === 0 && (oh - 1) * sh + kh <= h && (ow - 1) * sw + kw <= w;
  const disjoint = sh >= kh && sw >= kw;
  return { n, h, w, c, oh, ow, kh, kw, sh, sw, pt, pl, interior, disjoint, abut: interior && sh === kh && sw === kw };
}

/** The loops over windows: per window the locals tap[t] (x[n, h, w, 0]'s byte offset, or -1 in the padding),
 *  pix[t] (its pixel index (n H + h) W + w), y (the window's pixel index in y) set, then `group` for each 4
 *  channels (local ch) and each channel left. */
function windows(f: Func, p: Pool, group: (vector: boolean, ch: string, tap: readonly string[], y: string, pix: readonly string[]) => string): string {
  const [n, oh, ow, ch, h, w, y] = ['pn', 'poh', 'pow', 'pch', 'ph', 'pw', 'py'].map((s) => f.local(s, 'i32')) as [string, string, string, string, string, string, string];
  const tap = [...Array(p.kh * p.kw).keys()].map((t) => f.local(`ptap${t}`, 'i32'));
  const pix = tap.map((_, t) => f.local(`ppix${t}`, 'i32'));
  const setTaps = tap.map((local, t) => {
    const i = Math.floor(t / p.kw), j = t % p.kw;
    const hw = `${set(h, `(i32.add (i32.mul ${get(oh)} ${i32c(p.sh)}) ${i32c(i - p.pt)})`)} ${set(w, `(i32.add (i32.mul ${get(ow)} ${i32c(p.sw)}) ${i32c(j - p.pl)})`)}`;
    const at = `(i32.mul ${get(pix[t]!)} ${i32c(p.c * 4)})`;
    return `${hw}\n${set(pix[t]!, `(i32.add (i32.mul (i32.add (i32.mul ${get(n)} ${i32c(p.h)}) ${get(h)}) ${i32c(p.w)}) ${get(w)})`)}
${set(local, p.interior ? at : `(select ${at} (i32.const -1) (i32.and (i32.lt_u ${get(h)} ${i32c(p.h)}) (i32.lt_u ${get(w)} ${i32c(p.w)})))`)}`;
  }).join('\n');
  const full = p.c - (p.c % 4);
  const window = `${setTaps}
${set(y, `(i32.add (i32.mul (i32.add (i32.mul ${get(n)} ${i32c(p.oh)}) ${get(oh)}) ${i32c(p.ow)}) ${get(ow)})`)}
${forLoop(ch, 0, full, 4, group(true, ch, tap, y, pix), 'pcv')}
${forLoop(ch, full, p.c, 1, group(false, ch, tap, y, pix), 'pct')}`;
  return forLoop(n, 0, p.n, 1, forLoop(oh, 0, p.oh, 1, forLoop(ow, 0, p.ow, 1, window, 'pow'), 'poh'), 'pn');
}

/** Runs `body` for tap t when it is in bounds (always, for interior windows). */
const ifIn = (p: Pool, tap: string, body: string): string => (p.interior ? body : `(if (i32.ge_s ${get(tap)} (i32.const 0)) (then ${body}))`);

/** Vector (4 channels) or scalar spellings of a channel group. */
function lanesOf(f: Func, vector: boolean, ch: string) {
  return {
    vector,
    ld: vector ? 'v128.load' : 'f32.load', st: vector ? 'v128.store' : 'f32.store',
    t: vector ? ('v128' as const) : ('f32' as const),
    /** Byte offset of channel ch at a tap. */
    at: (tap: string): string => `(i32.add ${get(tap)} (i32.shl ${get(ch)} (i32.const 2)))`,
    local: (name: string, scalar: 'f32' | 'i32' = 'f32'): string => f.local(`${name}${vector ? '' : '_s'}`, vector ? 'v128' : scalar),
  };
}

/** The first maximal in-bounds tap per lane: sets `best` (its value) and `idx` (its tap id, -1 before any). */
function argmax(f: Func, p: Pool, x: BufInfo, vector: boolean, ch: string, tap: readonly string[]): { code: string; idx: string; best: string } {
  const l = lanesOf(f, vector, ch);
  const [best, idx, v, m] = [l.local('pbest'), l.local('pidx', 'i32'), l.local('pv'), l.local('pm', 'i32')];
  const id = (t: number): string => (vector ? `(v128.const i32x4 ${t} ${t} ${t} ${t})` : i32c(t));
  const track = tap.map((tp, t) => {
    // interior windows start from tap 0; others from 'none yet' (idx -1), which any tap replaces
    const gt = vector ? `(f32x4.gt ${get(v)} ${get(best)})` : `(f32.gt ${get(v)} ${get(best)})`;
    const upd = p.interior && t === 0
      ? `${set(best, get(v))} ${set(idx, id(0))}`
      : `${set(m, p.interior ? gt : vector ? `(v128.or ${gt} (i32x4.eq ${get(idx)} ${id(-1)}))` : `(i32.or ${gt} (i32.eq ${get(idx)} ${id(-1)}))`)}
${set(best, vector ? `(v128.bitselect ${get(v)} ${get(best)} ${get(m)})` : `(select ${get(v)} ${get(best)} ${get(m)})`)}
${set(idx, vector ? `(v128.bitselect ${id(t)} ${get(idx)} ${get(m)})` : `(select ${id(t)} ${get(idx)} ${get(m)})`)}`;
    return ifIn(p, tp, `${set(v, `(${l.ld} offset=${x.offset} ${l.at(tp)})`)}\n${upd}`);
  });
  const init = p.interior ? '' : `${set(best, vector ? '(v128.const f32x4 -inf -inf -inf -inf)' : '(f32.const -inf)')} ${set(idx, id(-1))}`;
  return { code: [init, ...track].join('\n'), idx, best };
}

/** dy at the window's pixel for tap t's lanes that hold the window's maximum (0 in the others). */
function routed(vector: boolean, gy: string, idx: string, t: number): string {
  return vector
    ? `(v128.and ${get(gy)} (i32x4.eq ${get(idx)} (v128.const i32x4 ${t} ${t} ${t} ${t})))`
    : `(select ${get(gy)} (f32.const 0) (i32.eq ${get(idx)} ${i32c(t)}))`;
}

/** max_pool2d_grad scattering into the zeroed dx (added when windows overlap, stored when they do not). */
export function maxPoolGrad(f: Func, k: TemplateKernel): string {
  const p = poolOf(k);
  const [X, DY, O] = [f.buf(k.inputs[0]!), f.buf(k.inputs[1]!), f.buf(k.out)];
  return windows(f, p, (vector, ch, tap, y) => {
    const l = lanesOf(f, vector, ch);
    const { code, idx } = argmax(f, p, X, vector, ch, tap);
    const gy = l.local('pgy');
    const add = tap.map((tp, t) => {
      const value = p.disjoint ? routed(vector, gy, idx, t) : `(${vector ? 'f32x4' : 'f32'}.add (${l.ld} offset=${O.offset} ${l.at(tp)}) ${routed(vector, gy, idx, t)})`;
      return ifIn(p, tp, `(${l.st} offset=${O.offset} ${l.at(tp)} ${value})`);
    });
    return [code, set(gy, `(${l.ld} offset=${DY.offset} (i32.add (i32.mul ${get(y)} ${i32c(p.c * 4)}) (i32.shl ${get(ch)} (i32.const 2))))`), ...add].join('\n');
  });
}

/** max_pool2d, and max_pool2d_grad whose windows abut, each element of dx stored once through the epilogue
 *  (the rows and columns no window covers get its value at 0); null for other templates (max_pool2d_grad
 *  with overlapping, gapped or padded windows scatters: `maxPoolGrad`). */
export function renderPool(k: TemplateKernel, name: string, bufs: ReadonlyMap<string, BufInfo>, relaxed: boolean): string | null {
  if (k.op !== 'max_pool2d' && k.op !== 'max_pool2d_grad') return null;
  const p = poolOf(k);
  if (k.op === 'max_pool2d_grad' && !p.abut) return null;
  const f = new Func(name, bufs, relaxed);
  const X = f.buf(k.inputs[0]!);
  const emit = emitRows(k);
  const row = f.local('prow', 'i32');
  const out = (vector: boolean, ch: string, pixel: string, value: string): string =>
    `${set(row, pixel)}\n${withMode(f, vector ? 0 : null, () => emit(f, row, ch, value))}`;
  if ([p.n, p.c, p.oh, p.ow].includes(0)) return f.render('');
  if (k.op === 'max_pool2d') {
    return f.render(windows(f, p, (vector, ch, tap, y) => {
      if (!p.interior) {
        const { code, best } = argmax(f, p, X, vector, ch, tap);
        return `${code}\n${out(vector, ch, get(y), get(best))}`;
      }
      // every tap in bounds: a chain of maxima, the later tap taken only when strictly greater (pmax)
      const l = lanesOf(f, vector, ch);
      const v = tap.map((tp) => `(${l.ld} offset=${X.offset} ${l.at(tp)})`);
      const best = l.local('pbest'), u = l.local('pv');
      const chain = v.slice(1).map((x) => `${set(u, x)} ${set(best, vector ? `(f32x4.pmax ${get(best)} ${get(u)})` : `(select ${get(u)} ${get(best)} (f32.gt ${get(u)} ${get(best)}))`)}`);
      return [set(best, v[0]!), ...chain, out(vector, ch, get(y), get(best))].join('\n');
    }));
  }
  const DY = f.buf(k.inputs[1]!);
  const grads = windows(f, p, (vector, ch, tap, y, pix) => {
    const l = lanesOf(f, vector, ch);
    const { code, idx } = argmax(f, p, X, vector, ch, tap);
    const gy = l.local('pgy');
    const stores = tap.map((_, t) => out(vector, ch, get(pix[t]!), routed(vector, gy, idx, t)));
    return [code, set(gy, `(${l.ld} offset=${DY.offset} (i32.add (i32.mul ${get(y)} ${i32c(p.c * 4)}) (i32.shl ${get(ch)} (i32.const 2))))`), ...stores].join('\n');
  });
  return f.render(`${grads}\n${margin(f, p, out)}`);
}

/** dx's last rows [oh sh, h) and columns [ow sw, w), which no abutting window covers, stored as 0. */
function margin(f: Func, p: Pool, out: (vector: boolean, ch: string, pixel: string, value: string) => string): string {
  const [n, h, w, ch] = ['pm_n', 'pm_h', 'pm_w', 'pm_ch'].map((s) => f.local(s, 'i32')) as [string, string, string, string];
  const full = p.c - (p.c % 4);
  const pixel = `(i32.add (i32.mul (i32.add (i32.mul ${get(n)} ${i32c(p.h)}) ${get(h)}) ${i32c(p.w)}) ${get(w)})`;
  const zeros = `${forLoop(ch, 0, full, 4, out(true, ch, pixel, '(v128.const i32x4 0 0 0 0)'), 'pmv')}
${forLoop(ch, full, p.c, 1, out(false, ch, pixel, '(f32.const 0)'), 'pms')}`;
  const rows = (h0: number, h1: number, w0: number, tag: string): string => forLoop(h, h0, h1, 1, forLoop(w, w0, p.w, 1, zeros, `pmw${tag}`), `pmh${tag}`);
  const body = `${rows(p.oh * p.sh, p.h, 0, 'b')}\n${rows(0, p.oh * p.sh, p.ow * p.sw, 'r')}`;
  return p.oh * p.sh < p.h || p.ow * p.sw < p.w ? forLoop(n, 0, p.n, 1, body, 'pmn') : '';
}
