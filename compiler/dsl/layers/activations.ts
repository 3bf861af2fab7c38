// Activations by name (Keras' spellings), as layers and as the `activation` option of other layers.
import { fail } from '../../../ir/errors.ts';
import { opLoc } from '../context.ts';
import { k } from '../ops.ts';
import type { Tensor } from '../tensor.ts';
import { makeLayer, type Layer, type LayerOptions } from './layer.ts';

export type ActivationFn = (x: Tensor) => Tensor;
export type ActivationName = 'linear' | 'relu' | 'sigmoid' | 'tanh' | 'softmax' | 'leakyRelu';

export const ACTIVATIONS: Readonly<Record<ActivationName, ActivationFn>> = {
  linear: (x) => x,
  relu: (x) => x.relu(),
  sigmoid: (x) => x.sigmoid(),
  tanh: (x) => x.tanh(),
  softmax: (x) => k.softmax(x, -1),
  leakyRelu: (x) => k.leakyRelu(x, 0.2), // Keras' `activation='leaky_relu'` uses 0.2; the LeakyReLU layer 0.3
};

export function resolveActivation(a: ActivationName | ActivationFn | undefined, who: string): ActivationFn {
  if (a === undefined) return ACTIVATIONS.linear;
  if (typeof a === 'function') return a;
  const f = ACTIVATIONS[a];
  if (!f)
    fail(
      'K2002',
      `${who}: unknown activation '${String(a)}'; known: ${Object.keys(ACTIVATIONS).join(', ')}, or pass a function`,
      opLoc(),
    );
  return f;
}

export function activation(a: ActivationName | ActivationFn, opts: LayerOptions = {}): Layer {
  const f = resolveActivation(a, 'activation');
  return makeLayer('activation', opts, (x) => f(x));
}

/** LeakyReLU layer: x for x > 0, negativeSlope * x otherwise (Keras default 0.3). */
export function leakyRelu(opts: LayerOptions & { negativeSlope?: number } = {}): Layer {
  return makeLayer('leaky_relu', opts, (x) => k.leakyRelu(x, opts.negativeSlope ?? 0.3));
}
