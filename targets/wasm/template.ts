// TemplateKernel -> wasm. Convolutions are GEMMs (conv.ts); max pooling and its gradient are written
// over channels (pool.ts). Average pooling and its gradient are rewritten into LoopKernels (an IR-to-IR
// decomposition: the window is the reduction space, the channel axis is innermost, so the loop renderer
// vectorizes over channels). The ops that scatter (scatter_add, the max-pool gradient when windows
// overlap or leave x partly uncovered, the conv input gradient's col2im) write into the zeroed output,
// then the epilogue runs in place as a loop kernel.
import { fail } from '../../ir/errors.ts';
import type { Accumulator, IExpr, LoopKernel, SExpr, TemplateKernel } from '../../ir/kernel.ts';
import type { Bound } from '../../ir/kernel.ts';
import { Func, type BufInfo } from './func.ts';
import { CONV_OPS, convInputGrad, convScratchBytes, renderConv } from './conv.ts';
import { renderLoop } from './loop.ts';
import { maxPoolGrad, renderPool } from './pool.ts';
import { forLoop, get, i32c } from './wat.ts';

const v = (i: number): IExpr => ({ k: 'var', i });
const c = (x: number): IExpr => ({ k: 'int', v: x });
const add = (a: IExpr, b: IExpr): IExpr => ({ k: 'add', a, b });
const sub = (a: IExpr, b: IExpr): IExpr => ({ k: 'sub', a, b });
const mul = (a: IExpr, b: number): IExpr => ({ k: 'mul', a, b: c(b) });
const flat = (idx: readonly IExpr[], shape: readonly number[]): IExpr => idx.slice(1).reduce((e, x, d) => add(mul(e, shape[d + 1]!), x), idx[0]!);
const ints = (k: TemplateKernel, name: string, d: readonly number[]): number[] => [...((k.attrs[name] as readonly number[] | undefined) ?? d)];
const f32op = (op: string, args: SExpr[]): SExpr => ({ k: 'op', op, args, dtype: 'f32' });
const OUT: SExpr = { k: 'acc', name: 'out' };

/** Conv / pool geometry from the template's attributes. */
function geom(k: TemplateKernel, kh: number, kw: number) {
  const [sh, sw] = ints(k, 'strides', [1, 1]);
  const [dh, dw] = ints(k, 'dilations', [1, 1]);
  const [pt, , pl] = ints(k, 'pads', [0, 0, 0, 0]);
  return { sh: sh!, sw: sw!, dh: dh!, dw: dw!, pt: pt!, pl: pl!, kh, kw };
}

/** A loop kernel over the output's coordinates with accumulators, storing the epilogue of 'out'. */
function loopOf(k: TemplateKernel, reduce: readonly number[], accs: Accumulator[], out: SExpr = OUT): LoopKernel {
  const shape = k.outType.shape;
  const value = k.epilogue ? substituteOut(k.epilogue, out) : out;
  return { kind: 'loop', name: k.name, space: [...shape], reduce: { extents: [...reduce], accs }, stores: [{ buf: k.out, at: flat(shape.map((_, i) => v(i)), shape), value }] };
}

/** The epilogue with its reads of the template result replaced by `out`. */
function substituteOut(e: SExpr, out: SExpr): SExpr {
  if (e.k === 'acc' && e.name === 'out') return out;
  if (e.k === 'op') return { ...e, args: e.args.map((a) => substituteOut(a, out)) };
  return e;
}

/** x[n, h, w, ch] with h, w guarded to the image (padding reads `otherwise`). */
function pixel(buf: string, shape: readonly number[], n: IExpr, h: IExpr, w: IExpr, ch: IExpr, otherwise = 0): SExpr {
  const guard: Bound[] = [{ e: h, lo: 0, hi: shape[1]! }, { e: w, lo: 0, hi: shape[2]! }];
  return { k: 'load', buf, at: flat([n, h, w, ch], shape), guard, otherwise };
}

/** Window taps that land on the output pixel o of an input coordinate: t = i + pad - tap*dil, t = o*stride. */
function tapGuard(t: IExpr, s: number, outSize: number): Bound[] {
  return [{ e: t, lo: 0, hi: (outSize - 1) * s + 1 }, { e: { k: 'mod', a: t, b: c(s) }, lo: 0, hi: 1 }];
}

/** Number of in-bounds window elements along one axis for output position o. */
function countAxis(o: IExpr, s: number, pad: number, win: number, size: number): IExpr {
  const start = sub(mul(o, s), c(pad));
  return sub({ k: 'min', a: add(start, c(win)), b: c(size) }, { k: 'max', a: start, b: c(0) });
}

const DECOMPOSE: Record<string, (k: TemplateKernel) => LoopKernel> = {
  avg_pool2d: avgPool,
  avg_pool2d_grad: (k) => {
    const dy = k.inputTypes[0]!.shape, x = k.outType.shape;
    const [wh, ww] = ints(k, 'window', []);
    const g = geom(k, wh!, ww!);
    const th = sub(add(v(1), c(g.pt)), v(4)), tw = sub(add(v(2), c(g.pl)), v(5));
    const oh: IExpr = { k: 'div', a: th, b: c(g.sh) }, ow: IExpr = { k: 'div', a: tw, b: c(g.sw) };
    const dyv: SExpr = { k: 'load', buf: k.inputs[0]!, at: flat([v(0), oh, ow, v(3)], dy), guard: [...tapGuard(th, g.sh, dy[1]!), ...tapGuard(tw, g.sw, dy[2]!)], otherwise: 0 };
    const count: SExpr = { k: 'op', op: 'cast', dtype: 'f32', attrs: { dtype: 'f32' }, args: [{ k: 'index', at: { k: 'max', a: { k: 'mul', a: countAxis(oh, g.sh, g.pt, g.kh, x[1]!), b: countAxis(ow, g.sw, g.pl, g.kw, x[2]!) }, b: c(1) } }] };
    return loopOf(k, [g.kh, g.kw], [{ name: 'out', combine: 'sum', value: f32op('div', [dyv, count]), dtype: 'f32' }]);
  },
};

