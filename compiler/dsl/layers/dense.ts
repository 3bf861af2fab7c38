// Dense (on the last axis, any rank) and Embedding.
import { fail } from '../../../ir/errors.ts';
import { formatType } from '../../../ir/types.ts';
import type { InitializerLike } from '../initializers.ts';
import { k } from '../ops.ts';
import type { Regularizer } from '../regularizers.ts';
import { resolveActivation, type ActivationFn, type ActivationName } from './activations.ts';
import { makeLayer, type Layer, type LayerOptions } from './layer.ts';

export interface DenseOptions extends LayerOptions {
  readonly activation?: ActivationName | ActivationFn;
  readonly useBias?: boolean;
  /** The expected input size (checked); by default the first call's last dimension. */
  readonly inputDim?: number;
  readonly kernelInitializer?: InitializerLike;
  readonly biasInitializer?: InitializerLike;
  readonly kernelRegularizer?: Regularizer;
  readonly biasRegularizer?: Regularizer;
}

export function dense(units: number, opts: DenseOptions = {}): Layer {
  const act = resolveActivation(opts.activation, 'dense');
  return makeLayer('dense', opts, (x, s) => {
    if (x.rank < 2)
      fail(
        'K2001',
        `${s.name}: input ${formatType(x.value.type)} has rank ${x.rank}, expected at least [batch, features]`,
        s.ctx.loc(),
      );
    const inDim = x.shape[x.rank - 1]!;
    if (opts.inputDim !== undefined && inDim !== opts.inputDim) {
      fail(
        'K2001',
        `${s.name}: input ${formatType(x.value.type)} has ${inDim} features, kernel expects ${opts.inputDim}; reshape or flatten the input, or change inputDim`,
        s.ctx.loc(),
      );
    }
    const w = s.weight('kernel', [inDim, units], opts.kernelInitializer ?? 'glorotUniform', opts.kernelRegularizer);
    let y = x.matmul(w);
    if (opts.useBias ?? true)
      y = y.add(s.weight('bias', [units], opts.biasInitializer ?? 'zeros', opts.biasRegularizer));
    return act(y);
  });
}

export interface EmbeddingOptions extends LayerOptions {
  readonly embeddingsInitializer?: InitializerLike;
  readonly embeddingsRegularizer?: Regularizer;
}

/** Embedding: i32 indices [...] -> f32 [..., outputDim] rows of a [inputDim, outputDim] table. */
export function embedding(inputDim: number, outputDim: number, opts: EmbeddingOptions = {}): Layer {
  return makeLayer('embedding', opts, (x, s) => {
    if (x.dtype !== 'i32')
      fail(
        'K2001',
        `${s.name}: input ${formatType(x.value.type)} must be i32 token ids in [0, ${inputDim}); cast it or declare the model input as i32`,
        s.ctx.loc(),
      );
    const table = s.weight(
      'embeddings',
      [inputDim, outputDim],
      opts.embeddingsInitializer ?? 'randomUniform',
      opts.embeddingsRegularizer,
    );
    return k.gather(table, x, 0);
  });
}
