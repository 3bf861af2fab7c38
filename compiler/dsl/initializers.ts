// Initializers, Keras' names and defaults, as data: each maps a param's shape (and name, for the
// default seed) to an ir/init.ts initializer. Random ones are seeded from a hash of the param name
// unless a seed is given, so two builds of a model start from the same weights.
import type { Init } from '../../ir/graph.ts';
import type { Shape } from '../../ir/types.ts';

export type Initializer = (shape: Shape, paramName: string) => Init;
export type InitializerLike =
  | Initializer
  | 'zeros'
  | 'ones'
  | 'glorotUniform'
  | 'glorotNormal'
  | 'heNormal'
  | 'heUniform'
  | 'orthogonal'
  | 'randomNormal'
  | 'randomUniform';

/** FNV-1a of the name: a stable 31-bit default seed. */
export function seedOf(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h & 0x7fffffff;
}

/** Keras' fans: a [in, out] matrix, or a conv kernel [..., in, out] whose leading dims are the receptive field. */
export function fans(shape: Shape): { fanIn: number; fanOut: number } {
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 };
  if (shape.length === 1) return { fanIn: shape[0]!, fanOut: shape[0]! };
  const field = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[shape.length - 2]! * field, fanOut: shape[shape.length - 1]! * field };
}

type Seeded = { seed?: number };
const seedFor = (o: Seeded, name: string): number => o.seed ?? seedOf(name);

export const zeros = (): Initializer => () => ({ name: 'zeros', attrs: {} });
export const ones = (): Initializer => () => ({ name: 'ones', attrs: {} });
export const constant =
  (value: number): Initializer =>
  () => ({ name: 'constant', attrs: { value } });

export const randomUniform =
  (o: { minval?: number; maxval?: number } & Seeded = {}): Initializer =>
  (_, name) => ({
    name: 'random_uniform',
    attrs: { min: o.minval ?? -0.05, max: o.maxval ?? 0.05, seed: seedFor(o, name) },
  });

export const randomNormal =
  (o: { mean?: number; stddev?: number } & Seeded = {}): Initializer =>
  (_, name) => ({
    name: 'random_normal',
    attrs: { mean: o.mean ?? 0, stddev: o.stddev ?? 0.05, seed: seedFor(o, name) },
  });

/** Keras' VarianceScaling: uniform in ±sqrt(3 scale / n), or a normal truncated at two standard
 *  deviations whose stddev is corrected (÷ .8796...) so the variance stays scale / n. */
function varianceScaling(
  scale: number,
  mode: 'fanIn' | 'fanAvg',
  dist: 'uniform' | 'truncated',
  o: Seeded,
): Initializer {
  return (shape, name): Init => {
    const { fanIn, fanOut } = fans(shape);
    const v = scale / Math.max(1, mode === 'fanIn' ? fanIn : (fanIn + fanOut) / 2);
    const seed = seedFor(o, name);
    if (dist === 'uniform') {
      const limit = Math.sqrt(3 * v);
      return { name: 'random_uniform', attrs: { min: -limit, max: limit, seed } };
    }
    return { name: 'truncated_normal', attrs: { mean: 0, stddev: Math.sqrt(v) / 0.87962566103423978, seed } };
  };
}

export const glorotUniform = (o: Seeded = {}): Initializer => varianceScaling(1, 'fanAvg', 'uniform', o);
export const glorotNormal = (o: Seeded = {}): Initializer => varianceScaling(1, 'fanAvg', 'truncated', o);
export const heUniform = (o: Seeded = {}): Initializer => varianceScaling(2, 'fanIn', 'uniform', o);
export const heNormal = (o: Seeded = {}): Initializer => varianceScaling(2, 'fanIn', 'truncated', o);
export const orthogonal =
  (o: { gain?: number } & Seeded = {}): Initializer =>
  (_, name) => ({
    name: 'orthogonal',
    attrs: { gain: o.gain ?? 1, seed: seedFor(o, name) },
  });

export const initializers = {
  zeros,
  ones,
  constant,
  randomUniform,
  randomNormal,
  glorotUniform,
  glorotNormal,
  heUniform,
  heNormal,
  orthogonal,
};

/** An initializer given by name (defaults) or as a function. */
export function resolveInitializer(i: InitializerLike): Initializer {
  return typeof i === 'function' ? i : initializers[i]();
}

/** Equal contiguous blocks of constants, e.g. LSTM's bias [0, 1, 0, 0] per gate (unit forget bias). */
export const blocks =
  (values: readonly number[]): Initializer =>
  () => ({ name: 'blocks', attrs: { values: [...values] } });
