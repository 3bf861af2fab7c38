// What a layer is: a function of one tensor that carries a stable name. Layers are made once (at
// module load, with Keras-style names `dense_1`), and create their params in the trace they run in
// (`<layer>/kernel`), so the same layer object serves every trace of a model (train and infer).
import { KilnError, fail, type Loc } from '../../../ir/errors.ts';
import type { Param } from '../../../ir/graph.ts';
import { formatType, type DType, type Shape } from '../../../ir/types.ts';
import { currentTrace, type TraceContext } from '../context.ts';
import { resolveInitializer, type InitializerLike } from '../initializers.ts';
import { callerLoc } from '../loc.ts';
import type { Regularizer } from '../regularizers.ts';
import { Tensor } from '../tensor.ts';

export interface Layer {
  /** Applies the layer; a record of one tensor (a model's inputs) stands for that tensor. */
  (x: Tensor | Readonly<Record<string, Tensor>>): Tensor;
  /** The layer's name, the prefix of its params (`dense_1` -> `dense_1/kernel`). */
  readonly name: string;
  /** The layer type (`dense`, `lstm`, `sequential`). */
  readonly kind: string;
  /** Where the user made it. */
  readonly createdAt: Loc | undefined;
  /** The layers inside (sequential). */
  readonly layers: readonly Layer[];
  /** Whether a param (by full name) belongs to this layer or a layer inside it. */
  owns(paramName: string): boolean;
}

export interface LayerOptions {
  /** An explicit name instead of `<kind>_<n>`. */
  readonly name?: string;
  /** false freezes the layer (and the layers inside it): its params get no gradient and no update. */
  readonly trainable?: boolean;
}

/** What a layer's body gets: the trace, and helpers that name params after the layer. */
export interface LayerScope {
  readonly ctx: TraceContext;
  readonly name: string;
  readonly training: boolean;
  /** The param `<layer>/<name>`, created on first use. */
  param(name: string, shape: Shape, init: InitializerLike, opts?: { dtype?: DType; trainable?: boolean }): Param;
  /** `param` as a tensor, with its regularization penalty recorded in training. */
  weight(name: string, shape: Shape, init: InitializerLike, reg?: Regularizer): Tensor;
  /** Throws K2001 naming the layer unless `x` has rank `rank`; `layout` says what the axes are. */
  requireRank(x: Tensor, rank: number, layout: string, hint: string): void;
}

export type LayerBody = (x: Tensor, s: LayerScope) => Tensor;

const counters = new Map<string, number>();

/** Keras-style names per layer type: dense_1, dense_2, conv2d_1, ... counted per source file, so a
 *  model file's param names (and default seeds) do not depend on what else the process loaded. */
export function uniqueName(kind: string, file = ''): string {
  const key = `${file}\0${kind}`;
  const n = (counters.get(key) ?? 0) + 1;
  counters.set(key, n);
  return `${kind}_${n}`;
}

function scopeFor(ctx: TraceContext, name: string): LayerScope {
  const s: LayerScope = {
    ctx,
    name,
    training: ctx.training,
    param: (p, shape, init, o = {}) =>
      ctx.param(`${name}/${p}`, shape, resolveInitializer(init)(shape, `${name}/${p}`), o),
    weight: (p, shape, init, reg) => {
      const w = new Tensor(s.param(p, shape, init));
      if (reg && ctx.training) ctx.penalties.push(reg(w).value);
      return w;
    },
    requireRank: (x, rank, layout, hint) => {
      if (x.rank !== rank)
        fail(
          'K2001',
          `${name}: input ${formatType(x.value.type)} has rank ${x.rank}, expected rank ${rank} ${layout}; ${hint}`,
          ctx.loc(),
        );
    },
  };
  return s;
}

/** Errors that already name their (innermost) layer. */
const LABELLED = new WeakSet<KilnError>();

/** Prefixes an error from inside a layer with the innermost layer's name. */
function labelled(e: unknown, name: string, loc: Loc | undefined): unknown {
  if (!(e instanceof KilnError) || LABELLED.has(e)) return e;
  const detail = e.detail.startsWith(`${name}:`) ? e.detail : `${name}: ${e.detail}`;
  const out = new KilnError(e.code, detail, e.loc ?? loc);
  LABELLED.add(out);
  return out;
}

function soleTensor(name: string, arg: unknown): Tensor {
  if (arg instanceof Tensor) return arg;
  const vs = typeof arg === 'object' && arg !== null ? Object.values(arg) : [];
  if (vs.length === 1 && vs[0] instanceof Tensor) return vs[0];
  return fail(
    'K2001',
    `${name}: expects one Tensor (or a record of exactly one), got ${vs.length > 1 ? `${vs.length} inputs` : typeof arg}; apply layers to tensors in a forward function`,
    callerLoc(),
  );
}

export function makeLayer(kind: string, opts: LayerOptions, body: LayerBody, layers: readonly Layer[] = []): Layer {
  const createdAt = callerLoc();
  const name = opts.name ?? uniqueName(kind, createdAt?.file);
  const apply = (arg: Tensor | Readonly<Record<string, Tensor>>): Tensor => {
    const ctx = currentTrace(name);
    const x = soleTensor(name, arg);
    ctx.claimLayer(name, apply);
    // Applied by the user's code: its line; applied by an enclosing layer: where the user made it.
    const loc = ctx.nested ? (createdAt ?? ctx.loc()) : (callerLoc() ?? createdAt);
    return ctx.within(loc, () => {
      try {
        return opts.trainable === false ? ctx.frozen(() => body(x, scopeFor(ctx, name))) : body(x, scopeFor(ctx, name));
      } catch (e) {
        throw labelled(e, name, loc);
      }
    });
  };
  const owns = (p: string): boolean => p.startsWith(`${name}/`) || layers.some((l) => l.owns(p));
  Object.defineProperty(apply, 'name', { value: name });
  return Object.assign(apply, { kind, createdAt, layers, owns }) as Layer;
}

export function isLayer(f: unknown): f is Layer {
  return typeof f === 'function' && 'owns' in f && 'kind' in f;
}

/** Layers applied in order; a sequential is a layer itself, so they nest. */
export function sequential(layers: readonly Layer[], opts: LayerOptions = {}): Layer {
  return makeLayer('sequential', opts, (x) => layers.reduce<Tensor>((h, l) => l(h), x), layers);
}
