// Contraction groups -> ContractionKernels: a matmul reads its operands as strided views (transposes,
// broadcasts and slices are strides); conv2d and its two gradients read theirs as a window's patches
// (implicit im2col, ir/contraction.ts), so the geometry is in the operands' index expressions:
//   conv2d              y[N*OH*OW, F]  = patches(x)[N*OH*OW, KH*KW*C] x w[KH*KW*C, F]
//   conv2d_filter_grad  dw[KH*KW*C, F] = patches(x)^T[KH*KW*C, N*OH*OW] x dy[N*OH*OW, F]
//   conv2d_input_grad   dx[N*H*W, C]   = patches(dy)[N*H*W, KH*KW*F] x w'[KH*KW*F, C], gathered: each
//                       pixel of dx sums the windows that cover it (a window over dy, turned by 180
//                       degrees, with the conv's stride as upsampling), w' the filter turned to match.
// The group's elementwise tail is the epilogue, computed at the contraction's (row, col).
// mergeBatch is a Kernel IR pass over the result.
import {
  extentOf,
  flippedFilterOperand,
  readsVar,
  viewOf,
  viewOperand,
  windowOperand,
  type Window,
} from '../../ir/contraction.ts';
import { fail } from '../../ir/errors.ts';
import type { Node, Value } from '../../ir/graph.ts';
import type { ContractionKernel, IExpr, Operand, SExpr } from '../../ir/kernel.ts';
import { resolvePerm, resolveSlice } from '../../ir/ops/view.ts';
import { stridesOf } from '../../ir/types.ts';
import { delinearize, foldIExprNode, iv, sameIExpr, substitute, vars } from '../../ir/iexpr.ts';
import { mapSExpr } from '../../ir/kernel-walk.ts';
import { computeAt, type ExprContext } from './expr.ts';

export type BufOf = (v: Value) => string | undefined;

interface View {
  readonly buf: string;
  readonly offset: number;
  readonly strides: readonly number[];
}

const sameStrides = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/** `v` as strides over a buffer: transposes, broadcasts and slices over a reshape chain of a buffer. */
export function stridedView(v: Value, bufOf: BufOf): View {
  const buf = bufOf(v);
  if (buf !== undefined) return { buf, offset: 0, strides: stridesOf(v.type.shape) };
  if (v.kind !== 'node') fail('K5002', `lowering: %${v.name} has no buffer`);
  const x = v.inputs[0]!;
  switch (v.op) {
    case 'reshape': {
      const base = stridedView(x, bufOf);
      if (!sameStrides(base.strides, stridesOf(x.type.shape))) break;
      return { buf: base.buf, offset: base.offset, strides: stridesOf(v.type.shape) };
    }
    case 'transpose': {
      const s = stridedView(x, bufOf);
      const perm = resolvePerm(x.type.shape, v.attrs.perm as readonly number[]);
      return { ...s, strides: perm.map((p) => s.strides[p]!) };
    }
    case 'broadcast_to': {
      const s = stridedView(x, bufOf);
      const lead = v.type.shape.length - x.type.shape.length;
      return {
        ...s,
        strides: v.type.shape.map((d, i) =>
          i < lead || (x.type.shape[i - lead] === 1 && d !== 1) ? 0 : s.strides[i - lead]!,
        ),
      };
    }
    case 'slice': {
      const s = stridedView(x, bufOf);
      const axes = resolveSlice(x.type.shape, v.attrs);
      return {
        buf: s.buf,
        offset: s.offset + axes.reduce((o, a, i) => o + a.start * s.strides[i]!, 0),
        strides: axes.map((a, i) => a.step * s.strides[i]!),
      };
    }
  }
  return fail(
    'K5002',
    `lowering: ${v.op} ${JSON.stringify(v.type.shape)} is not a strided view of a buffer; fuse should have materialized it`,
  );
}

