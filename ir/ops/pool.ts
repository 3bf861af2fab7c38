// Pooling over NHWC windows and the gradients of pooling. A window of output (n, oh, ow, c) covers
// x[n, oh*sh - pt + kh, ow*sw - pl + kw, c] for kh < KH, kw < KW; positions in the padding are not
// part of it (max over / mean of the in-bounds elements only). All four ops walk `forEachWindow`.
import { fail } from '../errors.ts';
import type { Attrs, Value } from '../graph.ts';
import { allocData, formatType, sameShape, tensorType, type Shape, type Tensor, type TensorType } from '../types.ts';
import type { AttrSpec, EvalContext, OpDef, VjpArgs } from './def.ts';
import { checkGeometry, outExtent, requireImage, type Pads } from './conv.ts';
import { ints, shapeStr } from './util.ts';

const NHWC = 'NHWC';

/** The pooled shape of x; checks window, strides and pads (a pad must be smaller than the window,
 *  so that every window holds at least one in-bounds element). */
function poolOutput(op: string, x: TensorType, attrs: Attrs): Shape {
  checkGeometry(op, attrs);
  requireImage(op, x, 'input', NHWC);
  const [kh, kw] = ints(attrs, 'window') as [number, number];
  const [sh, sw] = ints(attrs, 'strides') as [number, number];
  const pads = ints(attrs, 'pads') as Pads;
  if (pads.some((p, i) => p >= (i < 2 ? kh : kw))) {
    fail(
      'K1003',
      `${op}: pads ${shapeStr(pads)} must be smaller than the window ${shapeStr([kh, kw])} (top/bottom against ${kh}, left/right against ${kw})`,
    );
  }
  const oh = outExtent(x.shape[1]!, pads[0], pads[1], kh, sh, 1);
  const ow = outExtent(x.shape[2]!, pads[2], pads[3], kw, sw, 1);
  if (oh <= 0 || ow <= 0) {
    fail(
      'K1001',
      `${op}: output would be empty (${oh}x${ow}): input ${formatType(x)} padded by ${shapeStr(pads)} is smaller than the window ${shapeStr([kh, kw])}; add padding or use a smaller window`,
    );
  }
  return [x.shape[0]!, oh, ow, x.shape[3]!];
}

/** Calls visit(yi, taps) for every output element: taps are the flat indices of its window's
 *  in-bounds elements of x, in row-major window order (so "first" means first in that order). */
function forEachWindow(x: Shape, y: Shape, attrs: Attrs, visit: (yi: number, taps: readonly number[]) => void): void {
  const [N, H, W, C] = x as [number, number, number, number];
  const [, OH, OW] = y as [number, number, number, number];
  const [KH, KW] = ints(attrs, 'window') as [number, number];
  const [sh, sw] = ints(attrs, 'strides') as [number, number];
  const [pt, , pl] = ints(attrs, 'pads') as Pads;
  const taps: number[] = [];
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        for (let c = 0; c < C; c++) {
          taps.length = 0;
          for (let kh = 0; kh < KH; kh++) {
            const ih = oh * sh - pt + kh;
            if (ih < 0 || ih >= H) continue;
            for (let kw = 0; kw < KW; kw++) {
              const iw = ow * sw - pl + kw;
              if (iw >= 0 && iw < W) taps.push(((n * H + ih) * W + iw) * C + c);
            }
          }
          visit(((n * OH + oh) * OW + ow) * C + c, taps);
        }
      }
    }
  }
}

/** The first tap holding the window's maximum. */
function argmaxTap(x: Tensor, taps: readonly number[]): number {
  let best = taps[0]!;
  for (const t of taps) if (x.data[t]! > x.data[best]!) best = t;
  return best;
}

/** An evaluator: `step(ins, r, yi, taps)` writes the result `r` for one window. `x` and `y` name the
 *  shapes the windows run between (the pooled input and the pooled output). */
function evalPool(
  shapes: (ins: readonly Tensor[], out: TensorType) => { x: Shape; y: Shape },
  step: (ins: readonly Tensor[], r: Tensor['data'], yi: number, taps: readonly number[]) => void,
): OpDef['eval'] {
  return (ins: readonly Tensor[], attrs: Attrs, out: TensorType, ctx: EvalContext): Tensor => {
    const r = allocData(out, ctx.float64);
    const { x, y } = shapes(ins, out);
    forEachWindow(x, y, attrs, (yi, taps) => step(ins, r, yi, taps));
    return { type: out, data: r };
  };
}

const forward = ([x]: readonly Tensor[], out: TensorType) => ({ x: x!.type.shape, y: out.shape });

const poolAttrs: Record<string, AttrSpec> = {
  window: { kind: 'ints' },
  strides: { kind: 'ints' },
  pads: { kind: 'ints', default: [0, 0, 0, 0] },
};

const geometryOf = (a: Attrs): Attrs => ({ window: a.window!, strides: a.strides!, pads: a.pads! });

function requireDy(op: string, dy: TensorType, expected: Shape, of: string): void {
  requireImage(op, dy, 'dy', 'N,OH,OW,C');
  if (!sameShape(dy.shape, expected)) {
    fail('K1001', `${op}: dy ${formatType(dy)} should have shape ${shapeStr(expected)} (the pooled shape of ${of})`);
  }
}

/** The transpose of max_pool2d_grad(x, ·): each window reads g at its first maximal element of x.
 *  Composed from ops, per channel: window patches come from a conv2d with an identity filter
 *  [KH,KW,1,KH*KW]; padded taps (patch of ones = 0) are pushed to -1e30 so they never win; argmax
 *  picks the first maximal tap in window order, its one_hot selects g's patch entry. */
