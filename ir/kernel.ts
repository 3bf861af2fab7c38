// The Kernel IR: what a fusion group lowers to and what every target renders.
// A Program is a set of buffers (regions of one arena) and entry points, each an ordered list of
// kernels. Kernels are loops over an iteration space with scalar expression bodies; views are
// index arithmetic (a transpose or broadcast costs no copy); pooling, pooling gradients and
// scatter_add are loop kernels too; matmul and convolutions are contractions whose operands are index
// expressions over the original buffers (implicit im2col), with fused epilogues.
import type { Attrs } from './graph.ts';
import type { DType, TensorType } from './types.ts';

/** A buffer: a region of the arena. Offsets come from the memory plan. */
export interface BufferDecl {
  readonly name: string;
  readonly dtype: DType;
  /** Number of elements. */
  readonly size: number;
  /** input: fed per call; param: persistent state (weights, optimizer slots, counters);
   *  output: read back per call; temp: lives only inside one entry call. */
  readonly role: 'input' | 'param' | 'output' | 'temp';
  /** Constant contents (folded non-splat constants), written once when the program is loaded;
   *  such buffers have role 'param' but appear in no entry's or the program's param table. */
  readonly init?: readonly number[];
}

/** Integer index arithmetic over the kernel's loop variables (v0, v1, ...). div and mod are
 *  floor division / modulo of non-negative values. */
export type IExpr =
  | { readonly k: 'var'; readonly i: number }
  | { readonly k: 'int'; readonly v: number }
  | { readonly k: 'add' | 'sub' | 'mul' | 'div' | 'mod' | 'min' | 'max'; readonly a: IExpr; readonly b: IExpr }
  /** An i32 element of a buffer used as an index (gather's indices): buf[at]. */
  | { readonly k: 'load'; readonly buf: string; readonly at: IExpr };

/** A bounds test `lo <= e < hi` used by guarded loads (padding, concat, conv borders). */
export interface Bound {
  readonly e: IExpr;
  readonly lo: number;
  readonly hi: number;
}

/** Scalar expressions, typed by `dtype` where it matters. */
export type SExpr =
  /** buf[at]; when `guard` is given and any bound fails, the value is `otherwise` instead (no load). */
  | {
      readonly k: 'load';
      readonly buf: string;
      readonly at: IExpr;
      readonly guard?: readonly Bound[];
      readonly otherwise?: number;
    }
  | { readonly k: 'const'; readonly v: number; readonly dtype: DType }
  /** An index as a value (iota, one_hot, comparisons on positions). */
  | { readonly k: 'index'; readonly at: IExpr }
  /** An elementwise op of the registry (its `scalar`), e.g. { op: 'add', args: [a, b] }; `dtype` is the result dtype. */
  | {
      readonly k: 'op';
      readonly op: string;
      readonly args: readonly SExpr[];
      readonly dtype: DType;
      readonly attrs?: Attrs;
    }
  /** The counter-based RNG (ir/random.ts) at (seed, counter, index). */
  | {
      readonly k: 'random';
      readonly dist: 'uniform' | 'normal';
      readonly seed: number;
      readonly counter: SExpr;
      readonly index: IExpr;
    }
  /** The current value of an accumulator (reductions) or of a contraction's result (epilogues). */
  | { readonly k: 'acc'; readonly name: string }
  /** The value of a loop kernel's binding (LoopKernel.lets) at the current point. */
  | { readonly k: 'let'; readonly name: string }
  /** A reduction of the point's own: `combine` of `value` over loop vars first..first+extents.length-1
   *  (row-major, combined as an Accumulator; argmax is the flat position of the first maximum, i32).
   *  A max-pool gradient routes each element through the argmax of a window that covers it. */
  | {
      readonly k: 'reduce';
      readonly combine: Combine;
      readonly first: number;
      readonly extents: readonly number[];
      readonly value: SExpr;
      readonly dtype: DType;
    };

/** How a reduction combines its values. max and min are Math.max / Math.min (NaN wins); first_max
 *  keeps the first maximal value in order, a later one replacing it only when strictly greater
 *  (max pooling's rule: NaN never replaces a value); argmax is the position of that first maximum. */
export type Combine = 'sum' | 'max' | 'min' | 'first_max' | 'argmax';

