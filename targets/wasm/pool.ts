// max_pool2d_grad vectorized over channels: per window, each in-bounds tap's pixel address is computed
// once; then for 4 channels at a time the first maximal tap is tracked per lane (best value, tap id),
// and dy is added at every tap where that lane's id matches (a masked add, no scalar scatter).
// Channels past the last multiple of 4 run the same code on scalars. The caller zeroes dx first.
import type { TemplateKernel } from '../../ir/kernel.ts';
import type { Func } from './func.ts';
import { forLoop, get, i32c, set } from './wat.ts';

export function maxPoolGrad(f: Func, k: TemplateKernel): string {
  const [x, dy] = k.inputTypes.map((t) => t.shape) as [readonly number[], readonly number[]];
  const [wh, ww] = k.attrs['window'] as readonly number[];
  const [sh, sw] = (k.attrs['strides'] as readonly number[] | undefined) ?? [1, 1];
  const [pt, , pl] = (k.attrs['pads'] as readonly number[] | undefined) ?? [0, 0, 0, 0];
  const [H, W, C] = [x[1]!, x[2]!, x[3]!];
  const [X, DY, O] = [f.buf(k.inputs[0]!), f.buf(k.inputs[1]!), f.buf(k.out)];
  const [n, oh, ow, ch, h, w, g] = ['pn', 'poh', 'pow', 'pch', 'ph', 'pw', 'pg'].map((s) => f.local(s, 'i32')) as [string, string, string, string, string, string, string];
  const taps = [...Array(wh! * ww!).keys()];
  const tap = taps.map((t) => f.local(`ptap${t}`, 'i32'));
  // tap t's pixel byte offset (x[n, h, w, 0] relative to the buffer), or -1 when it lies in the padding
  const setTaps = taps.map((t) => {
    const i = Math.floor(t / ww!), j = t % ww!;
    return `${set(h, `(i32.add (i32.mul ${get(oh)} ${i32c(sh!)}) ${i32c(i - pt!)})`)} ${set(w, `(i32.add (i32.mul ${get(ow)} ${i32c(sw!)}) ${i32c(j - pl!)})`)}
${set(tap[t]!, `(select (i32.shl (i32.mul (i32.add (i32.mul (i32.add (i32.mul ${get(n)} ${i32c(H)}) ${get(h)}) ${i32c(W)}) ${get(w)}) ${i32c(C)}) (i32.const 2)) (i32.const -1) (i32.and (i32.lt_u ${get(h)} ${i32c(H)}) (i32.lt_u ${get(w)} ${i32c(W)})))`)}`;
  }).join('\n');

  /** One group of channels: 4 lanes (v128) or 1 (scalar). */
  const group = (vector: boolean): string => {
    const [best, idx, v, m, gy] = vector
      ? [f.local('pbest', 'v128'), f.local('pidx', 'v128'), f.local('pv', 'v128'), f.local('pm', 'v128'), f.local('pgy', 'v128')]
      : [f.local('pbest_s', 'f32'), f.local('pidx_s', 'i32'), f.local('pv_s', 'f32'), f.local('pm_s', 'i32'), f.local('pgy_s', 'f32')];
    const ld = vector ? 'v128.load' : 'f32.load', st = vector ? 'v128.store' : 'f32.store';
    const at = (t: number): string => `(i32.add ${get(tap[t]!)} (i32.shl ${get(ch)} (i32.const 2)))`;
    const id = (t: number): string => (vector ? `(v128.const i32x4 ${t} ${t} ${t} ${t})` : i32c(t));
    const track = taps.map((t) => `(if (i32.ge_s ${get(tap[t]!)} (i32.const 0)) (then
${set(v, `(${ld} offset=${X.offset} ${at(t)})`)}
${set(m, vector ? `(v128.or (f32x4.gt ${get(v)} ${get(best)}) (i32x4.eq ${get(idx)} ${id(-1)}))` : `(i32.or (f32.gt ${get(v)} ${get(best)}) (i32.eq ${get(idx)} ${id(-1)}))`)}
${set(best, vector ? `(v128.bitselect ${get(v)} ${get(best)} ${get(m)})` : `(select ${get(v)} ${get(best)} ${get(m)})`)}
${set(idx, vector ? `(v128.bitselect ${id(t)} ${get(idx)} ${get(m)})` : `(select ${id(t)} ${get(idx)} ${get(m)})`)}))`);
    const add = taps.map((t) => {
      const sum = vector
        ? `(f32x4.add (v128.load offset=${O.offset} ${at(t)}) (v128.and ${get(gy)} (i32x4.eq ${get(idx)} ${id(t)})))`
        : `(f32.add (f32.load offset=${O.offset} ${at(t)}) (select ${get(gy)} (f32.const 0) (i32.eq ${get(idx)} ${id(t)})))`;
      return `(if (i32.ge_s ${get(tap[t]!)} (i32.const 0)) (then (${st} offset=${O.offset} ${at(t)} ${sum})))`;
    });
    return [
      set(best, vector ? '(v128.const f32x4 -inf -inf -inf -inf)' : '(f32.const -inf)'), set(idx, id(-1)),
      ...track,
      set(gy, `(${ld} offset=${DY.offset} (i32.add ${get(g)} (i32.shl ${get(ch)} (i32.const 2))))`),
      ...add,
    ].join('\n');
  };
  const full = C - (C % 4);
  const window = `${setTaps}
${set(g, `(i32.shl (i32.mul (i32.add (i32.mul (i32.add (i32.mul ${get(n)} ${i32c(dy[1]!)}) ${get(oh)}) ${i32c(dy[2]!)}) ${get(ow)}) ${i32c(C)}) (i32.const 2))`)}
${forLoop(ch, 0, full, 4, group(true), 'pcv')}
${forLoop(ch, full, C, 1, group(false), 'pct')}`;
  return forLoop(n, 0, dy[0]!, 1, forLoop(oh, 0, dy[1]!, 1, forLoop(ow, 0, dy[2]!, 1, window, 'pow'), 'poh'), 'pn');
}
