// What an op is: one registry entry holds its attributes, shape/dtype inference, reference
// evaluation, VJP rule and (for elementwise ops) its scalar function.
import type { Attrs, AttrValue, Node, Value } from '../graph.ts';
import type { Tensor, TensorType } from '../types.ts';

export type AttrKind = 'int' | 'ints' | 'float' | 'floats' | 'bool' | 'string' | 'dtype';

export interface AttrSpec {
  readonly kind: AttrKind;
  /** Filled in when the attribute is not given; an attribute without a default is required. */
  readonly default?: AttrValue;
  /** For string attributes: the accepted values. */
  readonly oneOf?: readonly string[];
}

/** The op's class. Lowering and fusion look at the kind, never at a per-op switch. */
export type OpKind =
  | 'elementwise' // same-shape (after numpy broadcasting) scalar function of its inputs
  | 'reduce' // reduces a set of axes
  | 'view' // moves or repeats elements without arithmetic (reshape, transpose, broadcast, slice, pad, concat)
  | 'contraction' // matmul
  | 'conv' // conv2d and its gradient forms
  | 'pool' // pooling and its gradients
  | 'index' // gather, scatter_add, one_hot
  | 'source' // no data inputs: constant, iota
  | 'random'; // counter-based random streams

export interface EvalContext {
  /** Evaluate f32 values in float64 (for finite-difference checks). */
  readonly float64: boolean;
}

/** Adds a node to the graph being built (type inferred, attributes defaulted). */
export type Emit = (op: string, inputs: readonly Value[], attrs?: Attrs) => Node;

export interface VjpArgs {
  readonly emit: Emit;
  /** The forward node's inputs. */
  readonly inputs: readonly Value[];
  /** The forward node itself (its result, for rules such as exp's that reuse it). */
  readonly out: Node;
  /** The cotangent of `out`, same type as `out`. */
  readonly g: Value;
  readonly attrs: Attrs;
}

/** One cotangent per input, each of the input's type; null where the input gets no gradient. */
export type VjpRule = (a: VjpArgs) => readonly (Value | null)[];

export interface OpDef {
  readonly kind: OpKind;
  /** Number of inputs, or 'variadic' (concat). */
  readonly arity: number | 'variadic';
  readonly attrs: Readonly<Record<string, AttrSpec>>;
  /** Result type from input types and (defaulted) attributes; throws KilnError K1001/K1002/K1003/K1006
   *  whose detail starts with the op name and quotes the shapes involved. */
  readonly infer: (inputs: readonly TensorType[], attrs: Attrs) => TensorType;
  /** Reference semantics on typed arrays: simple and obviously right. `out` is the inferred type. */
  readonly eval: (inputs: readonly Tensor[], attrs: Attrs, out: TensorType, ctx: EvalContext) => Tensor;
  /** Reverse-mode rule written with other ops, or 'none' for ops without a gradient (integer results, comparisons, sources). */
  readonly vjp: VjpRule | 'none';
  /** Elementwise ops only: the scalar function (the interpreter and constant folding use it; kernels render it). */
  readonly scalar?: (...args: number[]) => number;
  /** Elementwise ops only: what one evaluation costs in simple ops (add, mul, select: 1, the default),
   *  which fusion weighs when it recomputes a value rather than storing it. */
  readonly cost?: number;
  /** One line for `kiln ops`. */
  readonly doc: string;
}
