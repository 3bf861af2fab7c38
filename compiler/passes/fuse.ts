// Fusion: which values are materialized (written to a buffer), and which kernels compute them.
// - contractions (matmul, conv2d and its gradients), pooling and scatter_add are cores; the chain of
//   single-use elementwise ops after a core becomes its epilogue (bias add + activation);
// - reductions root loop kernels; their elementwise producers are inlined (the prologue);
// - elementwise and view ops are inlined into their consumers, recomputed when they are cheap and
//   materialized when their inlined expression grows past the limits;
// - roots over the same iteration space share one kernel (reductions with the same axes run as a
//   sequence of accumulators; an optimizer's update of a param and its slots is one kernel);
// - a concat of computed pieces used by nothing else is stored piecewise by the kernel computing
//   them (an LSTM cell's gate cotangents go straight into the buffer the recurrent matmul reads).
import type { Graph, Node, Value } from '../../ir/graph.ts';
import { usersOf } from '../../ir/graph.ts';
import { opDef } from '../../ir/builder.ts';
import { sameShape } from '../../ir/types.ts';
import { formatType } from '../../ir/types.ts';
import { DEFAULT_LIMITS, type Limits } from '../../ir/target.ts';
import { concatPieceShape, isReduce, LoopBuilder } from '../lower/loop.ts';

export type { Limits };

export { DEFAULT_LIMITS };

export interface FusionGroup {
  readonly kind: 'loop' | 'contraction';
  /** Values this kernel stores, in order. */
  readonly roots: readonly Node[];
  /** Contraction, pooling and scatter groups: the op whose result the epilogue (the path to roots[0]) reads. */
  readonly core?: Node;
}

export interface Fusion {
  readonly graph: Graph;
  /** Nodes written to buffers (graph inputs and params always are). */
  readonly materialized: ReadonlySet<Node>;
  readonly groups: readonly FusionGroup[];
}

export function isCore(n: Node): boolean {
  const k = opDef(n.op).kind;
  return k === 'contraction' || k === 'conv' || k === 'pool' || n.op === 'scatter_add';
}

/** matmul, conv2d and its gradients: cores lowered to contraction kernels. */
const isContraction = (n: Node): boolean => ['contraction', 'conv'].includes(opDef(n.op).kind);

/** A constant with one value per element: a buffer written once at load, read like a param. */
export function isTable(n: Node): boolean {
  return n.op === 'constant' && (n.attrs.value as readonly number[]).length > 1;
}

const isElementwise = (n: Node): boolean => opDef(n.op).kind === 'elementwise';
const isView = (n: Node): boolean => opDef(n.op).kind === 'view';

/** The single-use, same-shape elementwise chain after a core, the core first: its epilogue, whose
 *  last node is the group's root. A chain stops before a node an earlier core's chain holds (LSTM
 *  gates: matmul(x, W) + matmul(h, U) is the first matmul's epilogue, reading the second's buffer);
 *  `claimed` gains this chain. */
function epilogueChain(core: Node, users: Map<Value, Node[]>, pinned: ReadonlySet<Value>, claimed: Set<Node>): Node[] {
  const chain = [core];
  for (let cur = core; ; chain.push(cur)) {
    claimed.add(cur);
    const us = users.get(cur) ?? [];
    const u = us[0];
    if (
      pinned.has(cur) ||
      !u ||
      us.some((x) => x !== u) ||
      !isElementwise(u) ||
      !sameShape(u.type.shape, core.type.shape)
    )
      return chain;
    if (!sameShape(cur.type.shape, u.type.shape) || claimed.has(u)) return chain;
    // u also reads a later core (a sum of matmuls, as a recurrent kernel's gradient over its steps):
    // u goes to that core's chain, so each product adds the sum so far in its epilogue
    if (u.inputs.some((x) => x !== cur && x.kind === 'node' && isCore(x) && !claimed.has(x))) return chain;
    cur = u;
  }
}

/** `v` reached through views of the given ops only, down to a materialized value. */
function viewsOf(v: Value, ops: readonly string[], mat: ReadonlySet<Value>): Value {
  let cur = v;
  while (cur.kind === 'node' && !mat.has(cur) && ops.includes(cur.op)) cur = cur.inputs[0]!;
  return cur;
}

const STRIDED = ['transpose', 'broadcast_to', 'slice'];
const INDEXED = ['reshape', 'transpose', 'broadcast_to', 'slice'];

/** True when `v` is a strided view (matmul operand): transposes, broadcasts and slices over a
 *  reshape chain of a materialized value. */
function strided(v: Value, mat: ReadonlySet<Value>): boolean {
  const base = viewsOf(viewsOf(v, STRIDED, mat), ['reshape'], mat);
  return base.kind !== 'node' || mat.has(base);
}

/** A concat whose pieces are computed values of one shape read by nothing else (an LSTM cell's
 *  four gate cotangents): it is materialized, and the kernel computing the pieces stores them
 *  straight into it (`LoopBuilder.addConcat`) instead of each piece to a buffer of its own and a
 *  copy kernel joining them with guarded loads. */
