// BatchNormalization over the last axis, Keras' defaults (momentum 0.99, epsilon 1e-3).
// Training normalizes with the batch's statistics and moves the running ones in place:
//   moving = moving·momentum + batch·(1 − momentum)   (the biased batch variance, as Keras)
// Inference normalizes with the running statistics.
import type { InitializerLike } from '../initializers.ts';
import { Tensor } from '../tensor.ts';
import { makeLayer, type Layer, type LayerOptions } from './layer.ts';

export interface BatchNormOptions extends LayerOptions {
  readonly momentum?: number;
  readonly epsilon?: number;
  /** Learn an offset beta (default true). */
  readonly center?: boolean;
  /** Learn a scale gamma (default true). */
  readonly scale?: boolean;
  readonly gammaInitializer?: InitializerLike;
  readonly betaInitializer?: InitializerLike;
}

export function batchNorm(opts: BatchNormOptions = {}): Layer {
  const momentum = opts.momentum ?? 0.99,
    eps = opts.epsilon ?? 1e-3;
  return makeLayer('batch_normalization', opts, (x, s) => {
    const c = x.shape[x.rank - 1]!;
    const axes = x.shape.slice(0, -1).map((_, i) => i);
    const gamma = (opts.scale ?? true) ? s.weight('gamma', [c], opts.gammaInitializer ?? 'ones') : undefined;
    const beta = (opts.center ?? true) ? s.weight('beta', [c], opts.betaInitializer ?? 'zeros') : undefined;
    const movingMean = s.param('moving_mean', [c], 'zeros', { trainable: false });
    const movingVar = s.param('moving_variance', [c], 'ones', { trainable: false });
    let mean: Tensor, variance: Tensor;
    if (s.training) {
      mean = x.mean(axes);
      variance = x.sub(mean).square().mean(axes);
      const move = (p: typeof movingMean, batch: Tensor): void =>
        s.ctx.write(p, new Tensor(s.ctx.read(p)).mul(momentum).add(batch.mul(1 - momentum)).value);
      move(movingMean, mean);
      move(movingVar, variance);
    } else {
      mean = new Tensor(movingMean);
      variance = new Tensor(movingVar);
    }
    let y = x.sub(mean).mul(variance.add(eps).rsqrt());
    if (gamma) y = y.mul(gamma);
    return beta ? y.add(beta) : y;
  });
}
