// kiln's IR, public surface: types, graphs and their builder, the op registry, the text format
// (print / parse), the verifier, the reference interpreter, initializers and the RNG, Kernel IR types.
export * from './types.ts';
export * from './errors.ts';
export * from './graph.ts';
export * from './builder.ts';
export * from './ops/index.ts';
export * from './print.ts';
export * from './parse.ts';
export * from './verify.ts';
export * from './interpret.ts';
export * from './init.ts';
export * from './random.ts';
export type * from './kernel.ts';