function piecewise(n: Node, users: Map<Value, Node[]>, mat: ReadonlySet<Value>, limits: Limits): boolean {
  if (!concatPieceShape(n, limits.maxStores)) return false;
  return n.inputs.every(
    (x) => x.kind === 'node' && !mat.has(x) && isElementwise(x) && users.get(x)!.every((u) => u === n),
  );
}

/** A value's inlined expression: its elementwise ops (`nodes`, bounded by maxExprNodes) and what
 *  evaluating them costs (`cost`, each op its registry cost: weighed against recomputeNodes). */
interface Expr {
  readonly nodes: number;
  readonly cost: number;
}

const NO_EXPR: Expr = { nodes: 0, cost: 0 };
const ownExpr = (n: Node): Expr => (isElementwise(n) ? { nodes: 1, cost: opDef(n.op).cost ?? 1 } : NO_EXPR);
const addExpr = (a: Expr, b: Expr): Expr => ({ nodes: a.nodes + b.nodes, cost: a.cost + b.cost });

/** True when a reduction over `n`'s shape reads it (through inlined values): `n` is in the
 *  reduction's prologue (softmax's p, read by cross-entropy's sum of log p; binary cross-entropy's
 *  e^-|x|, read by its mean). Storing it would not spare that kernel its recompute but would add a
 *  kernel before it: such a value is recomputed whatever it costs (up to maxExprNodes). */
function feedsReduction(n: Node, users: Map<Value, Node[]>, mat: ReadonlySet<Value>): boolean {
  const seen = new Set<Node>();
  const reads = (u: Node): boolean => {
    if (seen.has(u)) return false;
    seen.add(u);
    if (isReduce(u)) return sameShape(u.inputs[0]!.type.shape, n.type.shape);
    return !mat.has(u) && (users.get(u) ?? []).some(reads);
  };
  return (users.get(n) ?? []).some(reads);
}

function decideMaterialized(g: Graph, limits: Limits): { mat: Set<Value>; coreOf: Map<Node, Node> } {
  const users = usersOf(g);
  const pinned = new Set<Value>([...g.outputs.map((o) => o.value), ...g.assigns.map((a) => a.value)]);
  const mat = new Set<Value>([...g.inputs, ...g.params, ...pinned]);
  const chains: Node[][] = [];
  const claimed = new Set<Node>();
  for (const n of g.nodes) {
    if (isReduce(n)) mat.add(n);
    if (isTable(n)) mat.add(n);
    if (isCore(n)) {
      const chain = epilogueChain(n, users, pinned, claimed);
      mat.add(chain[chain.length - 1]!);
      chains.push(chain);
    }
  }
  const need = (v: Value): boolean => v.kind === 'node' && !mat.has(v) && (mat.add(v), true);
  for (let changed = true; changed; ) {
    changed = false;
    const expr = new Map<Value, Expr>();
    for (const n of g.nodes) {
      if (isCore(n)) {
        // matmul operands are strided views; template operands whole buffers (a reshape is free)
        for (const x of n.inputs) {
          const base = viewsOf(x, ['reshape'], mat);
          if (n.op === 'matmul' ? !strided(x, mat) : base.kind === 'node' && !mat.has(base))
            changed = need(n.op === 'matmul' ? x : base) || changed;
        }
      }
      if (piecewise(n, users, mat, limits)) changed = need(n) || changed;
      else if (n.op === 'pad' || n.op === 'concat') {
        for (const x of n.inputs) {
          const base = viewsOf(x, INDEXED, mat);
          if (base.kind === 'node' && !mat.has(base)) changed = need(base) || changed;
        }
      }
      if (n.op === 'gather') changed = need(n.inputs[1]!) || changed;
      const e = isCore(n)
        ? NO_EXPR
        : n.inputs.reduce((s, x) => addExpr(s, mat.has(x) ? NO_EXPR : (expr.get(x) ?? NO_EXPR)), ownExpr(n));
      const shared =
        (users.get(n)?.length ?? 0) > 1 && e.cost > limits.recomputeNodes && !feedsReduction(n, users, mat);
      if (!mat.has(n) && (isElementwise(n) || isView(n)) && (e.nodes > limits.maxExprNodes || shared))
        changed = need(n) || changed;
      expr.set(n, mat.has(n) ? NO_EXPR : e);
    }
  }
  // an epilogue ends at its first value the limits materialized (a long activation chain); the
  // rest of its chain becomes a loop kernel reading it
  const coreOf = new Map<Node, Node>(chains.map((ch) => [ch.slice(1).find((x) => mat.has(x)) ?? ch[0]!, ch[0]!]));
  return { mat, coreOf };
}

