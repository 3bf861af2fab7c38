// conv2d and its two gradient forms. Images are NHWC, filters [KH, KW, C, F].
//   y[n, oh, ow, f] = sum_{kh, kw, c} x[n, oh*sh - pt + kh*dh, ow*sw - pl + kw*dw, c] * w[kh, kw, c, f]
// (taps that fall in the padding read zero). All three ops are that one sum read three ways:
// conv2d accumulates y, conv2d_input_grad accumulates dx from (dy, w) (Conv2DTranspose), and
// conv2d_filter_grad accumulates dw from (x, dy). They share `forEachTap`.
import { fail } from '../errors.ts';
import type { Attrs } from '../graph.ts';
import {
  allocData,
  formatType,
  sameShape,
  tensorType,
  type Data,
  type Shape,
  type Tensor,
  type TensorType,
} from '../types.ts';
import type { AttrSpec, EvalContext, OpDef, VjpArgs } from './def.ts';
import { ints, requireDType, shapeStr } from './util.ts';

export type Pads = [top: number, bottom: number, left: number, right: number];

/** Explicit pads for a padding mode. 'same' is TensorFlow's rule: the output has ceil(in / stride)
 *  rows and columns, and an odd total padding puts the extra pixel at the bottom / right. */
export function resolvePadding(
  mode: 'same' | 'valid',
  inHW: readonly [number, number],
  kernelHW: readonly [number, number],
  strides: readonly [number, number] = [1, 1],
  dilations: readonly [number, number] = [1, 1],
): Pads {
  if (mode === 'valid') return [0, 0, 0, 0];
  const total = (i: 0 | 1): number => {
    const out = Math.ceil(inHW[i] / strides[i]);
    const span = (kernelHW[i] - 1) * dilations[i] + 1;
    return Math.max((out - 1) * strides[i] + span - inHW[i], 0);
  };
  const th = total(0),
    tw = total(1);
  return [Math.floor(th / 2), th - Math.floor(th / 2), Math.floor(tw / 2), tw - Math.floor(tw / 2)];
}

/** Output extent of one spatial axis, or ≤ 0 when the (dilated) window does not fit. */
export function outExtent(
  size: number,
  padLo: number,
  padHi: number,
  kernel: number,
  stride: number,
  dilation: number,
): number {
  return Math.floor((size + padLo + padHi - (kernel - 1) * dilation - 1) / stride) + 1;
}

/** Checks `strides` (2 ints ≥ 1), `dilations` (2 ints ≥ 1, when present) and `pads` (4 ints ≥ 0). */
export function checkGeometry(op: string, attrs: Attrs): void {
  const want = (k: string, n: number, min: number): void => {
    if (!(k in attrs)) return;
    const v = ints(attrs, k);
    if (v.length !== n || v.some((d) => d < min)) {
      fail(
        'K1003',
        `${op}: attribute '${k}' is ${shapeStr(v)}, expected ${n} integers >= ${min}${k === 'pads' ? ' (top, bottom, left, right)' : ''}`,
      );
    }
  };
  want('strides', 2, 1);
  want('dilations', 2, 1);
  want('window', 2, 1);
  want('pads', 4, 0);
}

/** Requires an f32 rank-4 operand; `layout` says what the four axes are. */
export function requireImage(op: string, t: TensorType, what: string, layout: string): void {
  if (t.shape.length !== 4)
    fail('K1001', `${op}: ${what} ${formatType(t)} has rank ${t.shape.length}, expected rank 4 (${layout})`);
  requireDType(op, t, ['f32'], what);
}

const NHWC = 'NHWC';
const FILTER = '[KH,KW,C,F]';

/** The output type of conv2d(x, w); every check of the three conv ops goes through it. */
function convOutput(op: string, x: Shape, w: Shape, attrs: Attrs): Shape {
  const xt = tensorType('f32', x),
    wt = tensorType('f32', w);
  if (x[3] !== w[2]) {
    fail(
      'K1001',
      `${op}: input ${formatType(xt)} has ${x[3]} channels but filter ${formatType(wt)} expects ${w[2]} (filter is ${FILTER})`,
    );
  }
  const [sh, sw] = ints(attrs, 'strides') as [number, number];
  const [dh, dw] = ints(attrs, 'dilations') as [number, number];
  const [pt, pb, pl, pr] = ints(attrs, 'pads') as Pads;
  const oh = outExtent(x[1]!, pt, pb, w[0]!, sh, dh);
  const ow = outExtent(x[2]!, pl, pr, w[1]!, sw, dw);
  if (oh <= 0 || ow <= 0) {
    fail(
      'K1001',
      `${op}: output would be empty (${oh}x${ow}): input ${formatType(xt)} padded by ${shapeStr([pt, pb, pl, pr])} is smaller than filter ${formatType(wt)} with dilations ${shapeStr([dh, dw])}; add padding or use a smaller kernel`,
    );
  }
  return [x[0]!, oh, ow, w[3]!];
}

