// Building one LoopKernel from roots added in order: a pointwise root stores its expression over
// its own shape; a reduction adds an accumulator over its reduced axes. Reductions of one input
// shape and axes share a kernel, a later one reading an earlier one's accumulator (softmax: max,
// then sum of exp(x - max)); pointwise roots over the same space join as extra stores (an
// optimizer's update of a param and its slots). `tryAdd` refuses what the kernel cannot hold.
import type { Node, Value } from '../../ir/graph.ts';
import type { Accumulator, IExpr, LoopKernel, SExpr, Store } from '../../ir/kernel.ts';
import { opDef } from '../../ir/builder.ts';
import { normAxes, reducedShape } from '../../ir/ops/rules.ts';
import { normAxis, sameShape, type Shape } from '../../ir/types.ts';
import { computeAt, Unfusable, valueAt, type ExprContext } from './expr.ts';
import { iadd, ic, linearize, sameIExpr, vars } from '../../ir/iexpr.ts';

export interface LoopLimits {
  /** Most stores (outputs) in one kernel. */
  readonly maxStores: number;
}

interface Reduction {
  readonly inShape: Shape;
  readonly axes: readonly number[];
}

export function reductionOf(n: Node): Reduction {
  const axes = n.op === 'argmax' ? [n.attrs.axis as number] : (n.attrs.axes as readonly number[]);
  return { inShape: n.inputs[0]!.type.shape, axes: normAxes(n.op, n.inputs[0]!.type, axes) };
}

const COMBINE: Record<string, Accumulator['combine']> = {
  sum: 'sum',
  mean: 'sum',
  max: 'max',
  min: 'min',
  argmax: 'argmax',
};

export function isReduce(n: Node): boolean {
  return opDef(n.op).kind === 'reduce';
}

/** A concat of at most maxStores equal-shaped pieces, some computed elementwise (not in a buffer):
 *  a loop over one piece's space stores it piecewise (`LoopBuilder.addConcat`), which fusion
 *  relies on when it leaves such pieces unmaterialized. */
export function isPiecewise(n: Node, bufOf: (v: Value) => string | undefined, limits: LoopLimits): boolean {
  if (!concatPieceShape(n, limits.maxStores)) return false;
  return n.inputs.some((x) => x.kind === 'node' && bufOf(x) === undefined && opDef(x.op).kind === 'elementwise');
}

/** The shape shared by the pieces of a concat of at most `maxStores` equal-shaped pieces (the
 *  concats a kernel can store piecewise); undefined for any other node. */
export function concatPieceShape(n: Node, maxStores: number): Shape | undefined {
  const shape = n.inputs[0]?.type.shape;
  if (
    n.op !== 'concat' ||
    !shape ||
    n.inputs.length > maxStores ||
    !n.inputs.every((x) => sameShape(x.type.shape, shape))
  )
    return undefined;
  return shape;
}

export class LoopBuilder {
  readonly space: number[];
  private readonly red: Reduction | undefined;
  private readonly accs: Accumulator[] = [];
  private readonly stores: Store[] = [];
  private readonly accOf = new Map<Node, string>();
  /** Where each buffer this kernel stores is stored (a concat stored piecewise: once per piece). */
  private readonly storedAt = new Map<string, IExpr[]>();
  readonly roots: Node[] = [];

  constructor(
    first: Node,
    private readonly bufOf: (v: Value) => string | undefined,
    private readonly limits: LoopLimits,
  ) {
    this.red = isReduce(first) ? reductionOf(first) : undefined;
    const pieces = isPiecewise(first, bufOf, limits) ? first.inputs[0]!.type.shape : undefined;
    this.space = this.red ? reducedShape(this.red.inShape, this.red.axes, true) : [...(pieces ?? first.type.shape)];
  }

  /** Adds a root; false (and nothing changed) when it does not fit this kernel. */
  tryAdd(root: Node): boolean {
    if (this.stores.length >= this.limits.maxStores) return false;
    try {
      if (isReduce(root)) this.addReduce(root);
      else this.addPointwise(root);
      this.roots.push(root);
      return true;
    } catch (e) {
      if (e instanceof Unfusable) return false;
      throw e;
    }
  }

  /** The point of the space as an index over `shape`: the space itself, or it without the reduced axes. */
  private pointIndex(shape: Shape): IExpr[] {
    if (sameShape(shape, this.space)) return vars(this.space.length);
    const kept = this.space.map((_, d) => d).filter((d) => !this.red?.axes.includes(d));
    if (
      this.red &&
      sameShape(
        shape,
        kept.map((d) => this.space[d]!),
      )
    )
      return kept.map((d) => ({ k: 'var', i: d }) as IExpr);
    throw new Unfusable(`shape [${shape.join(',')}] is not this kernel's space [${this.space.join(',')}]`);
  }

