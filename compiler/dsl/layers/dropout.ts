// Dropout with the counter-based RNG: in training each call draws uniforms for (seed, counter) and
// the layer's i32 counter param moves on by one in place, so every step gets a fresh mask that
// every backend reproduces bit for bit. Off in inference.
import { fail } from '../../../ir/errors.ts';
import { seedOf } from '../initializers.ts';
import { k } from '../ops.ts';
import { Tensor } from '../tensor.ts';
import { makeLayer, type Layer, type LayerOptions } from './layer.ts';

export function dropout(rate: number, opts: LayerOptions & { seed?: number } = {}): Layer {
  return makeLayer('dropout', opts, (x, s) => {
    if (!(rate >= 0 && rate < 1)) fail('K2002', `${s.name}: rate ${rate} must be in [0, 1)`, s.ctx.loc());
    if (!s.training || rate === 0) return x;
    const p = s.param('counter', [], 'zeros', { dtype: 'i32', trainable: false });
    const counter = new Tensor(s.ctx.read(p));
    s.ctx.write(p, counter.add(1).value);
    const keep = k.randomUniform(counter, x.shape, opts.seed ?? seedOf(`${s.name}/counter`)).greaterEqual(rate);
    return k.where(keep, x.mul(1 / (1 - rate)), 0);
  });
}
