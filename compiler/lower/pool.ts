// Pooling, pooling gradients and scatter_add as loop kernels whose meaning is all in the Kernel IR
// (the reference semantics are ir/ops/pool.ts and ir/ops/gather.ts). NHWC; a window of output
// (n, oh, ow, c) covers x[n, oh*sh - pt + i, ow*sw - pl + j, c] for i < KH, j < KW, its taps in the
// padding excluded.
//  max_pool2d        over the output: the first maximum of the window's taps (padding reads -inf).
//  avg_pool2d        over the output: sum of the in-bounds taps / their count.
//  avg_pool2d_grad   gather form, over x: the sum, over the windows covering the element, of their
//                    dy / count.
//  max_pool2d_grad   gather form, over x: the sum, over the windows covering the element, of their dy
//                    where the element is the window's first maximal tap (an argmax reduction inside
//                    the expression). When the windows are disjoint and unpadded, over blocks of
//                    stride x stride elements instead: one argmax per window, each element stored
//                    once (its dy where it is the argmax, else 0).
//  scatter_add       over the updates: each added into the zeroed result at its index (a 'sum' store).
// Index ranges decide which bounds a load needs: a window wholly inside x is read without tests.
import { fail } from '../../ir/errors.ts';
import type { Node, Value } from '../../ir/graph.ts';
import type { Bound, IExpr, Kernel, LoopKernel, SExpr, Store } from '../../ir/kernel.ts';
import {
  foldIExprNode,
  iadd,
  ic,
  idiv,
  imax,
  imin,
  imod,
  imul,
  isub,
  iv,
  linearize,
  rangeOf,
  vars,
} from '../../ir/iexpr.ts';
import { mapSExpr } from '../../ir/kernel-walk.ts';
import { castTo, valueAt, type ExprContext } from './expr.ts';

export interface LoopCore {
  readonly core: Node;
  readonly out: string;
  readonly bufOf: (v: Value) => string | undefined;
  /** The group's epilogue over the core's output point (vars 0..rank-1), reading its value as { acc: 'out' }. */
  readonly epilogue: SExpr | undefined;
  readonly maxStores: number;
  readonly nameOf: () => string;
}

const f32c = (v: number): SExpr => ({ k: 'const', v, dtype: 'f32' });
const f32op = (op: string, args: SExpr[]): SExpr => ({ k: 'op', op, args, dtype: 'f32' });

interface Geometry {
  readonly kh: number;
  readonly kw: number;
  readonly sh: number;
  readonly sw: number;
  readonly pads: readonly [number, number, number, number];
  readonly pt: number;
  readonly pl: number;
}

function geometry(n: Node): Geometry {
  const [kh, kw] = n.attrs.window as readonly number[] as [number, number];
  const [sh, sw] = ((n.attrs.strides as readonly number[] | undefined) ?? [1, 1]) as [number, number];
  const pads = ((n.attrs.pads as readonly number[] | undefined) ?? [0, 0, 0, 0]) as [number, number, number, number];
  return { kh, kw, sh, sw, pads, pt: pads[0], pl: pads[2] };
}

/** The bounds that fail at some point of the loop ranges `ext` (the others always hold). */
function needed(bounds: readonly Bound[], ext: readonly number[]): Bound[] {
  return bounds.filter((b) => {
    const [lo, hi] = rangeOf(b.e, ext);
    return lo < b.lo || hi >= b.hi;
  });
}

/** Reads a value at idx, through `bounds` (padding reads `otherwise`). */
function read(
  c: LoopCore,
  x: Value,
  idx: readonly IExpr[],
  ext: readonly number[],
  bounds: readonly Bound[] = [],
  otherwise = 0,
): SExpr {
  const ctx: ExprContext = { bufOf: c.bufOf, acc: () => undefined, extents: ext };
  const bs = needed(bounds, ext);
  return valueAt(x, idx, ctx, bs.length ? { bounds: bs, otherwise } : undefined);
}

/** The epilogue at the core's value `value`, its point vars mapped by `at` (identity by default). */
function withEpilogue(c: LoopCore, value: SExpr, at?: (i: number) => IExpr): SExpr {
  if (!c.epilogue) return value;
  return mapSExpr(c.epilogue, {
    iexpr: (x) => (x.k === 'var' && at ? at(x.i) : foldIExprNode(x)),
    sexpr: (x) => (x.k === 'acc' && x.name === 'out' ? value : x),
  });
}

