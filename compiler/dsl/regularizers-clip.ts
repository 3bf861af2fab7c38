// L1/L2 weight penalties (added to the loss) and gradient clipping (applied before the optimizer
// update), with Keras 3's formulas.
import type { Value } from '../../ir/graph.ts';
import type { Emit } from '../../ir/ops/def.ts';
import { fail } from '../../ir/errors.ts';
import { arith, type Arith } from './optimizer-math.ts';

export interface Regularization {
  /** Adds l1 * sum(|w|) to the loss. */
  readonly l1?: number;
  /** Adds l2 * sum(w^2) to the loss (no factor 1/2, as in Keras). */
  readonly l2?: number;
}

export interface Clipping {
  /** Each gradient element clamped to [-clipValue, clipValue]. */
  readonly clipValue?: number;
  /** Each gradient scaled by clipNorm / max(||g||, clipNorm). */
  readonly clipNorm?: number;
  /** All gradients scaled by globalClipNorm / max(sqrt(sum of all ||g||^2), globalClipNorm). */
  readonly globalClipNorm?: number;
}

/** The penalty l1 * sum|w| + l2 * sum w^2 over the given weights, or null when there is none. */
export function weightPenalty(emit: Emit, weights: readonly Value[], r: Regularization): Value | null {
  const x = arith(emit);
  const terms: Value[] = [];
  for (const w of weights) {
    if (r.l1) terms.push(x.mul(r.l1, x.total(x.abs(w))));
    if (r.l2) terms.push(x.mul(r.l2, x.total(x.square(w))));
  }
  return terms.length ? terms.reduce((a, b) => x.add(a, b)) : null;
}

const sumOfSquares = (x: Arith, gs: readonly Value[]): Value =>
  gs.map((g) => x.total(x.square(g))).reduce((a, b) => x.add(a, b));

function checkPositive(what: string, v: number | undefined): void {
  if (v !== undefined && !(v > 0)) fail('K2002', `optimizer: ${what} is ${v}; it must be positive (or left out)`);
}

/** Applies the clipping options in Keras' order: per-tensor norm, value, then global norm. */
export function clipGradients(emit: Emit, grads: readonly Value[], c: Clipping): Value[] {
  checkPositive('clipValue', c.clipValue);
  checkPositive('clipNorm', c.clipNorm);
  checkPositive('globalClipNorm', c.globalClipNorm);
  const x = arith(emit);
  let gs = [...grads];
  const { clipNorm, clipValue, globalClipNorm } = c;
  if (clipNorm !== undefined) {
    gs = gs.map((g) => x.div(x.mul(g, clipNorm), x.max(x.sqrt(sumOfSquares(x, [g])), clipNorm)));
  }
  if (clipValue !== undefined) gs = gs.map((g) => x.min(x.max(g, -clipValue), clipValue));
  if (globalClipNorm !== undefined && gs.length) {
    const scale = x.div(globalClipNorm, x.max(x.sqrt(sumOfSquares(x, gs)), globalClipNorm));
    gs = gs.map((g) => x.mul(g, scale));
  }
  return gs;
}
