// A value of the graph at an index, as a Kernel IR scalar expression: materialized values are
// loads, elementwise ops inline their inputs, views become index arithmetic (reshape, transpose,
// broadcast and slice cost no copy; pad and concat are guarded loads), iota / one_hot / random are
// computed from the index, gather loads its index. Reductions and contractions of the kernel being
// built are read through `ctx.acc`.
import { fail } from '../../ir/errors.ts';
import type { Attrs, Node, Value } from '../../ir/graph.ts';
import type { Bound, IExpr, SExpr } from '../../ir/kernel.ts';
import { opDef } from '../../ir/builder.ts';
import { resolvePerm, resolveSlice } from '../../ir/ops/view.ts';
import { normAxis, type DType, type Shape } from '../../ir/types.ts';
import { delinearize, iadd, ic, imul, isub, linearize } from '../../ir/iexpr.ts';

export interface ExprContext {
  /** The buffer holding a materialized value (input, param, root of a group), if any. */
  readonly bufOf: (v: Value) => string | undefined;
  /** A value computed inside the kernel being built (its accumulators, a contraction's result),
   *  read at `idx`; undefined when `v` is not one. Throws Unfusable when `idx` is not its own point. */
  readonly acc: (v: Node, idx: readonly IExpr[]) => SExpr | undefined;
  /** Called for every load emitted (safety checks of merged kernels and in-place updates). */
  readonly onLoad?: (buf: string, v: Value, at: IExpr) => void;
  /** The ranges of the kernel's loop vars (folds the index arithmetic of reshapes). */
  readonly extents?: readonly number[];
}

/** Raised when a value cannot be expressed in the kernel being built (the caller starts a new kernel). */
export class Unfusable extends Error {}

/** A pending guard from a pad or concat: the bounds, and the value outside them. */
interface Guard {
  readonly bounds: readonly Bound[];
  readonly otherwise: number;
}

/** The index of an input of shape `from` broadcast (numpy rules) to an output index over `to`. */
export function broadcastIndex(idx: readonly IExpr[], from: Shape, to: Shape): IExpr[] {
  const lead = to.length - from.length;
  return from.map((d, i) => (d === 1 && to[lead + i] !== 1 ? ic(0) : idx[lead + i]!));
}

const op = (name: string, args: readonly SExpr[], dtype: DType, attrs?: Attrs): SExpr =>
  attrs ? { k: 'op', op: name, args, dtype, attrs } : { k: 'op', op: name, args, dtype };

export function castTo(e: SExpr, from: DType, to: DType): SExpr {
  return from === to ? e : op('cast', [e], to, { dtype: to });
}

export function valueAt(v: Value, idx: readonly IExpr[], ctx: ExprContext, guard?: Guard): SExpr {
  if (v.kind === 'node') {
    const a = ctx.acc(v, idx);
    if (a) {
      if (guard) throw new Unfusable(`${v.op}: a padded read of a value computed in this kernel`);
      return a;
    }
  }
  const buf = ctx.bufOf(v);
  if (buf !== undefined) {
    const at = linearize(idx, v.type.shape);
    ctx.onLoad?.(buf, v, at);
    return guard ? { k: 'load', buf, at, guard: guard.bounds, otherwise: guard.otherwise } : { k: 'load', buf, at };
  }
  if (v.kind !== 'node') fail('K5002', `lowering: %${v.name} has no buffer`);
  return computeAt(v, idx, ctx, guard);
}

/** The node's own computation at `idx` (its inputs read through valueAt): a root's stored expression. */
export function computeAt(v: Node, idx: readonly IExpr[], ctx: ExprContext, guard?: Guard): SExpr {
  const def = opDef(v.op);
  if (def.kind === 'view') return viewAt(v, idx, ctx, guard);
  if (guard) throw new Unfusable(`${v.op}: pad or concat of a computed value; materialize its input`);
  switch (def.kind) {
    case 'elementwise': {
      const args = v.inputs.map((x) => valueAt(x, broadcastIndex(idx, x.type.shape, v.type.shape), ctx));
      return v.op === 'cast' ? castTo(args[0]!, v.inputs[0]!.type.dtype, v.type.dtype) : op(v.op, args, v.type.dtype);
    }
    case 'source':
      return sourceAt(v, idx);
    case 'random': {
      const counter = valueAt(v.inputs[0]!, [], ctx);
      const dist = v.op === 'random_uniform' ? 'uniform' : 'normal';
      return { k: 'random', dist, seed: v.attrs.seed as number, counter, index: linearize(idx, v.type.shape) };
    }
    case 'index':
      return indexAt(v, idx, ctx);
    default:
      throw new Unfusable(`${v.op}: a ${def.kind} op must be materialized before it is read`);
  }
}

