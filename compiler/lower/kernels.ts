// One fusion group -> one or more kernels: loop groups through LoopBuilder (split again if buffer
// aliasing refuses a merge), contraction groups (matmul, conv2d and its gradients) through
// contraction.ts, pooling and scatter_add groups as loop kernels (pool.ts).
import { fail } from '../../ir/errors.ts';
import type { Kernel } from '../../ir/kernel.ts';
import type { FusionGroup, Limits } from '../passes/fuse.ts';
import { contractionKernel, epilogue, type BufOf } from './contraction.ts';
import { LoopBuilder } from './loop.ts';
import { LOOP_CORES } from './pool.ts';
import { share } from './share.ts';

export type { BufOf };

/** The kernels of one group (a loop group splits where buffer aliasing refuses a merge). */
export function lowerGroup(group: FusionGroup, bufOf: BufOf, limits: Limits, nameOf: () => string): Kernel[] {
  const root = group.roots[0]!;
  if (group.core && LOOP_CORES[group.core.op]) {
    const c = {
      core: group.core,
      out: bufOf(root)!,
      bufOf,
      epilogue: epilogue(root, group.core, 'out', bufOf),
      maxStores: limits.maxStores,
      nameOf,
    };
    return LOOP_CORES[group.core.op]!(c).map((k) => (k.kind === 'loop' ? share(k) : k));
  }
  if (group.core) return [contractionKernel(nameOf(), root, group.core, bufOf(root)!, bufOf)];
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