/** A shape attribute (input_shape / filter_shape) must be 4 positive ints. */
function shapeAttr(op: string, attrs: Attrs, k: string, layout: string): Shape {
  const s = ints(attrs, k);
  if (s.length !== 4 || s.some((d) => d < 1))
    fail('K1003', `${op}: attribute '${k}' is ${shapeStr(s)}, expected 4 positive sizes ${layout}`);
  return s;
}

function requireSame(op: string, what: string, got: TensorType, expected: Shape, hint: string): void {
  if (!sameShape(got.shape, expected)) {
    fail('K1001', `${op}: ${what} ${formatType(got)} should have shape ${shapeStr(expected)} ${hint}`);
  }
}

/** Calls visit(xi, wi, yi) with the flat indices of x, w and y for every in-bounds tap. */
function forEachTap(
  x: Shape,
  w: Shape,
  y: Shape,
  attrs: Attrs,
  visit: (xi: number, wi: number, yi: number) => void,
): void {
  const [N, H, W, C] = x as [number, number, number, number];
  const [KH, KW, , F] = w as [number, number, number, number];
  const [, OH, OW] = y as [number, number, number, number];
  const [sh, sw] = ints(attrs, 'strides') as [number, number];
  const [dh, dw] = ints(attrs, 'dilations') as [number, number];
  const [pt, , pl] = ints(attrs, 'pads') as Pads;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * sh - pt + kh * dh;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * sw - pl + kw * dw;
            if (iw < 0 || iw >= W) continue;
            for (let c = 0; c < C; c++) {
              for (let f = 0; f < F; f++) {
                visit(
                  ((n * H + ih) * W + iw) * C + c,
                  ((kh * KW + kw) * C + c) * F + f,
                  ((n * OH + oh) * OW + ow) * F + f,
                );
              }
            }
          }
        }
      }
    }
  }
}

/** Shapes of x, w, y for each op (two come from its inputs, the third from the result or an attribute). */
type Roles = (ins: readonly TensorType[], out: TensorType, attrs: Attrs) => { x: Shape; w: Shape; y: Shape };

/** An evaluator that accumulates into the result: `acc(a, b, out, xi, wi, yi)` adds one product. */
function evalConv(
  roles: Roles,
  acc: (a: Data, b: Data, r: Data, xi: number, wi: number, yi: number) => void,
): OpDef['eval'] {
  return (ins: readonly Tensor[], attrs: Attrs, out: TensorType, ctx: EvalContext): Tensor => {
    const r = allocData(out, ctx.float64);
    const { x, w, y } = roles(
      ins.map((t) => t.type),
      out,
      attrs,
    );
    forEachTap(x, w, y, attrs, (xi, wi, yi) => acc(ins[0]!.data, ins[1]!.data, r, xi, wi, yi));
    return { type: out, data: r };
  };
}

const geometryAttrs: Record<string, AttrSpec> = {
  strides: { kind: 'ints', default: [1, 1] },
  dilations: { kind: 'ints', default: [1, 1] },
  pads: { kind: 'ints', default: [0, 0, 0, 0] },
};

const geometryOf = (a: Attrs): Attrs => ({ strides: a.strides!, dilations: a.dilations!, pads: a.pads! });

// VJPs. With T(x, w, dy) = <conv2d(x, w), dy> = <x, conv2d_input_grad(dy, w)> = <w, conv2d_filter_grad(x, dy)>,
// each op is a partial derivative of T, and its VJP reads T again with the cotangent g in the result's slot.

/** conv2d(x, w): dx = input_grad(g, w), dw = filter_grad(x, g). */
function vjpConv({ emit, inputs: [x, w], g, attrs }: VjpArgs) {
  const geo = geometryOf(attrs);
  return [
    emit('conv2d_input_grad', [g, w!], { ...geo, input_shape: [...x!.type.shape] }),
    emit('conv2d_filter_grad', [x!, g], { ...geo, filter_shape: [...w!.type.shape] }),
  ];
}