function gatherAtArgmax(emit: VjpArgs['emit'], x: Value, g: Value, attrs: Attrs): Value {
  const [N, H, W, C] = x.type.shape as [number, number, number, number];
  const [KH, KW] = ints(attrs, 'window') as [number, number];
  const K = KH * KW;
  const eye = Array.from({ length: K * K }, (_, i) => (Math.floor(i / K) === i % K ? 1 : 0));
  const filter = emit('constant', [], { value: eye, shape: [KH, KW, 1, K], dtype: 'f32' });
  const conv = { strides: attrs.strides!, pads: attrs.pads! };
  const patches = (v: Value): Value => {
    const planes = emit('reshape', [emit('transpose', [v], { perm: [0, 3, 1, 2] })], { shape: [N * C, H, W, 1] });
    return emit('conv2d', [planes, filter], conv); // [N*C, OH, OW, K]
  };
  const inside = patches(emit('constant', [], { value: [1], shape: [N, H, W, C], dtype: 'f32' }));
  const outside = emit('mul', [
    emit('sub', [inside, emit('constant', [], { value: [1], shape: [], dtype: 'f32' })]),
    emit('constant', [], { value: [1e30], shape: [], dtype: 'f32' }),
  ]);
  const pick = emit('one_hot', [emit('argmax', [emit('add', [patches(x), outside])], { axis: 3 })], {
    depth: K,
    dtype: 'f32',
  });
  const picked = emit('sum', [emit('mul', [pick, patches(g)])], { axes: [3] }); // [N*C, OH, OW]
  const [, OH, OW] = picked.type.shape as [number, number, number];
  return emit('transpose', [emit('reshape', [picked], { shape: [N, C, OH, OW] })], { perm: [0, 2, 3, 1] });
}

export const POOL = {
  max_pool2d: {
    kind: 'pool',
    arity: 1,
    attrs: poolAttrs,
    infer: ([x], attrs) => tensorType('f32', poolOutput('max_pool2d', x!, attrs)),
    eval: evalPool(forward, ([x], r, yi, taps) => {
      r[yi] = x!.data[argmaxTap(x!, taps)]!;
    }),
    vjp: ({ emit, inputs: [x], g, attrs }) => [emit('max_pool2d_grad', [x!, g], geometryOf(attrs))],
    doc: 'max over each NHWC window (window, strides, pads; padding never wins)',
  },
  avg_pool2d: {
    kind: 'pool',
    arity: 1,
    attrs: poolAttrs,
    infer: ([x], attrs) => tensorType('f32', poolOutput('avg_pool2d', x!, attrs)),
    eval: evalPool(forward, ([x], r, yi, taps) => {
      let s = 0;
      for (const t of taps) s += x!.data[t]!;
      r[yi] = s / taps.length;
    }),
    vjp: ({ emit, inputs: [x], g, attrs }) => [
      emit('avg_pool2d_grad', [g], { ...geometryOf(attrs), input_shape: [...x!.type.shape] }),
    ],
    doc: 'mean of the in-bounds elements of each NHWC window (window, strides, pads)',
  },
  max_pool2d_grad: {
    kind: 'pool',
    arity: 2,
    attrs: poolAttrs,
    infer([x, dy], attrs) {
      requireDy('max_pool2d_grad', dy!, poolOutput('max_pool2d_grad', x!, attrs), formatType(x!));
      return tensorType('f32', x!.shape);
    },
    eval: evalPool(
      ([x, dy]) => ({ x: x!.type.shape, y: dy!.type.shape }),
      ([x, dy], r, yi, taps) => {
        const t = argmaxTap(x!, taps);
        r[t] = r[t]! + dy!.data[yi]!;
      },
    ),
    // Piecewise constant in x (no gradient); linear in dy, whose cotangent gathers g at each window's maximum.
    vjp: ({ emit, inputs: [x], g, attrs }) => [null, gatherAtArgmax(emit, x!, g, attrs)],
    doc: "max_pool2d's gradient: x, dy -> dx; each window's dy goes to its first maximal element",
  },
  avg_pool2d_grad: {
    kind: 'pool',
    arity: 1,
    attrs: { ...poolAttrs, input_shape: { kind: 'ints' } },
    infer([dy], attrs) {
      const op = 'avg_pool2d_grad';
      const shape = ints(attrs, 'input_shape');
      if (shape.length !== 4 || shape.some((d) => d < 1))
        fail('K1003', `${op}: attribute 'input_shape' is ${shapeStr(shape)}, expected 4 positive sizes (NHWC)`);
      const x = tensorType('f32', shape);
      requireDy(op, dy!, poolOutput(op, x, attrs), `input_shape ${shapeStr(shape)}`);
      return x;
    },
    eval: evalPool(
      ([dy], out) => ({ x: out.shape, y: dy!.type.shape }),
      ([dy], r, yi, taps) => {
        for (const t of taps) r[t] = r[t]! + dy!.data[yi]! / taps.length;
      },
    ),
    // Linear, and the transpose of avg_pool2d: its VJP is avg_pool2d.
    vjp: ({ emit, g, attrs }) => [emit('avg_pool2d', [g], geometryOf(attrs))],
    doc: "avg_pool2d's gradient: dy -> dx of input_shape; each window's dy shared equally by its in-bounds elements",
  },
} satisfies Record<string, OpDef>;