/** The buffer holding all of `v`, in order (a reshape of it at most). */
export function wholeBuffer(v: Value, bufOf: BufOf, op: string): string {
  const s = stridedView(v, bufOf);
  if (s.offset !== 0 || !sameStrides(s.strides, stridesOf(v.type.shape)))
    fail('K5002', `lowering: ${op} operand is not a whole buffer`);
  return s.buf;
}

/** The epilogue of a core's group: the root computed at the core's coordinates `at` (expressions of the
 *  kernel's vars, whose ranges are `extents`), with the core's result there read as { acc: name }. */
export function epilogue(
  root: Node,
  core: Node,
  accName: string,
  bufOf: BufOf,
  at: readonly IExpr[] = vars(core.type.shape.length),
  extents = core.type.shape,
): SExpr | undefined {
  if (root === core) return undefined;
  const ctx: ExprContext = {
    bufOf: (v) => (v === core ? undefined : bufOf(v)),
    extents,
    acc: (v, idx) => {
      if (v !== core) return undefined;
      if (!idx.every((e, i) => sameIExpr(e, at[i]!)))
        fail('K5002', `lowering: ${root.op} reads ${core.op} at another point than its own`);
      return { k: 'acc', name: accName };
    },
  };
  return computeAt(root, at, ctx);
}

const withEpilogue = (k: ContractionKernel, epi: SExpr | undefined): ContractionKernel =>
  epi ? { ...k, epilogue: epi } : k;

function matmulKernel(name: string, root: Node, core: Node, out: string, bufOf: BufOf): ContractionKernel {
  const [a, b] = core.inputs as [Value, Value];
  const shape = core.type.shape;
  const nb = shape.length - 2;
  const batch = shape.slice(0, nb);
  const ta = core.attrs.transpose_a === true,
    tb = core.attrs.transpose_b === true;
  const [m, n] = [shape[nb]!, shape[nb + 1]!];
  const k = ta ? a.type.shape[a.type.shape.length - 2]! : a.type.shape[a.type.shape.length - 1]!;
  const operand = (x: Value, swap: boolean, rows: number, cols: number): Operand => {
    const s = stridedView(x, bufOf);
    const r = x.type.shape.length;
    const lead = nb - (r - 2);
    const bs = batch.map((d, i) => (i < lead || (x.type.shape[i - lead] === 1 && d !== 1) ? 0 : s.strides[i - lead]!));
    const [s0, s1] = [s.strides[r - 2]!, s.strides[r - 1]!];
    return viewOperand(s.buf, s.offset, [...bs, ...(swap ? [s1, s0] : [s0, s1])], rows, cols);
  };
  const kernel: ContractionKernel = {
    kind: 'contraction',
    name,
    batch,
    m,
    n,
    k,
    a: operand(a, ta, m, k),
    b: operand(b, tb, k, n),
    out,
  };
  return withEpilogue(kernel, epilogue(root, core, 'dot', bufOf));
}

const ints = (core: Node, name: string, d: readonly number[]): number[] => [
  ...((core.attrs[name] as readonly number[] | undefined) ?? d),
];

