// The trace in progress: the graph builder, training or inference mode, the params created so far,
// pending in-place state updates, regularization penalties, and the source locations of the layers
// being applied. Layers reach it through `currentTrace()`; tensor ops need no trace at all.
import { fail, type Loc } from '../../ir/errors.ts';
import type { GraphBuilder } from '../../ir/builder.ts';
import type { Init, Param, Value } from '../../ir/graph.ts';
import { formatType, sameShape, type DType, type Shape } from '../../ir/types.ts';
import { callerLoc } from './loc.ts';

export interface ParamOptions {
  readonly dtype?: DType;
  /** Updated by the optimizer (false for running statistics and RNG counters). */
  readonly trainable?: boolean;
}

export class TraceContext {
  readonly builder: GraphBuilder;
  readonly training: boolean;
  /** Params in creation order, with whether the optimizer may update them. */
  readonly params: { param: Param; trainable: boolean }[] = [];
  /** Regularization penalties (scalars) added to the loss in training. */
  readonly penalties: Value[] = [];
  private readonly byName = new Map<string, Param>();
  private readonly state = new Map<Param, Value>();
  private readonly locs: Loc[] = [];
  private readonly layers = new Map<string, unknown>();
  /** How many frozen layers (`trainable: false`) enclose the layer being applied. */
  private frozenDepth = 0;

  constructor(builder: GraphBuilder, training: boolean) {
    this.builder = builder;
    this.training = training;
  }

  /** The param `name`, created on first use; a later use must ask for the same shape. */
  param(name: string, shape: Shape, init: Init, opts: ParamOptions = {}): Param {
    const dtype = opts.dtype ?? 'f32';
    const old = this.byName.get(name);
    if (old) {
      if (!sameShape(old.type.shape, shape) || old.type.dtype !== dtype) {
        const layer = name.split('/')[0];
        fail(
          'K2001',
          `${layer}: param %${name} was built as ${formatType(old.type)} but this call needs ${dtype}[${shape.join(',')}]; a layer keeps the input size of its first call — create a new layer for a different input`,
          this.loc(),
        );
      }
      return old;
    }
    checkDims(`${name.split('/')[0]}: param %${name}`, shape, this.loc());
    const p = this.builder.param(name, dtype, shape, init, this.loc());
    this.byName.set(name, p);
    this.params.push({ param: p, trainable: (opts.trainable ?? true) && this.frozenDepth === 0 });
    return p;
  }

  /** Reserves a layer name for one layer object: two different layers may not share a name (and so params). */
  claimLayer(name: string, layer: unknown): void {
    const old = this.layers.get(name);
    if (old && old !== layer)
      fail(
        'K2002',
        `${name}: two different layers are named '${name}' in model @${this.builder.name} (automatic names are counted per source file); give one of them a name`,
        this.loc(),
      );
    this.layers.set(name, layer);
  }

  /** The current value of a state param: its pending update in this step, or the param itself. */
  read(p: Param): Value {
    return this.state.get(p) ?? p;
  }

  /** Records the value `p` takes after this step (a later write sees the earlier one through `read`). */
  write(p: Param, v: Value): void {
    this.state.set(p, v);
  }

  stateUpdates(): { param: Param; value: Value }[] {
    return [...this.state].map(([param, value]) => ({ param, value }));
  }

  /** Runs `f` inside a frozen layer: the params it creates are not trainable. */
  frozen<T>(f: () => T): T {
    this.frozenDepth++;
    try {
      return f();
    } finally {
      this.frozenDepth--;
    }
  }

  /** Runs `f` with `loc` as the location of every op it emits (a layer's body). */
  within<T>(loc: Loc | undefined, f: () => T): T {
    if (!loc) return f();
    this.locs.push(loc);
    try {
      return f();
    } finally {
      this.locs.pop();
    }
  }

  /** True while a layer body runs: nested layers then report their own construction site. */
  get nested(): boolean {
    return this.locs.length > 0;
  }

  loc(): Loc | undefined {
    return this.locs[this.locs.length - 1] ?? callerLoc();
  }
}

let active: TraceContext | undefined;

export function currentTrace(what: string): TraceContext {
  if (!active)
    fail(
      'K2002',
      `${what}: layers create params, so they run only while a model is traced; call it inside a model's forward (defineModel) and build with trace()`,
      callerLoc(),
    );
  return active;
}

export function withTrace<T>(ctx: TraceContext, f: () => T): T {
  if (active)
    fail(
      'K2002',
      `trace: model @${ctx.builder.name} is traced while @${active.builder.name} is being traced; trace models one at a time`,
    );
  active = ctx;
  try {
    return f();
  } finally {
    active = undefined;
  }
}

/** Where an op being emitted now comes from: the innermost layer's site, else the user's call site. */
export function opLoc(): Loc | undefined {
  return active ? active.loc() : callerLoc();
}

/** Every dimension a positive integer: K2002 naming `what`, the bad dimension and the user's line. */
export function checkDims(what: string, shape: unknown, loc: Loc | undefined): void {
  if (!Array.isArray(shape)) fail('K2002', `${what}: shape ${String(shape)} is not an array of dimensions`, loc);
  shape.forEach((d: unknown, i) => {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d <= 0) {
      const why =
        typeof d !== 'number'
          ? 'not a number'
          : !Number.isFinite(d)
            ? 'not finite'
            : !Number.isInteger(d)
              ? 'fractional'
              : d <= 0
                ? 'not positive'
                : 'too large';
      fail(
        'K2002',
        `${what}: dimension ${i} of [${shape.join(', ')}] is ${String(d)} (${why}); dimensions are positive integers`,
        loc,
      );
    }
  });
}
