// Algebraic simplification: one-line pattern rules with their algebra as a comment, constant
// folding through the registry's `eval` (the same reference semantics the interpreter runs), and
// reshape / transpose chains folded. Run to a fixed point; `onRule` hears which rule fired.
import type { Graph, Node, Value } from '../../ir/graph.ts';
import { makeNode, opDef } from '../../ir/builder.ts';
import { resolvePerm } from '../../ir/ops/view.ts';
import { sameType, sizeOf, type Tensor } from '../../ir/types.ts';
import { rewriteGraph } from './dce.ts';

/** Folded constants larger than this many elements (and not a splat) are left unfolded. */
export const FOLD_LIMIT = 64;

type Rule = (n: Node, x: readonly Value[]) => Value | undefined;

const isNode = (v: Value | undefined, op: string): v is Node => v?.kind === 'node' && v.op === op;
/** v is a constant whose every element is c. */
const is = (v: Value | undefined, c: number): boolean =>
  isNode(v, 'constant') && (v.attrs.value as readonly number[]).every((x) => x === c);
/** x when it already has n's type (so dropping the op does not change a broadcast shape). */
const keep = (n: Node, x: Value | undefined): Value | undefined => (x && sameType(x.type, n.type) ? x : undefined);
const identityPerm = (p: readonly number[]): boolean => p.every((a, i) => a === i);

export const ALGEBRA: Readonly<Record<string, Rule>> = {
  mul_one: (n, [a, b]) => (n.op === 'mul' ? (is(b, 1) ? keep(n, a) : is(a, 1) ? keep(n, b) : undefined) : undefined), // x*1 -> x, 1*x -> x
  add_zero: (n, [a, b]) => (n.op === 'add' ? (is(b, 0) ? keep(n, a) : is(a, 0) ? keep(n, b) : undefined) : undefined), // x+0 -> x, 0+x -> x
  sub_zero: (n, [a, b]) => (n.op === 'sub' && is(b, 0) ? keep(n, a) : undefined), // x-0 -> x
  div_one: (n, [a, b]) => (n.op === 'div' && is(b, 1) ? keep(n, a) : undefined), // x/1 -> x
  neg_neg: (n, [a]) => (n.op === 'neg' && isNode(a, 'neg') ? keep(n, a.inputs[0]) : undefined), // -(-x) -> x
  cast_same: (n, [a]) => (n.op === 'cast' ? keep(n, a) : undefined), // cast<t>(x: t) -> x
  reshape_same: (n, [a]) => (n.op === 'reshape' ? keep(n, a) : undefined), // reshape(x, shape(x)) -> x
  reshape_reshape: (n, [a]) =>
    n.op === 'reshape' && isNode(a, 'reshape')
      ? makeNode('reshape', [a.inputs[0]!], { shape: [...n.type.shape] }, n.loc)
      : undefined, // reshape(reshape(x)) -> reshape(x)
  broadcast_same: (n, [a]) => (n.op === 'broadcast_to' ? keep(n, a) : undefined), // broadcast_to(x, shape(x)) -> x
  transpose_identity: (n, [a]) =>
    n.op === 'transpose' && identityPerm(resolvePerm(a!.type.shape, n.attrs.perm as number[])) ? keep(n, a) : undefined, // transpose(x, id) -> x
  transpose_transpose: (n, [a]) =>
    n.op === 'transpose' && isNode(a, 'transpose') ? composeTransposes(n, a) : undefined, // transpose(transpose(x, p), q) -> transpose(x, p[q])
  mask_relu: (n, [a, b]) =>
    n.op === 'greater' && is(b, 0) && a?.type.dtype === 'f32' && !isNode(a, 'relu')
      ? makeNode('greater', [makeNode('relu', [a], {}, n.loc), b!], {}, n.loc)
      : undefined, // x > 0 -> relu(x) > 0 (the mask shares the activation)
  pad_none: (n, [a]) => (n.op === 'pad' ? keep(n, a) : undefined), // pad(x, 0, 0) -> x
  pads_concat: (n) => (n.op === 'add' ? padsToConcat(n) : undefined), // pad(a, lo=0) + pad(b, lo=|a|) -> concat(a, b) (the cotangent of slices)
  concat_concat: (n, x) =>
    n.op === 'concat' && x.some((v) => isNode(v, 'concat') && v.attrs.axis === n.attrs.axis)
      ? flatConcat(n, x)
      : undefined, // concat(concat(a, b), c) -> concat(a, b, c)
  fold: (n, x) => foldConstant(n, x), // op(constants) -> constant
};

