// A counter-based random stream: the bits of element `index` depend only on (seed, counter, index),
// so the interpreter, WebAssembly and WGSL produce the same values with plain 32-bit integer
// arithmetic (multiply wraps, shifts are logical).

/** lowbias32 (a 32-bit integer finalizer): xor-shift / multiply rounds with full avalanche. */
export function mix32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  x = (x ^ (x >>> 16)) >>> 0;
  return x;
}

/** 32 random bits for (seed, counter, index). */
export function randomBits(seed: number, counter: number, index: number): number {
  return mix32((mix32((mix32(index >>> 0) ^ (counter >>> 0)) >>> 0) ^ (seed >>> 0)) >>> 0);
}

const TWO_POW_M24 = 1 / 16777216;

/** Uniform in [0, 1): the top 24 bits, exactly representable in f32. */
export function randomUniform(seed: number, counter: number, index: number): number {
  return (randomBits(seed, counter, index) >>> 8) * TWO_POW_M24;
}

/** Standard normal by Box-Muller from the uniforms at 2*index and 2*index+1; u1 is in (0, 1]. */
export function randomNormal(seed: number, counter: number, index: number): number {
  const u1 = ((randomBits(seed, counter, 2 * index) >>> 8) + 1) * TWO_POW_M24;
  const u2 = (randomBits(seed, counter, 2 * index + 1) >>> 8) * TWO_POW_M24;
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}