function loopKernel(c: LoopCore, space: readonly number[], stores: Store[], reduce?: LoopKernel['reduce']): LoopKernel {
  const k: LoopKernel = { kind: 'loop', name: c.nameOf(), space: [...space], stores };
  return reduce ? { ...k, reduce } : k;
}

/** A store of the core's result at its own point, through the epilogue. */
const storeOut = (c: LoopCore, value: SExpr): Store => ({
  buf: c.out,
  at: linearize(vars(c.core.type.shape.length), c.core.type.shape),
  value: withEpilogue(c, value),
});

const ACC: SExpr = { k: 'acc', name: 'acc0' };

/** The number of in-bounds taps along one axis of the window at output position o. */
function countAxis(o: IExpr, g: { s: number; p: number; k: number }, size: number, ext: readonly number[]): IExpr {
  const start = isub(imul(o, ic(g.s)), ic(g.p)),
    end = iadd(start, ic(g.k));
  const [lo] = rangeOf(start, ext),
    [, hi] = rangeOf(end, ext);
  if (lo >= 0 && hi <= size) return ic(g.k);
  return isub(imin(end, ic(size)), imax(start, ic(0)));
}

/** The in-bounds taps of the window at (oh, ow), as an f32 value. */
function tapCount(g: Geometry, oh: IExpr, ow: IExpr, h: number, w: number, ext: readonly number[]): SExpr {
  const n = imul(
    countAxis(oh, { s: g.sh, p: g.pt, k: g.kh }, h, ext),
    countAxis(ow, { s: g.sw, p: g.pl, k: g.kw }, w, ext),
  );
  return n.k === 'int' ? f32c(n.v) : castTo({ k: 'index', at: imax(n, ic(1)) }, 'i32', 'f32');
}

/** max_pool2d and avg_pool2d: over the output, the window (vars 4, 5) reduced. */
function pool(c: LoopCore): Kernel[] {
  const n = c.core,
    x = n.inputs[0]!,
    g = geometry(n);
  const [, H, W] = x.type.shape as [number, number, number, number];
  const space = n.type.shape,
    ext = [...space, g.kh, g.kw];
  const h = iadd(isub(imul(iv(1), ic(g.sh)), ic(g.pt)), iv(4)),
    w = iadd(isub(imul(iv(2), ic(g.sw)), ic(g.pl)), iv(5));
  const bounds = [
    { e: h, lo: 0, hi: H },
    { e: w, lo: 0, hi: W },
  ];
  const max = n.op === 'max_pool2d';
  const value = read(c, x, [iv(0), h, w, iv(3)], ext, bounds, max ? -Infinity : 0);
  const result = max ? ACC : f32op('div', [ACC, tapCount(g, iv(1), iv(2), H, W, space)]);
  return [
    loopKernel(c, space, [storeOut(c, result)], {
      extents: [g.kh, g.kw],
      accs: [{ name: 'acc0', combine: max ? 'first_max' : 'sum', value, dtype: 'f32' }],
    }),
  ];
}

/** The windows covering x element (v1, v2) along one axis, for the gather-form gradients: with the
 *  windows disjoint (stride >= window) at most one, else one candidate per window tap (`r`, a
 *  reduction var). `o`: the window's output position; `tap`: the element's tap in it; `bounds`: when
 *  the candidate exists. */
function covering(
  x: IExpr,
  s: number,
  p: number,
  k: number,
  out: number,
  r: IExpr | null,
): { o: IExpr; tap: IExpr; bounds: Bound[] } {
  if (r === null) {
    const t = iadd(x, ic(p));
    const o = idiv(t, ic(s)),
      tap = imod(t, ic(s));
    return {
      o,
      tap,
      bounds: [
        { e: tap, lo: 0, hi: k },
        { e: o, lo: 0, hi: out },
      ],
    };
  }
  const t = isub(iadd(x, ic(p)), r);
  const bounds = [{ e: t, lo: 0, hi: (out - 1) * s + 1 }, ...(s > 1 ? [{ e: imod(t, ic(s)), lo: 0, hi: 1 }] : [])];
  return { o: idiv(t, ic(s)), tap: r, bounds };
}

