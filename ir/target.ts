// What a target is to the compiler: its name, the limits fusion must respect for it, the ops it
// lowers, and how it renders a Program. A target decides how a kernel runs, never what it computes.
import type { Program } from './kernel.ts';
import type { OpName } from './ops/index.ts';

/** Limits on the kernels fusion builds (per target: WebGPU adds binding and workgroup-memory ones). */
export interface Limits {
  /** Most stores (outputs) in one kernel. */
  readonly maxStores: number;
  /** An inlined expression with more ops than this is materialized instead. */
  readonly maxExprNodes: number;
  /** A value read by several kernels is recomputed in each when it costs at most this many simple
   *  ops (each op counts its registry `cost`: a transcendental one several). */
  readonly recomputeNodes: number;
}

/** Limits that suit a CPU (the wasm target's, and the compiler's when no target is named). */
export const DEFAULT_LIMITS: Limits = { maxStores: 8, maxExprNodes: 48, recomputeNodes: 8 };

export interface Target<Rendered = unknown> {
  readonly name: string;
  readonly limits: Limits;
  /** The registry ops whose kernels it renders. */
  readonly supports: ReadonlySet<OpName>;
  render(program: Program): Promise<Rendered>;
}
