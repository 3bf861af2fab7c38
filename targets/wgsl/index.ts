// The WGSL target: Kernel IR -> one WGSL compute shader per kernel, over the memory plan's arena
// laid out in a few storage buffers (layout.ts). What it renders is what runtime/webgpu.ts runs:
// per entry point, its kernels in order, each with its code, its dispatch size and the arena
// chunks it binds (binding i = chunks[i]).
import { fail } from '../../ir/errors.ts';
import type { Kernel, Program } from '../../ir/kernel.ts';
import { matmulContraction, renderContraction } from './contraction.ts';
import { OP_CODE, Scope } from './expr.ts';
import type { OpDef } from '../../ir/ops/def.ts';
import { OPS } from '../../ir/ops/index.ts';
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
    case 'loop': return renderLoop(k, s);
    case 'matmul': return renderContraction(matmulContraction(k), s);
    default: return fail('K6001', `wgsl: kernel ${k.name} is a '${k.kind}' kernel (op ${k.op}); the WGSL target renders loop and contraction kernels only`);
  }
}

/** Renders every entry point's kernels. */
export function renderWgsl(p: Program, opts: WgslOptions = {}): WgslProgram {
  const layout = layoutArena(p, opts.maxBinding ?? DEFAULT_MAX_BINDING);
  return { layout, entries: p.entries.map((e) => ({ name: e.name, kernels: e.kernels.map((k) => renderKernel(k, p, layout)) })) };
}

/** Ops lowered to template kernels today (compiler/lower/kernels.ts), which carry no Kernel IR to
 *  render; they render once the Kernel IR expresses them as loop and contraction kernels. */
const TEMPLATE_LOWERED = new Set(['conv2d', 'conv2d_input_grad', 'conv2d_filter_grad', 'max_pool2d', 'avg_pool2d', 'max_pool2d_grad', 'avg_pool2d_grad', 'scatter_add']);

/** The ops with a WGSL rendering (`kiln ops`): elementwise ops with a WGSL expression, the other
 *  kinds through loop and contraction kernels. */
export function supportedOps(): Set<string> {
  return new Set(Object.entries(OPS as Record<string, OpDef>).filter(([op, d]) => (d.kind === 'elementwise' ? op in OP_CODE : !TEMPLATE_LOWERED.has(op))).map(([op]) => op));
}

/** Whether every kernel of `p` has a WGSL rendering. */
export function wgslRenders(p: Program): boolean {
  return p.entries.every((e) => e.kernels.every((k) => k.kind === 'loop' || k.kind === 'matmul'));
}