/** conv2d or one of its gradients as a contraction over the window's patches. */
function convKernel(name: string, root: Node, core: Node, out: string, bufOf: BufOf): ContractionKernel {
  const [x, y] = core.inputs.map((v) => wholeBuffer(v, bufOf, core.op)) as [string, string];
  const [s0, s1] = core.inputs.map((v) => v.type.shape) as [readonly number[], readonly number[]];
  const o = core.type.shape;
  const strides = ints(core, 'strides', [1, 1]),
    dilations = ints(core, 'dilations', [1, 1]);
  const [pt, , pl] = ints(core, 'pads', [0, 0, 0, 0]) as [number, number, number];
  let kernel: Omit<ContractionKernel, 'kind' | 'name' | 'out' | 'batch'>;
  if (core.op === 'conv2d') {
    const [KH, KW, C, F] = s1 as [number, number, number, number];
    const win: Window = { image: s0, out: o.slice(1, 3), kernel: [KH, KW], strides, dilations, pads: [pt, pl] };
    kernel = {
      m: o[0]! * o[1]! * o[2]!,
      n: F,
      k: KH * KW * C,
      a: windowOperand(x, win, 'rows'),
      b: viewOperand(y, 0, [F, 1], KH * KW * C, F),
    };
  } else if (core.op === 'conv2d_filter_grad') {
    const [N, OH, OW, F] = s1 as [number, number, number, number];
    const win: Window = { image: s0, out: [OH, OW], kernel: o.slice(0, 2), strides, dilations, pads: [pt, pl] };
    kernel = {
      m: o[0]! * o[1]! * o[2]!,
      n: F,
      k: N * OH * OW,
      a: windowOperand(x, win, 'cols'),
      b: viewOperand(y, 0, [F, 1], N * OH * OW, F),
    };
  } else {
    const [KH, KW, C, F] = s1 as [number, number, number, number];
    const [dh, dw] = dilations as [number, number];
    const win: Window = {
      image: s0,
      out: o.slice(1, 3),
      kernel: [KH, KW],
      strides: [1, 1],
      dilations,
      pads: [(KH - 1) * dh - pt, (KW - 1) * dw - pl],
      upsample: strides,
    };
    kernel = {
      m: o[0]! * o[1]! * o[2]!,
      n: C,
      k: KH * KW * F,
      a: windowOperand(x, win, 'rows'),
      b: flippedFilterOperand(y, s1),
    };
  }
  // the output [d0, d1, d2, d3] is the matrix [d0*d1*d2, d3]
  const at = [...delinearize(iv(0), o.slice(0, 3), [kernel.m, kernel.n]), iv(1)];
  return withEpilogue(
    { kind: 'contraction', name, batch: [], ...kernel, out },
    epilogue(root, core, 'dot', bufOf, at, [kernel.m, kernel.n]),
  );
}

export const CONV_OPS: readonly string[] = ['conv2d', 'conv2d_input_grad', 'conv2d_filter_grad'];

/** The contraction kernel of a matmul or conv group. */
export function contractionKernel(name: string, root: Node, core: Node, out: string, bufOf: BufOf): ContractionKernel {
  return mergeBatch(
    core.op === 'matmul' ? matmulKernel(name, root, core, out, bufOf) : convKernel(name, root, core, out, bufOf),
  );
}

const readsBatch = (op: Operand, nb: number): boolean =>
  [op.at, ...(op.guard ?? []).map((g) => g.e)].some((e) => [...Array(nb).keys()].some((d) => readsVar(e, d)));

/** A batched contraction whose B is the same for every batch (x @ W over [batch, time, features]) as one
 *  over batch * m rows, when A's rows still run on as one strided index (a target can then read A in
 *  place and pack B once). The epilogue reads the batch coordinates back from the merged row. */
export function mergeBatch(k: ContractionKernel): ContractionKernel {
  const nb = k.batch.length;
  if (nb === 0 || readsBatch(k.b, nb)) return k;
  const a: Operand = { ...k.a, rows: [...k.batch, ...k.a.rows] };
  if (viewOf(k.a, nb) && !viewOf(a, 0)) return k;
  const shift = (e: IExpr): IExpr => substitute(e, (i) => iv(i - nb));
  const b: Operand = {
    ...k.b,
    at: shift(k.b.at),
    ...(k.b.guard ? { guard: k.b.guard.map((g) => ({ ...g, e: shift(g.e) })) } : {}),
  };
  const m = extentOf(k.batch) * k.m;
  const coords = [...delinearize(iv(0), [...k.batch, k.m], [m, k.n]), iv(1)];
  const merged: ContractionKernel = { ...k, batch: [], m, a, b };
  return k.epilogue
    ? { ...merged, epilogue: mapSExpr(k.epilogue, { iexpr: (x) => (x.k === 'var' ? coords[x.i]! : foldIExprNode(x)) }) }
    : merged;
}