/** True when computing `n` reads one of `roots` (through the values inlined into it). */
function reads(n: Node, roots: ReadonlySet<Value>, mat: ReadonlySet<Value>): boolean {
  const seen = new Set<Value>();
  const walk = (v: Value): boolean => {
    if (roots.has(v)) return true;
    if (v.kind !== 'node' || seen.has(v) || (v !== n && mat.has(v))) return false;
    seen.add(v);
    return v.inputs.some(walk);
  };
  return n.inputs.some(walk);
}

/** The dry-run buffer names used while grouping: one per materialized value. */
export function valueNames(g: Graph, mat: ReadonlySet<Value>): (v: Value) => string | undefined {
  const ids = new Map<Value, number>(g.nodes.map((n, i) => [n, i]));
  return (v) => (v.kind !== 'node' ? v.name : mat.has(v) ? `%${ids.get(v)}` : undefined);
}

/** How many closed kernels back a root may join (fuse). */
const JOIN_LOOKBACK = 4;

export function fuse(g: Graph, limits: Limits = DEFAULT_LIMITS): Fusion {
  const { mat, coreOf } = decideMaterialized(g, limits);
  const bufOf = valueNames(g, mat);
  const groups: FusionGroup[] = [];
  let open: LoopBuilder | undefined;
  // roots independent of the open kernel that do not fit it run just before it, so it stays open
  // for its siblings (Adam's slot updates around a scalar bias correction)
  let hoisted: LoopBuilder[] = [];
  const builders = new Map<FusionGroup, LoopBuilder>();
  const push = (b: LoopBuilder): void => {
    const grp: FusionGroup = { kind: 'loop', roots: b.roots };
    builders.set(grp, b);
    groups.push(grp);
  };
  const close = (): void => {
    hoisted.forEach(push);
    if (open) push(open);
    open = undefined;
    hoisted = [];
  };
  // a root that fits neither may join one of the last closed loop kernels when it reads nothing
  // stored after that kernel (accuracy's argmax joins cross-entropy's reductions of the logits)
  const joinEarlier = (n: Node): boolean => {
    const later = new Set<Value>([...(open?.roots ?? []), ...hoisted.flatMap((h) => h.roots)]);
    for (let i = groups.length - 1; i >= Math.max(0, groups.length - JOIN_LOOKBACK); i--) {
      if (reads(n, later, mat)) return false;
      const grp = groups[i]!;
      if (builders.get(grp)?.tryAdd(n)) return true;
      grp.roots.forEach((r) => later.add(r));
    }
    return false;
  };
  const start = (n: Node): LoopBuilder => {
    const b = new LoopBuilder(n, bufOf, limits);
    if (!b.tryAdd(n)) throw new Error(`fuse: ${n.op} ${formatType(n.type)} does not fit a kernel of its own`);
    return b;
  };
  for (const n of g.nodes) {
    if (!mat.has(n) || isTable(n)) continue; // tables are written at load, by no kernel
    const core = coreOf.get(n);
    if (core) {
      close();
      groups.push({ kind: isContraction(core) ? 'contraction' : 'loop', roots: [n], core });
      continue;
    }
    if (open?.tryAdd(n)) continue;
    if (open && !reads(n, new Set(open.roots), mat)) {
      if (!hoisted[hoisted.length - 1]?.tryAdd(n) && !joinEarlier(n)) hoisted.push(start(n));
      continue;
    }
    close();
    open = start(n);
  }
  close();
  return { graph: g, materialized: new Set([...mat].filter((v): v is Node => v.kind === 'node')), groups };
}

/** The nodes a group computes: its roots, its core and everything they inline (not what other groups store). */
export function groupNodes(f: Fusion, grp: Fusion['groups'][number]): Set<Node> {
  const inner = new Set<Node>();
  const walk = (v: Value): void => {
    if (v.kind !== 'node' || inner.has(v)) return;
    if (f.materialized.has(v) && !grp.roots.includes(v) && v !== grp.core) return;
    inner.add(v);
    v.inputs.forEach(walk);
  };
  grp.roots.forEach(walk);
  if (grp.core) walk(grp.core);
  return inner;
}

/** The fused stage as text: one line per kernel with the values it stores and the ops it inlines. */
export function printFusion(f: Fusion): string {
  const ids = new Map<Value, number>(f.graph.nodes.map((n, i) => [n, i]));
  const name = (v: Value): string => (v.kind === 'node' ? `%${ids.get(v)}` : `%${v.name}`);
  const lines = f.groups.map((grp, i) => {
    const inner = groupNodes(f, grp);
    const ops = f.graph.nodes.filter((n) => inner.has(n)).map((n) => `${name(n)}=${n.op}`);
    const head = grp.core ? `${grp.kind}(${grp.core.op})` : grp.kind;
    return `kernel ${i} ${head} -> ${grp.roots.map((r) => `${name(r)}: ${formatType(r.type)}`).join(', ')}\n    ${ops.join(' ')}`;
  });
  return `fused @${f.graph.name}: ${f.groups.length} kernels for ${f.graph.nodes.length} ops\n${lines.join('\n')}\n`;
}