  /** Reads of this kernel's accumulators must be at the current point; reads of buffers it
   *  stores must be at the point they are stored, and never from an accumulator. */
  private ctx(inAcc: boolean): ExprContext {
    return {
      bufOf: this.bufOf,
      extents: [...this.space, ...(this.red?.axes.map((a) => this.red!.inShape[a]!) ?? [])],
      acc: (v, idx) => {
        const name = this.accOf.get(v);
        if (name === undefined) return undefined;
        const own = this.pointIndex(v.type.shape);
        if (
          idx.length !== own.length ||
          !idx.every((e, i) => sameIExpr(e, own[i]!) || (v.type.shape[i] === 1 && sameIExpr(e, ic(0))))
        ) {
          throw new Unfusable(`${v.op}: read at another point than its own`);
        }
        return this.accValue(v, name);
      },
      onLoad: (buf, _v, at) => {
        const stored = this.storedAt.get(buf);
        if (stored && (inAcc || !stored.some((s) => sameIExpr(s, at))))
          throw new Unfusable(`a read of ${buf} at another point than it is stored`);
      },
    };
  }

  private accValue(v: Node, name: string): SExpr {
    const acc: SExpr = { k: 'acc', name };
    if (v.op !== 'mean') return acc;
    const red = reductionOf(v);
    const count = red.axes.reduce((n, a) => n * red.inShape[a]!, 1);
    return { k: 'op', op: 'div', args: [acc, { k: 'const', v: count, dtype: 'f32' }], dtype: 'f32' };
  }

  private addReduce(r: Node): void {
    const red = reductionOf(r);
    if (!this.red || !sameShape(red.inShape, this.red.inShape) || !sameShape(red.axes, this.red.axes)) {
      throw new Unfusable(`${r.op}: another reduction space`);
    }
    const rank = this.space.length;
    let j = 0;
    const inIdx = red.inShape.map((_, d) => ({ k: 'var', i: red.axes.includes(d) ? rank + j++ : d }) as IExpr);
    const x = r.inputs[0]!;
    const value = valueAt(x, inIdx, this.ctx(true));
    const name = `acc${this.accs.length}`;
    this.accs.push({ name, combine: COMBINE[r.op]!, value, dtype: r.op === 'argmax' ? 'i32' : r.type.dtype });
    this.accOf.set(r, name);
    this.store(r, [{ at: linearize(this.pointIndex(r.type.shape), r.type.shape), value: this.accValue(r, name) }]);
  }

  private addPointwise(p: Node): void {
    if (!this.red && !sameShape(p.type.shape, this.space) && p.op === 'concat') return this.addConcat(p);
    const idx = this.red
      ? this.pointIndex(p.type.shape)
      : sameShape(p.type.shape, this.space)
        ? vars(this.space.length)
        : undefined;
    if (!idx) throw new Unfusable(`${p.op}: another iteration space`);
    const value = computeAt(p, idx, this.ctx(false));
    this.store(p, [{ at: linearize(this.pointIndex(p.type.shape), p.type.shape), value }]);
  }

  /** A concat of pieces over this kernel's space, stored piecewise: each piece's value at the
   *  point, at the point shifted along the concat axis (no guarded loads, no copy kernel). */
  private addConcat(p: Node): void {
    const axis = normAxis(p.attrs.axis as number, p.type.shape.length);
    if (this.stores.length + p.inputs.length > this.limits.maxStores)
      throw new Unfusable('concat: more pieces than stores');
    const idx = vars(this.space.length);
    let start = 0;
    const pieces = p.inputs.map((x) => {
      if (!sameShape(x.type.shape, this.space))
        throw new Unfusable(`concat: a piece [${x.type.shape.join(',')}] is not this kernel's space`);
      const at = linearize(
        idx.map((e, d) => (d === axis ? iadd(e, ic(start)) : e)),
        p.type.shape,
      );
      start += x.type.shape[axis]!;
      return { at, value: valueAt(x, idx, this.ctx(false)) };
    });
    this.store(p, pieces);
  }

  private store(n: Node, parts: readonly { at: IExpr; value: SExpr }[]): void {
    const buf = this.bufOf(n);
    if (buf === undefined) return;
    if (this.storedAt.has(buf)) throw new Unfusable(`${buf} stored twice`);
    this.storedAt.set(
      buf,
      parts.map((s) => s.at),
    );
    for (const { at, value } of parts) this.stores.push({ buf, at, value });
  }

  build(name: string): LoopKernel {
    const reduce = this.red ? { extents: this.red.axes.map((a) => this.red!.inShape[a]!), accs: this.accs } : undefined;
    return reduce
      ? { kind: 'loop', name, space: this.space, reduce, stores: this.stores }
      : { kind: 'loop', name, space: this.space, stores: this.stores };
  }
}