/** The gradients in gather form: over x (vars 0..3); a sum over candidate windows (vars 4, 5) unless
 *  the windows are disjoint. `term(oh, ow, tapH, tapW, bounds, ext)` is one window's contribution. */
function gather(
  c: LoopCore,
  term: (oh: IExpr, ow: IExpr, th: IExpr, tw: IExpr, bounds: Bound[], ext: number[]) => SExpr,
): Kernel[] {
  const n = c.core,
    g = geometry(n),
    dy = n.inputs[n.op === 'max_pool2d_grad' ? 1 : 0]!;
  const [, OH, OW] = dy.type.shape as [number, number, number, number];
  const space = n.type.shape;
  const disjoint = g.sh >= g.kh && g.sw >= g.kw;
  const ext = disjoint ? [...space] : [...space, g.kh, g.kw];
  const hc = covering(iv(1), g.sh, g.pt, g.kh, OH, disjoint ? null : iv(4));
  const wc = covering(iv(2), g.sw, g.pl, g.kw, OW, disjoint ? null : iv(5));
  const value = term(hc.o, wc.o, hc.tap, wc.tap, [...hc.bounds, ...wc.bounds], ext);
  if (disjoint) return [loopKernel(c, space, [storeOut(c, value)])];
  return [
    loopKernel(c, space, [storeOut(c, ACC)], {
      extents: [g.kh, g.kw],
      accs: [{ name: 'acc0', combine: 'sum', value, dtype: 'f32' }],
    }),
  ];
}

function avgPoolGrad(c: LoopCore): Kernel[] {
  const n = c.core,
    g = geometry(n),
    dy = n.inputs[0]!;
  const [, H, W] = n.type.shape as [number, number, number, number];
  return gather(c, (oh, ow, _th, _tw, bounds, ext) => {
    const v = read(c, dy, [iv(0), oh, ow, iv(3)], ext, bounds);
    return f32op('div', [v, tapCount(g, oh, ow, H, W, ext)]);
  });
}

/** i clamped to [0, n) where its range leaves it. */
function clamp(i: IExpr, n: number, ext: readonly number[]): IExpr {
  const [lo, hi] = rangeOf(i, ext);
  const upper = hi > n - 1 ? imin(i, ic(n - 1)) : i;
  return lo < 0 ? imax(upper, ic(0)) : upper;
}

/** The flat tap (i KW + j) of the first maximum of window (oh, ow) at channel v3, over reduction vars
 *  first, first+1; padding reads -inf. */
function windowArgmax(c: LoopCore, g: Geometry, oh: IExpr, ow: IExpr, ext: readonly number[], first: number): SExpr {
  const x = c.core.inputs[0]!;
  const [, H, W] = x.type.shape as [number, number, number, number];
  const h = iadd(isub(imul(oh, ic(g.sh)), ic(g.pt)), iv(first)),
    w = iadd(isub(imul(ow, ic(g.sw)), ic(g.pl)), iv(first + 1));
  const taps = [...ext, g.kh, g.kw];
  const value = read(
    c,
    x,
    [iv(0), h, w, iv(3)],
    taps,
    [
      { e: h, lo: 0, hi: H },
      { e: w, lo: 0, hi: W },
    ],
    -Infinity,
  );
  return { k: 'reduce', combine: 'argmax', first, extents: [g.kh, g.kw], value, dtype: 'i32' };
}

const routed = (am: SExpr, tap: IExpr, dy: SExpr): SExpr =>
  f32op('where', [{ k: 'op', op: 'equal', args: [am, { k: 'index', at: tap }], dtype: 'bool' }, dy, f32c(0)]);

function maxPoolGrad(c: LoopCore): Kernel[] {
  const n = c.core,
    g = geometry(n),
    dy = n.inputs[1]!;
  const [, OH, OW] = dy.type.shape as [number, number, number, number];
  const blocks = g.pads.every((p) => p === 0) && g.sh >= g.kh && g.sw >= g.kw && g.sh * g.sw <= c.maxStores;
  if (blocks) return [maxPoolGradBlocks(c, g)];
  return gather(c, (oh, ow, th, tw, bounds, ext) => {
    const am = windowArgmax(c, g, clamp(oh, OH, ext), clamp(ow, OW, ext), ext, ext.length);
    return routed(am, iadd(imul(th, ic(g.kw)), tw), read(c, dy, [iv(0), oh, ow, iv(3)], ext, bounds));
  });
}

