// One fusion group -> one or more kernels: loop groups through LoopBuilder (split again if buffer
// aliasing refuses a merge), matmul groups with strided operands (transposes, broadcasts and slices
// are strides) and an epilogue, pooling and scatter_add groups as loop kernels (pool.ts), conv
// groups as templates with whole-buffer operands and an epilogue.
import { fail } from '../../ir/errors.ts';
import type { Node, Value } from '../../ir/graph.ts';
import type { Kernel, MatmulKernel, Operand, SExpr, TemplateKernel } from '../../ir/kernel.ts';
import { resolvePerm, resolveSlice } from '../../ir/ops/view.ts';
import { stridesOf } from '../../ir/types.ts';
import type { FusionGroup, Limits } from '../passes/fuse.ts';
import { computeAt, type ExprContext } from './expr.ts';
import { sameIExpr, vars } from '../../ir/iexpr.ts';
import { LoopBuilder } from './loop.ts';
import { LOOP_CORES } from './pool.ts';
import { share } from './share.ts';

export type BufOf = (v: Value) => string | undefined;

interface View {
  readonly buf: string;
  readonly offset: number;
  readonly strides: readonly number[];
}

/** `v` as strides over a buffer: transposes, broadcasts and slices over a reshape chain of a buffer. */
export function stridedView(v: Value, bufOf: BufOf): View {
  const buf = bufOf(v);
  if (buf !== undefined) return { buf, offset: 0, strides: stridesOf(v.type.shape) };
  if (v.kind !== 'node') fail('K5002', `lowering: %${v.name} has no buffer`);
  const x = v.inputs[0]!;
  switch (v.op) {
    case 'reshape': {
      const base = stridedView(x, bufOf);
      if (!sameIExprStrides(base.strides, stridesOf(x.type.shape))) break;
      return { buf: base.buf, offset: base.offset, strides: stridesOf(v.type.shape) };
    }
    case 'transpose': {
      const s = stridedView(x, bufOf);
      const perm = resolvePerm(x.type.shape, v.attrs.perm as readonly number[]);
      return { ...s, strides: perm.map((p) => s.strides[p]!) };
    }
    case 'broadcast_to': {
      const s = stridedView(x, bufOf);
      const lead = v.type.shape.length - x.type.shape.length;
      return { ...s, strides: v.type.shape.map((d, i) => (i < lead || (x.type.shape[i - lead] === 1 && d !== 1) ? 0 : s.strides[i - lead]!)) };
    }
    case 'slice': {
      const s = stridedView(x, bufOf);
      const axes = resolveSlice(x.type.shape, v.attrs);
      return { buf: s.buf, offset: s.offset + axes.reduce((o, a, i) => o + a.start * s.strides[i]!, 0), strides: axes.map((a, i) => a.step * s.strides[i]!) };
    }
  }
  return fail('K5002', `lowering: ${v.op} ${JSON.stringify(v.type.shape)} is not a strided view of a buffer; fuse should have materialized it`);
}

const sameIExprStrides = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** The epilogue of a core's group: the root computed with the core's result as { acc: name }. */
function epilogue(root: Node, core: Node, accName: string, bufOf: BufOf): SExpr | undefined {
  if (root === core) return undefined;
  const own = vars(core.type.shape.length);
  const ctx: ExprContext = {
    bufOf: (v) => (v === core ? undefined : bufOf(v)),
    extents: core.type.shape,
    acc: (v, idx) => {
      if (v !== core) return undefined;
      if (!idx.every((e, i) => sameIExpr(e, own[i]!))) fail('K5002', `lowering: ${root.op} reads ${core.op} at another point than its own`);
      return { k: 'acc', name: accName };
    },
  };
  return computeAt(root, own, ctx);
}

function matmulKernel(name: string, root: Node, core: Node, out: string, bufOf: BufOf): MatmulKernel {
  const [a, b] = core.inputs as [Value, Value];
  const shape = core.type.shape;
  const nb = shape.length - 2;
  const batch = shape.slice(0, nb);
  const ta = core.attrs.transpose_a === true, tb = core.attrs.transpose_b === true;
  const operand = (x: Value, swap: boolean): Operand => {
    const s = stridedView(x, bufOf);
    const r = x.type.shape.length;
    const lead = nb - (r - 2);
    const bs = batch.map((d, i) => (i < lead || (x.type.shape[i - lead] === 1 && d !== 1) ? 0 : s.strides[i - lead]!));
    const [s0, s1] = [s.strides[r - 2]!, s.strides[r - 1]!];
    return { buf: s.buf, offset: s.offset, strides: [...bs, ...(swap ? [s1, s0] : [s0, s1])] };
  };
  const kdim = ta ? a.type.shape[a.type.shape.length - 2]! : a.type.shape[a.type.shape.length - 1]!;
  const epi = epilogue(root, core, 'dot', bufOf);
  const k: MatmulKernel = { kind: 'matmul', name, batch, m: shape[nb]!, n: shape[nb + 1]!, k: kdim, a: operand(a, ta), b: operand(b, tb), out };
  return epi ? { ...k, epilogue: epi } : k;
}

function templateKernel(name: string, root: Node, core: Node, out: string, bufOf: BufOf): TemplateKernel {
  const inputs = core.inputs.map((x) => {
    const s = stridedView(x, bufOf);
    if (s.offset !== 0 || !sameIExprStrides(s.strides, stridesOf(x.type.shape))) fail('K5002', `lowering: ${core.op} operand is not a whole buffer`);
    return s.buf;
  });
  const epi = epilogue(root, core, 'out', bufOf);
  const k: TemplateKernel = { kind: 'template', name, op: core.op, attrs: core.attrs, inputs, inputTypes: core.inputs.map((x) => x.type), out, outType: core.type };
  return epi ? { ...k, epilogue: epi } : k;
}

/** The kernels of one group (a loop group splits where buffer aliasing refuses a merge). */
export function lowerGroup(group: FusionGroup, bufOf: BufOf, limits: Limits, nameOf: () => string): Kernel[] {
  const root = group.roots[0]!;
  if (group.core && LOOP_CORES[group.core.op]) {
    const c = { core: group.core, out: bufOf(root)!, bufOf, epilogue: epilogue(root, group.core, 'out', bufOf), maxStores: limits.maxStores, nameOf };
    return LOOP_CORES[group.core.op]!(c).map((k) => (k.kind === 'loop' ? share(k) : k));
  }
  if (group.core) {
    const out = bufOf(root)!;
    return [group.kind === 'matmul' ? matmulKernel(nameOf(), root, group.core, out, bufOf) : templateKernel(nameOf(), root, group.core, out, bufOf)];
  }
  const kernels: Kernel[] = [];
  let b = new LoopBuilder(root, bufOf, limits);
  for (const r of group.roots) {
    if (b.tryAdd(r)) continue;
    kernels.push(b.build(nameOf()));
    b = new LoopBuilder(r, bufOf, limits);
    if (!b.tryAdd(r)) fail('K5002', `lowering: ${r.op} does not fit a kernel of its own`);
  }
  kernels.push(b.build(nameOf()));
  return kernels.map((k) => (k.kind === 'loop' ? share(k) : k));
}