function sourceAt(v: Node, idx: readonly IExpr[]): SExpr {
  if (v.op === 'iota') {
    const axis = normAxis(v.attrs.axis as number, v.type.shape.length);
    return castTo({ k: 'index', at: idx[axis]! }, 'i32', v.type.dtype);
  }
  const values = v.attrs.value as readonly number[];
  if (v.op === 'constant' && values.length === 1) return { k: 'const', v: values[0]!, dtype: v.type.dtype };
  throw new Unfusable(`${v.op}: a non-splat constant must be materialized`);
}

function indexAt(v: Node, idx: readonly IExpr[], ctx: ExprContext): SExpr {
  if (v.op === 'one_hot') {
    const ind = v.inputs[0]!;
    const i = valueAt(ind, idx.slice(0, -1), ctx);
    const hit = op('equal', [i, { k: 'index', at: idx[idx.length - 1]! }], 'bool');
    return castTo(hit, 'bool', v.type.dtype);
  }
  if (v.op === 'gather') {
    const [table, ind] = v.inputs as [Value, Value];
    const buf = ctx.bufOf(ind);
    if (buf === undefined) throw new Unfusable('gather: indices must be materialized');
    const axis = normAxis(v.attrs.axis as number, table.type.shape.length);
    const r = ind.type.shape.length;
    const at = linearize(idx.slice(axis, axis + r), ind.type.shape);
    ctx.onLoad?.(buf, ind, at);
    const row: IExpr = { k: 'load', buf, at };
    return valueAt(table, [...idx.slice(0, axis), row, ...idx.slice(axis + r)], ctx);
  }
  throw new Unfusable(`${v.op}: must be materialized (template)`);
}

function viewAt(v: Node, idx: readonly IExpr[], ctx: ExprContext, guard?: Guard): SExpr {
  const x = v.inputs[0]!;
  const inShape = x.type.shape;
  switch (v.op) {
    case 'reshape':
      return valueAt(x, delinearize(linearize(idx, v.type.shape), inShape, ctx.extents), ctx, guard);
    case 'transpose': {
      const perm = resolvePerm(inShape, v.attrs.perm as readonly number[]);
      const inIdx = new Array<IExpr>(perm.length);
      perm.forEach((p, i) => {
        inIdx[p] = idx[i]!;
      });
      return valueAt(x, inIdx, ctx, guard);
    }
    case 'broadcast_to':
      return valueAt(x, broadcastIndex(idx, inShape, v.type.shape), ctx, guard);
    case 'slice': {
      const axes = resolveSlice(inShape, v.attrs);
      return valueAt(
        x,
        axes.map((s, d) => iadd(ic(s.start), imul(idx[d]!, ic(s.step)))),
        ctx,
        guard,
      );
    }
    case 'pad': {
      if (guard) throw new Unfusable('pad: nested pad or concat; materialize its input');
      const lo = v.attrs.lo as readonly number[];
      const inIdx = idx.map((e, d) => isub(e, ic(lo[d]!)));
      const bounds = inIdx.flatMap((e, d) =>
        lo[d] === 0 && (v.attrs.hi as readonly number[])[d] === 0 ? [] : [{ e, lo: 0, hi: inShape[d]! }],
      );
      return valueAt(x, inIdx, ctx, bounds.length ? { bounds, otherwise: v.attrs.value as number } : undefined);
    }
    case 'concat': {
      if (guard) throw new Unfusable('concat: nested pad or concat; materialize its input');
      const axis = normAxis(v.attrs.axis as number, v.type.shape.length);
      let start = 0;
      let sum: SExpr | undefined;
      for (const piece of v.inputs) {
        const n = piece.type.shape[axis]!;
        const at = isub(idx[axis]!, ic(start));
        const pIdx = idx.map((e, d) => (d === axis ? at : e));
        const e = valueAt(piece, pIdx, ctx, { bounds: [{ e: at, lo: 0, hi: n }], otherwise: 0 });
        sum = sum ? op('add', [sum, e], v.type.dtype) : e;
        start += n;
      }
      return sum!;
    }
    default:
      return fail('K6001', `lowering: no index arithmetic for view op '${v.op}'`);
  }
}
