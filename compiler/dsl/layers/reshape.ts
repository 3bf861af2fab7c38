// Flatten and Reshape: per-example shapes, the batch axis kept.
import { fail } from '../../../ir/errors.ts';
import { formatType, sizeOf } from '../../../ir/types.ts';
import { makeLayer, type Layer, type LayerOptions } from './layer.ts';

export function flatten(opts: LayerOptions = {}): Layer {
  return makeLayer('flatten', opts, (x) => x.reshape([x.shape[0] ?? 1, sizeOf(x.shape.slice(1))]));
}

/** Reshape each example to `shape` (no batch axis; one -1 allowed). */
export function reshape(shape: readonly number[], opts: LayerOptions = {}): Layer {
  return makeLayer('reshape', opts, (x, s) => {
    const per = sizeOf(x.shape.slice(1));
    const known = sizeOf(shape.filter((d) => d !== -1));
    if (shape.includes(-1) ? per % known !== 0 : per !== known) {
      fail(
        'K2001',
        `${s.name}: cannot reshape each example of ${formatType(x.value.type)} (${per} values) to [${shape.join(',')}] (${known} values)`,
        s.ctx.loc(),
      );
    }
    return x.reshape([x.shape[0]!, ...shape]);
  });
}