/** The one axis a zero pad pads, with its piece's extent there: [axis, lo, lo + size]. */
function padSpan(v: Value): [number, number, number] | undefined {
  if (!isNode(v, 'pad') || v.attrs.value !== 0) return undefined;
  const lo = v.attrs.lo as readonly number[],
    hi = v.attrs.hi as readonly number[];
  const axes = lo.flatMap((l, i) => (l !== 0 || hi[i] !== 0 ? [i] : []));
  if (axes.length !== 1) return undefined;
  const a = axes[0]!;
  return [a, lo[a]!, lo[a]! + v.inputs[0]!.type.shape[a]!];
}

/** A sum of zero pads of pieces that tile a contiguous range of one axis (autodiff's sum of the
 *  cotangents of an LSTM's four gate slices) is the pieces' concat, padded to the rest of the axis. */
function padsToConcat(n: Node): Value | undefined {
  const leaves: Value[] = [];
  const collect = (v: Value): void => {
    if (isNode(v, 'add') && sameType(v.type, n.type)) v.inputs.forEach(collect);
    else leaves.push(v);
  };
  collect(n);
  const spans = leaves.map(padSpan);
  if (spans.some((s, i) => !s || s[0] !== spans[0]![0] || !sameType(leaves[i]!.type, n.type))) return undefined;
  const order = leaves
    .map((v, i) => ({ piece: (v as Node).inputs[0]!, span: spans[i]! }))
    .sort((p, q) => p.span[1] - q.span[1]);
  if (order.some((p, i) => i > 0 && p.span[1] !== order[i - 1]!.span[2])) return undefined; // overlapping or a gap
  const axis = spans[0]![0];
  const cat = makeNode(
    'concat',
    order.map((p) => p.piece),
    { axis },
    n.loc,
  );
  const lo = n.type.shape.map((_, i) => (i === axis ? order[0]!.span[1] : 0));
  const hi = n.type.shape.map((d, i) => (i === axis ? d - order[order.length - 1]!.span[2] : 0));
  return lo.every((l) => l === 0) && hi.every((h) => h === 0)
    ? cat
    : makeNode('pad', [cat], { lo, hi, value: 0 }, n.loc);
}

function flatConcat(n: Node, inputs: readonly Value[]): Value {
  const pieces = inputs.flatMap((v) => (isNode(v, 'concat') && v.attrs.axis === n.attrs.axis ? v.inputs : [v]));
  return makeNode('concat', pieces, { axis: n.attrs.axis as number }, n.loc);
}

function composeTransposes(outer: Node, inner: Node): Value {
  const x = inner.inputs[0]!;
  const p = resolvePerm(x.type.shape, inner.attrs.perm as number[]);
  const q = resolvePerm(inner.type.shape, outer.attrs.perm as number[]);
  const perm = q.map((i) => p[i]!);
  return identityPerm(perm) ? x : makeNode('transpose', [x], { perm }, outer.loc);
}

/** Evaluates an op whose inputs are all constants with the registry's `eval`. */
function foldConstant(n: Node, inputs: readonly Value[]): Value | undefined {
  const def = opDef(n.op);
  if (n.op === 'constant' || def.kind === 'random' || !inputs.every((x) => isNode(x, 'constant'))) return undefined;
  if (def.kind === 'source' && n.op !== 'iota') return undefined;
  const args: Tensor[] = inputs.map((x) => opDef('constant').eval([], (x as Node).attrs, x.type, { float64: false }));
  const out = def.eval(args, n.attrs, n.type, { float64: false });
  const values = Array.from(out.data, Number);
  const splat = values.every((v) => Object.is(v, values[0]));
  if (!splat && sizeOf(n.type.shape) > FOLD_LIMIT) return undefined;
  if (n.op === 'iota' && !splat) return undefined; // an iota is cheaper computed than stored
  return makeNode(
    'constant',
    [],
    { value: splat ? [values[0] ?? 0] : values, shape: [...n.type.shape], dtype: n.type.dtype },
    n.loc,
  );
}

export interface SimplifyOptions {
  readonly onRule?: (rule: string, node: Node) => void;
}

/** Applies ALGEBRA to a fixed point. */
export function simplify(g: Graph, opts: SimplifyOptions = {}): Graph {
  let cur = g;
  for (let round = 0; round < 20; round++) {
    let fired = false;
    cur = rewriteGraph(cur, (n, x) => {
      for (const [name, rule] of Object.entries(ALGEBRA)) {
        const r = rule(n, x);
        if (r && r !== n) {
          fired = true;
          opts.onRule?.(name, n);
          return r;
        }
      }
      return undefined;
    });
    if (!fired) return cur;
  }
  return cur;
}