export interface Store {
  readonly buf: string;
  readonly at: IExpr;
  readonly value: SExpr;
  /** The store, its value included, happens only at the points where every bound holds (blocks of a
   *  space that overhang the buffer's shape); bindings never hold parts of such a value. */
  readonly guard?: readonly Bound[];
  /** 'sum': a scatter. The kernel starts `buf` at zero and adds the value at `at`, which may repeat
   *  across points (scatter_add); every store to `buf` in the kernel must then be a 'sum' store. */
  readonly combine?: 'sum';
}

/** An accumulator of a loop kernel. Accumulators run in order, each one full pass over the
 *  reduction space; a later one may read an earlier one (softmax: max, then sum of exp(x - max)). */
export interface Accumulator {
  readonly name: string;
  readonly combine: Combine;
  readonly value: SExpr;
  readonly dtype: DType;
}

/** A value computed once per point of a loop kernel and read by name ({ k: 'let', name }): a
 *  subexpression its stores repeat (compiler/lower/share.ts). It may read the accumulators and
 *  earlier bindings; it is evaluated before the point's stores, so it sees buffers as they were
 *  before them. */
export interface Binding {
  readonly name: string;
  readonly value: SExpr;
  readonly dtype: DType;
}

/** Elementwise, view, gather, iota, random and reduction work: for every point of `space`
 *  (vars 0..space.length-1), run the accumulators over `reduce` (vars space.length..), then the
 *  bindings in order, then the stores in order. */
export interface LoopKernel {
  readonly kind: 'loop';
  readonly name: string;
  readonly space: readonly number[];
  readonly reduce?: { readonly extents: readonly number[]; readonly accs: readonly Accumulator[] };
  readonly lets?: readonly Binding[];
  readonly stores: readonly Store[];
  /** A schedule hint, not a change of meaning: run one copy of the loops inside this space variable
   *  per value of it, the variable a constant (its guards fold: compiler/lower/specialize.ts). */
  readonly specialize?: number;
}

/** One side of a contraction: element (b..., r, c) of a [batch..., rows, cols] matrix is buf[at], or 0 where
 *  a guard bound fails. The row index splits into sub-coordinates of extents `rows` and the column index
 *  into sub-coordinates of extents `cols` (row-major: their products are the matrix's extents); `at` and
 *  the guards read vars (b..., r_0, r_1, ..., c_0, c_1, ...). A strided view has one of each
 *  (ir/contraction.ts `viewOperand`); a convolution's patches have rows [N, OH, OW] and cols [KH, KW, C]
 *  with the window's stride, dilation and padding in `at` and `guard` (implicit im2col, `windowOperand`). */
export interface Operand {
  readonly buf: string;
  readonly rows: readonly number[];
  readonly cols: readonly number[];
  readonly at: IExpr;
  readonly guard?: readonly Bound[];
}

/** C[b..., i, j] = epilogue(sum_p A[b..., i, p] * B[b..., p, j]) stored at out[((b...) * m + i) * n + j].
 *  The epilogue reads the sum as { k: 'acc', name: 'dot' } and loop vars 0..batch.length+1 as (b..., i, j).
 *  matmul, conv2d and both its gradients lower to it. */
export interface ContractionKernel {
  readonly kind: 'contraction';
  readonly name: string;
  readonly batch: readonly number[];
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly a: Operand;
  readonly b: Operand;
  readonly out: string;
  readonly epilogue?: SExpr;
}

export type Kernel = LoopKernel | ContractionKernel;

export interface EntryPoint {
  readonly name: string;
  /** graph input name -> buffer */
  readonly inputs: readonly { readonly name: string; readonly buf: string; readonly type: TensorType }[];
  /** graph output name -> buffer */
  readonly outputs: readonly { readonly name: string; readonly buf: string; readonly type: TensorType }[];
  readonly kernels: readonly Kernel[];
}

export interface MemoryPlan {
  readonly arenaBytes: number;
  /** buffer name -> byte offset in the arena (16-byte aligned). */
  readonly offsets: Readonly<Record<string, number>>;
}

/** A program before its memory plan (what the kernel passes rewrite). */
export type UnplannedProgram = Omit<Program, 'memory'>;

export interface Program {
  readonly name: string;
  readonly buffers: readonly BufferDecl[];
  /** param name -> buffer holding it (persistent across calls and entry points). */
  readonly params: readonly { readonly name: string; readonly buf: string; readonly type: TensorType }[];
  readonly entries: readonly EntryPoint[];
  readonly memory: MemoryPlan;
}
