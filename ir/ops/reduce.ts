// Reductions over a set of axes (empty = all, negative axes count from the end), and argmax.
import type { Value } from '../graph.ts';
import { allocData, sameShape, tensorType, type Shape } from '../types.ts';
import type { OpDef } from './def.ts';
import {
  defineOps,
  forEachReduced,
  normAxes,
  reduce,
  reducedShape,
  type Calls,
  type OpRule,
  type ReduceGrad,
} from './rules.ts';
import { bool, int, requireDType } from './util.ts';

/** v (a result, or its cotangent) with the reduced axes kept as 1s, so it broadcasts against x. */
function kept(o: Calls, v: Value, keep: Shape): Value {
  return sameShape(v.type.shape, keep) ? v : o.reshape(v, keep);
}

/** g (of the reduced shape) broadcast back over x's shape. */
function spread(o: Calls, g: Value, keep: Shape, to: Shape): Value {
  return o.broadcastTo(kept(o, g, keep), to);
}

/** sum: every element receives g. */
const sumGrad: ReduceGrad = ({ x, g, keep }, o) => spread(o, g, keep, x.type.shape);

/** mean: every element receives g / count. */
const meanGrad: ReduceGrad = ({ x, g, axes, keep }, o) =>
  spread(o, o.div(g, o.k(axes.reduce((n, a) => n * x.type.shape[a]!, 1))), keep, x.type.shape);

/** max / min, JAX's rule: g goes to every position equal to the result, divided by the number of
 *  such positions (ties share it equally), so the gradient of max(x, x) is 1/2 each. */
const chooserGrad: ReduceGrad = ({ x, out, g, axes, keep }, o) => {
  const hit = o.cast(o.equal(x, kept(o, out, keep)), 'f32');
  const ties = o.sum(hit, axes, true);
  return o.mul(hit, o.div(kept(o, g, keep), ties));
};

/** The index of the first maximal element along `axis` (NaN is never maximal; 0 when none is above -Infinity). */
const argmax: OpRule = (name) => ({
  kind: 'reduce',
  arity: 1,
  doc: 'index of the first maximal element along axis (i32)',
  attrs: { axis: { kind: 'int' }, keepdims: { kind: 'bool', default: false } },
  infer: ([x], a) => {
    requireDType(name, x!, ['f32', 'i32']);
    return tensorType('i32', reducedShape(x!.shape, normAxes(name, x!, [int(a, 'axis')]), bool(a, 'keepdims')));
  },
  eval: ([x], a, out) => {
    const data = allocData(out);
    const best = new Float64Array(data.length).fill(-Infinity);
    forEachReduced(x!.type.shape, normAxes(name, x!.type, [int(a, 'axis')]), (i, o, r) => {
      const v = x!.data[i]!;
      if (v > best[o]!) {
        best[o] = v;
        data[o] = r;
      } // strict: the first maximal wins; all -Infinity or NaN gives 0
    });
    return { type: out, data };
  },
  vjp: 'none',
});

export const REDUCE = defineOps({
  sum: reduce('sum over axes', { init: 0, step: (s, v) => s + v }, sumGrad),
  mean: reduce('mean over axes', { init: 0, step: (s, v) => s + v, finish: (s, n) => s / n }, meanGrad, ['f32']),
  max: reduce('maximum over axes', { init: -Infinity, step: Math.max }, chooserGrad),
  min: reduce('minimum over axes', { init: Infinity, step: Math.min }, chooserGrad),
  argmax,
}) satisfies Record<string, OpDef>;