/** Disjoint unpadded windows: over blocks of stride x stride elements of x (vars 1, 2: the block, which
 *  holds window (v1, v2) in its top-left corner when that window exists), the window's argmax as an
 *  accumulator and each element of the block stored once (its dy where it is the argmax, else 0; the
 *  gaps between windows and an uncovered margin 0), blocks overhanging x guarded. */
function maxPoolGradBlocks(c: LoopCore, g: Geometry): LoopKernel {
  const [x, dy] = c.core.inputs as [Value, Value];
  const [N, H, W, C] = x.type.shape as [number, number, number, number];
  const [, OH, OW] = dy.type.shape as [number, number, number, number];
  const space = [N, Math.ceil(H / g.sh), Math.ceil(W / g.sw), C],
    ext = [...space, g.kh, g.kw];
  const h0 = imul(iv(1), ic(g.sh)),
    w0 = imul(iv(2), ic(g.sw));
  const th = iadd(h0, iv(4)),
    tw = iadd(w0, iv(5));
  const value = read(
    c,
    x,
    [iv(0), th, tw, iv(3)],
    ext,
    [
      { e: th, lo: 0, hi: H },
      { e: tw, lo: 0, hi: W },
    ],
    -Infinity,
  );
  const gy = read(c, dy, vars(4), space, [
    { e: iv(1), lo: 0, hi: OH },
    { e: iv(2), lo: 0, hi: OW },
  ]);
  const stores: Store[] = [];
  for (let i = 0; i < g.sh; i++) {
    for (let j = 0; j < g.sw; j++) {
      const h = iadd(h0, ic(i)),
        w = iadd(w0, ic(j));
      const at = (d: number): IExpr => (d === 1 ? h : d === 2 ? w : iv(d));
      const v = i < g.kh && j < g.kw ? routed(ACC, ic(i * g.kw + j), gy) : f32c(0);
      const guard = needed(
        [
          { e: h, lo: 0, hi: H },
          { e: w, lo: 0, hi: W },
        ],
        space,
      );
      const st: Store = {
        buf: c.out,
        at: linearize(
          vars(4).map((_, d) => at(d)),
          x.type.shape,
        ),
        value: withEpilogue(c, v, at),
      };
      stores.push(guard.length ? { ...st, guard } : st);
    }
  }
  return loopKernel(c, space, stores, {
    extents: [g.kh, g.kw],
    accs: [{ name: 'acc0', combine: 'argmax', value, dtype: 'i32' }],
  });
}

/** Over the updates: each added at [pre..., indices[mid...], post...] of the zeroed result; an
 *  epilogue then runs in place over the result. */
function scatterAdd(c: LoopCore): Kernel[] {
  const n = c.core,
    [indices, updates] = n.inputs as [Value, Value];
  const space = updates.type.shape,
    r = indices.type.shape.length;
  const axis = (n.attrs.axis as number | undefined) ?? 0;
  const ind = c.bufOf(indices);
  if (ind === undefined) fail('K5002', 'lowering: scatter_add indices must be materialized');
  const row: IExpr = { k: 'load', buf: ind, at: linearize(vars(r, axis), indices.type.shape) };
  const outIdx = [...vars(axis), row, ...vars(space.length - axis - r, axis + r)];
  const store: Store = {
    buf: c.out,
    at: linearize(outIdx, n.type.shape),
    value: read(c, updates, vars(space.length), [...space]),
    combine: 'sum',
  };
  const kernels: Kernel[] = [loopKernel(c, space, [store])];
  if (c.epilogue) {
    const at = linearize(vars(n.type.shape.length), n.type.shape);
    kernels.push(
      loopKernel(c, n.type.shape, [{ buf: c.out, at, value: withEpilogue(c, { k: 'load', buf: c.out, at }) }]),
    );
  }
  return kernels;
}

/** The ops lowered here, each to its loop kernels. */
export const LOOP_CORES: Readonly<Record<string, (c: LoopCore) => Kernel[]>> = {
  max_pool2d: pool,
  avg_pool2d: pool,
  max_pool2d_grad: maxPoolGrad,
  avg_pool2d_grad: avgPoolGrad,
  scatter_add: scatterAdd,
};
