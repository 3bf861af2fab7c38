// A Kernel IR pass: a loop kernel with a long reduction and few outputs (a bias gradient summed over
// batch x pixels) splits in two. The first kernel gives every output S partial folds, each over one
// contiguous slice of L = R / S reduction positions, into a scratch buffer (slices outermost); the second folds each
// output's S partials in order and runs the original kernel's bindings and stores. A target then
// spreads the first kernel over S times as many points (workgroups on WGSL), where one fold per
// output would leave most of the device idle. Both folds run in a fixed order, so every run gives
// the same bits; the sum's order differs from one pass's, within f32 rounding.
import type { BufferDecl, IExpr, Kernel, LoopKernel, SExpr, UnplannedProgram } from '../../ir/kernel.ts';
import { countNodes, mapSExpr, namesRead, sexprDtype } from '../../ir/kernel-walk.ts';
import { delinearize, foldIExprNode, iadd, ic, imul, iv, linearize } from '../../ir/iexpr.ts';
import type { DType } from '../../ir/types.ts';
import type { KernelOrigin } from './program.ts';

/** Split a reduction at least this long... */
export const SPLIT_MIN_LENGTH = 4096;
/** ...into slices of about this many positions (each partial's fold)... */
const SLICE = 512;
/** ...when the kernel has at most this many outputs. */
export const SPLIT_MAX_OUTPUTS = 256;

const prod = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);

/** The slice length L for reduction extents `red`: a suffix product of them near SLICE (its
 *  coordinates then fold to plain variables), else a divisor of their product; undefined if none fits. */
export function sliceLength(red: readonly number[]): number | undefined {
  const R = prod(red);
  const fits = (L: number): boolean => L >= SLICE / 8 && L <= SLICE * 8 && R / L >= 2;
  for (let d = red.length - 1, L = 1; d >= 0; d--) if (fits((L *= red[d]!))) return L;
  for (let L = SLICE * 2; L >= SLICE / 8; L--) if (R % L === 0 && fits(L)) return L;
  return undefined;
}

/** Whether `k` splits: f32 sum/max/min accumulators that read no other accumulator and hold no inner
 *  reduction, plain stores, a long reduction and few outputs. */
function splits(k: LoopKernel, dtypeOf: (buf: string) => DType): number | undefined {
  if (!k.reduce || prod(k.space) > SPLIT_MAX_OUTPUTS || prod(k.reduce.extents) < SPLIT_MIN_LENGTH) return undefined;
  if (k.stores.some((s) => s.combine)) return undefined;
  for (const a of k.reduce.accs) {
    if (!['sum', 'max', 'min'].includes(a.combine) || namesRead(a.value, 'acc').length) return undefined;
    if (countNodes(a.value, (e) => e.k === 'reduce') || sexprDtype(a.value, dtypeOf, () => 'f32') !== 'f32')
      return undefined;
  }
  return sliceLength(k.reduce.extents);
}

/** `k` as its partials kernel and its combining kernel, with the scratch buffer between them. */
export function splitReduction(k: LoopKernel, L: number): { kernels: [LoopKernel, LoopKernel]; scratch: BufferDecl } {
  const { space, reduce } = k;
  const red = reduce!.extents;
  const n = space.length,
    A = reduce!.accs.length,
    S = prod(red) / L,
    P = prod(space);
  const scratch: BufferDecl = { name: `${k.name}_partials`, dtype: 'f32', size: A * P * S, role: 'temp' };
  // the first kernel's vars: s (the slice), then the space's, then l (the position in it): the space's
  // innermost var stays innermost, so its loads stay contiguous (a bias gradient's channels) and its
  // partials, at (a S + s) P + point, are stored side by side
  const ext = [S, ...space, L];
  const sv = iv(0),
    lv = iv(n + 1);
  // the original reduction coordinates: from s and l apart where L is a suffix of the extents, else from s L + l
  const d = red.findIndex((_, i) => prod(red.slice(i)) === L);
  const at =
    d > 0
      ? [...delinearize(sv, red.slice(0, d), ext), ...delinearize(lv, red.slice(d), ext)]
      : delinearize(iadd(imul(sv, ic(L)), lv), red, ext);
  const moved = (e: SExpr): SExpr =>
    mapSExpr(e, {
      iexpr: (x: IExpr) => (x.k !== 'var' ? foldIExprNode(x) : x.i < n ? iv(x.i + 1) : at[x.i - n]!),
    });
  const point = (first: number): IExpr =>
    linearize(
      Array.from({ length: n }, (_, i) => iv(first + i)),
      space,
    );
  const slot = (a: number, s: IExpr, first: number): IExpr =>
    iadd(imul(iadd(imul(ic(a), ic(S)), s), ic(P)), point(first));
  const partials: LoopKernel = {
    kind: 'loop',
    name: `${k.name}_part`,
    space: [S, ...space],
    reduce: { extents: [L], accs: reduce!.accs.map((a) => ({ ...a, value: moved(a.value), dtype: 'f32' })) },
    stores: reduce!.accs.map((a, i) => ({ buf: scratch.name, at: slot(i, sv, 1), value: { k: 'acc', name: a.name } })),
    ...(k.specialize !== undefined ? { specialize: k.specialize + 1 } : {}),
  };
  const combined: LoopKernel = {
    ...k,
    reduce: {
      extents: [S],
      accs: reduce!.accs.map((a, i) => ({ ...a, value: { k: 'load', buf: scratch.name, at: slot(i, iv(n), 0) } })),
    },
  };
  return { kernels: [partials, combined], scratch };
}

/** Every long, narrow reduction of the program split in two (the origin of a split kernel is its
 *  partials kernel's too). */
export function splitReductions(
  p: UnplannedProgram,
  opts: { readonly origins?: Map<string, KernelOrigin> } = {},
): UnplannedProgram {
  const dtypes = new Map(p.buffers.map((b) => [b.name, b.dtype]));
  const scratch: BufferDecl[] = [];
  const rewrite = (k: Kernel): Kernel[] => {
    const L = k.kind === 'loop' ? splits(k, (b) => dtypes.get(b) ?? 'f32') : undefined;
    if (k.kind !== 'loop' || L === undefined) return [k];
    const r = splitReduction(k, L);
    scratch.push(r.scratch);
    const o = opts.origins?.get(k.name);
    if (o) opts.origins!.set(r.kernels[0].name, o);
    return r.kernels;
  };
  const entries = p.entries.map((e) => ({ ...e, kernels: e.kernels.flatMap(rewrite) }));
  return scratch.length ? { ...p, buffers: [...p.buffers, ...scratch], entries } : p;
}
