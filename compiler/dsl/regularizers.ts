// Weight penalties (Keras' l1, l2, l1l2): a function of the weight giving a scalar added to the loss.
import type { Tensor } from './tensor.ts';

export type Regularizer = (w: Tensor) => Tensor;

/** l1 * sum(|w|) + l2 * sum(w^2), the terms with a zero factor left out. */
export function l1l2(o: { l1?: number; l2?: number } = {}): Regularizer {
  const a = o.l1 ?? 0,
    b = o.l2 ?? 0;
  return (w) => {
    const l1 = a ? w.abs().sum().mul(a) : undefined;
    const l2 = b ? w.square().sum().mul(b) : undefined;
    return l1 && l2 ? l1.add(l2) : (l1 ?? l2 ?? w.sum().mul(0));
  };
}

export const l1 = (factor = 0.01): Regularizer => l1l2({ l1: factor });
export const l2 = (factor = 0.01): Regularizer => l1l2({ l2: factor });

export const regularizers = { l1, l2, l1l2 };
