// The WGSL target: Kernel IR -> one WGSL compute shader per kernel, over the memory plan's arena
// laid out in a few storage buffers (layout.ts). What it renders is what runtime/webgpu.ts runs:
// per entry point, its kernels in order, each with its code, its dispatch size and the arena
// chunks it binds (binding i = chunks[i]).
import type { Kernel, Program } from '../../ir/kernel.ts';
import { contraction, renderContraction } from './contraction.ts';
import { OP_CODE, Scope } from './expr.ts';
import type { OpDef } from '../../ir/ops/def.ts';
import { OPS, type OpName } from '../../ir/ops/index.ts';
import { DEFAULT_LIMITS, type Target } from '../../ir/target.ts';
import { DEFAULT_MAX_BINDING, layoutArena, type ArenaLayout } from './layout.ts';
import { renderLoop } from './loop.ts';

export { layoutArena, type ArenaLayout };

export interface WgslKernel {
  readonly name: string;
  readonly code: string;
  /** Workgroups along x, y, z (each at most 65,535). */
  readonly dispatch: readonly [number, number, number];
  /** The arena chunk of each binding, in binding order. */
  readonly chunks: readonly number[];
}

export interface WgslProgram {
  readonly layout: ArenaLayout;
  readonly entries: readonly { readonly name: string; readonly kernels: readonly WgslKernel[] }[];
}

export interface WgslOptions {
  /** The device's maxStorageBufferBindingSize (default: WebGPU's guaranteed 128 MiB). */
  readonly maxBinding?: number;
}

function renderKernel(k: Kernel, p: Program, layout: ArenaLayout): WgslKernel {
  const s = new Scope(k.name, new Map(p.buffers.map((b) => [b.name, b])), new Map(Object.entries(layout.places)));
  switch (k.kind) {
    case 'loop':
      return renderLoop(k, s);
    case 'contraction':
      return renderContraction(contraction(k), s);
  }
}

/** Renders every entry point's kernels. */
export function renderWgsl(p: Program, opts: WgslOptions = {}): WgslProgram {
  const layout = layoutArena(p, opts.maxBinding ?? DEFAULT_MAX_BINDING);
  return {
    layout,
    entries: p.entries.map((e) => ({ name: e.name, kernels: e.kernels.map((k) => renderKernel(k, p, layout)) })),
  };
}

/** The ops with a WGSL rendering (`kiln ops`): elementwise ops with a WGSL expression, every other
 *  op through loop and contraction kernels. */
export function supportedOps(): Set<OpName> {
  return new Set(
    Object.entries(OPS as Record<string, OpDef>)
      .filter(([op, d]) => d.kind !== 'elementwise' || op in OP_CODE)
      .map(([op]) => op as OpName),
  );
}

/** The WGSL target: the default limits (layout.ts splits the arena into bindings), the ops it
 *  renders, its renderer. */
export const wgslTarget: Target<WgslProgram> = {
  name: 'wgsl',
  limits: DEFAULT_LIMITS,
  supports: supportedOps(),
  render: async (p) => renderWgsl(p),
};
