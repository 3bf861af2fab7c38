// Dropout with the counter-based RNG: in training each call draws uniforms for (seed, counter) and
// the layer's i32 counter param moves on by one in place, so every step gets a fresh mask that
// every backend reproduces bit for bit. Off in inference. `noiseShape` (Keras' noise_shape) draws a
// smaller mask that broadcasts over the input: [null, null, 1] on [batch, time, features] drops whole
// words (embedding dropout), [null, 1, null] whole feature channels (Keras' SpatialDropout1D).
import { fail, type Loc } from '../../../ir/errors.ts';
import type { Shape } from '../../../ir/types.ts';
import { seedOf } from '../initializers.ts';
import { k } from '../ops.ts';
import { Tensor } from '../tensor.ts';
import { makeLayer, type Layer, type LayerOptions } from './layer.ts';

export interface DropoutOptions extends LayerOptions {
  readonly seed?: number;
  /** The mask's shape, batch axis included, one entry per input axis: null (the input's size) or 1
   *  (one draw shared along that axis). Default: the input's shape. */
  readonly noiseShape?: readonly (number | null)[];
}

export function dropout(rate: number, opts: DropoutOptions = {}): Layer {
  return makeLayer('dropout', opts, (x, s) => {
    if (!(rate >= 0 && rate < 1)) fail('K2002', `${s.name}: rate ${rate} must be in [0, 1)`, s.ctx.loc());
    const noise = maskShape(s.name, x.shape, opts.noiseShape, s.ctx.loc());
    if (!s.training || rate === 0) return x;
    const p = s.param('counter', [], 'zeros', { dtype: 'i32', trainable: false });
    const counter = new Tensor(s.ctx.read(p));
    s.ctx.write(p, counter.add(1).value);
    const keep = k.randomUniform(counter, noise, opts.seed ?? seedOf(`${s.name}/counter`)).greaterEqual(rate);
    return k.where(keep, x.mul(1 / (1 - rate)), 0);
  });
}

/** The mask's shape: `noiseShape` with nulls filled from the input's shape (K2002 when it does not fit). */
function maskShape(name: string, shape: Shape, noise: DropoutOptions['noiseShape'], loc: Loc | undefined): Shape {
  if (noise === undefined) return shape;
  const bad = noise.length !== shape.length || noise.some((d, i) => d !== null && d !== 1 && d !== shape[i]);
  if (bad)
    fail(
      'K2002',
      `${name}: noiseShape [${noise.map(String).join(', ')}] does not fit the input [${shape.join(', ')}]; give one entry per axis (batch included), each null or 1`,
      loc,
    );
  return noise.map((d, i) => d ?? shape[i]!);
}