/** dx = input_grad(dy, w); <dx, g> = T(g, w, dy): d dy = conv2d(g, w), dw = filter_grad(g, dy). */
function vjpInputGrad({ emit, inputs: [dy, w], g, attrs }: VjpArgs) {
  const geo = geometryOf(attrs);
  return [
    emit('conv2d', [g, w!], geo),
    emit('conv2d_filter_grad', [g, dy!], { ...geo, filter_shape: [...w!.type.shape] }),
  ];
}

/** dw = filter_grad(x, dy); <dw, g> = T(x, g, dy): dx = input_grad(dy, g), d dy = conv2d(x, g). */
function vjpFilterGrad({ emit, inputs: [x, dy], g, attrs }: VjpArgs) {
  const geo = geometryOf(attrs);
  return [
    emit('conv2d_input_grad', [dy!, g], { ...geo, input_shape: [...x!.type.shape] }),
    emit('conv2d', [x!, g], geo),
  ];
}

export const CONV = {
  conv2d: {
    kind: 'conv',
    arity: 2,
    attrs: geometryAttrs,
    infer([x, w], attrs) {
      checkGeometry('conv2d', attrs);
      requireImage('conv2d', x!, 'input', NHWC);
      requireImage('conv2d', w!, 'filter', FILTER);
      return tensorType('f32', convOutput('conv2d', x!.shape, w!.shape, attrs));
    },
    eval: evalConv(
      ([x, w], y) => ({ x: x!.shape, w: w!.shape, y: y.shape }),
      (x, w, y, xi, wi, yi) => {
        y[yi] = y[yi]! + x[xi]! * w[wi]!;
      },
    ),
    vjp: vjpConv,
    doc: '2-D convolution, x [N,H,W,C] * w [KH,KW,C,F] -> [N,OH,OW,F]; strides, dilations, pads (top, bottom, left, right)',
  },
  conv2d_input_grad: {
    kind: 'conv',
    arity: 2,
    attrs: { ...geometryAttrs, input_shape: { kind: 'ints' } },
    infer([dy, w], attrs) {
      const op = 'conv2d_input_grad';
      checkGeometry(op, attrs);
      requireImage(op, dy!, 'dy', 'N,OH,OW,F');
      requireImage(op, w!, 'filter', FILTER);
      const x = shapeAttr(op, attrs, 'input_shape', NHWC);
      requireSame(
        op,
        'dy',
        dy!,
        convOutput(op, x, w!.shape, attrs),
        `(the conv2d output of input_shape ${shapeStr(x)} and filter ${formatType(w!)})`,
      );
      return tensorType('f32', x);
    },
    eval: evalConv(
      ([dy, w], x) => ({ x: x.shape, w: w!.shape, y: dy!.shape }),
      (dy, w, dx, xi, wi, yi) => {
        dx[xi] = dx[xi]! + dy[yi]! * w[wi]!;
      },
    ),
    vjp: vjpInputGrad,
    doc: 'gradient of conv2d w.r.t. its input (Conv2DTranspose): dy [N,OH,OW,F], w -> dx of input_shape',
  },
  conv2d_filter_grad: {
    kind: 'conv',
    arity: 2,
    attrs: { ...geometryAttrs, filter_shape: { kind: 'ints' } },
    infer([x, dy], attrs) {
      const op = 'conv2d_filter_grad';
      checkGeometry(op, attrs);
      requireImage(op, x!, 'input', NHWC);
      requireImage(op, dy!, 'dy', 'N,OH,OW,F');
      const w = shapeAttr(op, attrs, 'filter_shape', FILTER);
      requireSame(
        op,
        'dy',
        dy!,
        convOutput(op, x!.shape, w, attrs),
        `(the conv2d output of ${formatType(x!)} and filter_shape ${shapeStr(w)})`,
      );
      return tensorType('f32', w);
    },
    eval: evalConv(
      ([x, dy], w) => ({ x: x!.shape, w: w.shape, y: dy!.shape }),
      (x, dy, dw, xi, wi, yi) => {
        dw[wi] = dw[wi]! + x[xi]! * dy[yi]!;
      },
    ),
    vjp: vjpFilterGrad,
    doc: 'gradient of conv2d w.r.t. its filter: x, dy -> dw of filter_shape [KH,KW,C,F]',
  },
} satisfies Record<string, OpDef>;