function avgPool(k: TemplateKernel): LoopKernel {
  const x = k.inputTypes[0]!.shape;
  const [wh, ww] = ints(k, 'window', []);
  const g = geom(k, wh!, ww!);
  const h = add(sub(mul(v(1), g.sh), c(g.pt)), v(4)), w = add(sub(mul(v(2), g.sw), c(g.pl)), v(5));
  const count: SExpr = { k: 'op', op: 'cast', dtype: 'f32', attrs: { dtype: 'f32' }, args: [{ k: 'index', at: { k: 'mul', a: countAxis(v(1), g.sh, g.pt, g.kh, x[1]!), b: countAxis(v(2), g.sw, g.pl, g.kw, x[2]!) } }] };
  return loopOf(k, [g.kh, g.kw], [{ name: 'out', combine: 'sum', value: pixel(k.inputs[0]!, x, v(0), h, w, v(3)), dtype: 'f32' }], f32op('div', [OUT, count]));
}

/** Scalar scatter loops: out is zeroed, then each element is added at its target. */
const SCATTER: Record<string, (f: Func, k: TemplateKernel, scratch: number) => string> = {
  conv2d_input_grad: convInputGrad,
  scatter_add: (f, k) => {
    const [ind, upd] = k.inputTypes.map((t) => t.shape);
    const axis = (k.attrs['axis'] as number | undefined) ?? 0;
    const size = k.outType.shape[axis]!;
    const pre = upd!.slice(0, axis).reduce((a, b) => a * b, 1), post = upd!.slice(axis + ind!.length).reduce((a, b) => a * b, 1);
    const cnt = ind!.reduce((a, b) => a * b, 1);
    const [I, U, O] = [f.buf(k.inputs[0]!), f.buf(k.inputs[1]!), f.buf(k.out)];
    const [a, j, b] = [f.local('sa', 'i32'), f.local('sj', 'i32'), f.local('sb', 'i32')];
    const dst = `(i32.shl (i32.add (i32.mul (i32.add (i32.mul ${get(a)} ${i32c(size)}) (i32.load offset=${I.offset} (i32.shl ${get(j)} (i32.const 2)))) ${i32c(post)}) ${get(b)}) (i32.const 2))`;
    const src = `(i32.shl (i32.add (i32.mul (i32.add (i32.mul ${get(a)} ${i32c(cnt)}) ${get(j)}) ${i32c(post)}) ${get(b)}) (i32.const 2))`;
    const body = `(f32.store offset=${O.offset} ${dst} (f32.add (f32.load offset=${O.offset} ${dst}) (f32.load offset=${U.offset} ${src})))`;
    return forLoop(a, 0, pre, 1, forLoop(j, 0, cnt, 1, forLoop(b, 0, post, 1, body, 'sb'), 'sj'), 'sa');
  },
  max_pool2d_grad: maxPoolGrad,
};

export const TEMPLATE_OPS: readonly string[] = [...CONV_OPS, 'max_pool2d', ...Object.keys(DECOMPOSE), ...Object.keys(SCATTER)];

export function templateScratchBytes(k: TemplateKernel): number {
  return convScratchBytes(k) ?? 0;
}

export function renderTemplate(k: TemplateKernel, name: string, bufs: ReadonlyMap<string, BufInfo>, scratch: number, relaxed: boolean): string {
  const whole = renderConv(k, name, bufs, scratch, relaxed) ?? renderPool(k, name, bufs, relaxed);
  if (whole !== null) return whole;
  const decompose = DECOMPOSE[k.op];
  if (decompose) return renderLoop(decompose(k), name, bufs, relaxed);
  const scatter = SCATTER[k.op];
  if (!scatter) return fail('K6001', `${k.op}: no WebAssembly lowering for op '${k.op}' (kernel ${k.name}); the wasm target has templates for: ${TEMPLATE_OPS.join(', ')}`);
  const f = new Func(name, bufs, relaxed);
  const O = f.buf(k.out);
  const total = k.outType.shape.reduce((a, b) => a * b, 1);
  const zero = total ? `(memory.fill ${i32c(O.offset)} (i32.const 0) ${i32c(total * 4)})` : '';
  const main = f.render(`${zero}\n${scatter(f, k, scratch)}`);
  if (!k.epilogue) return main;
  // the epilogue, in place: out[i] = epilogue(out[i]) (a one-element 'sum' reads the scattered value)
  const shape = k.outType.shape;
  const at = flat(shape.map((_, i) => v(i)), shape);
  const epi: LoopKernel = { kind: 'loop', name: `${name}_epilogue`, space: [...shape], reduce: { extents: [1], accs: [{ name: 'out', combine: 'sum', value: { k: 'load', buf: k.out, at }, dtype: 'f32' }] }, stores: [{ buf: k.out, at, value: k.epilogue }] };
  return main.replace(/\)$/, `\n(call $${name}_epilogue))\n`) + renderLoop(epi, `${name}_epilogue`, bufs, relaxed);
}
