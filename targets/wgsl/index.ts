// The WGSL target: Kernel IR -> one WGSL compute shader per kernel, over the memory plan's arena
// laid out in a few storage buffers (layout.ts). What it renders is what runtime/webgpu.ts runs
// (its WebGpuKernels, plain JSON): the distinct shader texts, and per entry point its kernels in
// order, each naming its shader, its dispatch size, the arena chunks it binds (binding i =
// chunks[i]) and its buffers' element offsets (a uniform at binding chunks.length). Offsets are
// uniform data, not code, so kernels that differ only in where their buffers live (an unrolled
// RNN's time steps) share one shader text, module and pipeline.
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
  /** Index of its code in WgslProgram.shaders. */
  readonly shader: number;
  /** Workgroups along x, y, z (each at most 65,535). */
  readonly dispatch: readonly [number, number, number];
  /** The arena chunk of each storage binding, in binding order. */
  readonly chunks: readonly number[];
  /** The uniform at binding `chunks.length` (absent when empty): the first element (in 4-byte
   *  words, inside its chunk) of each buffer the shader reads or writes, as its fields b0, b1, ... */
  readonly offsets: readonly number[];
}

/** A kernel as a renderer returns it, with its own code. */
export type RenderedKernel = Omit<WgslKernel, 'shader'> & { readonly code: string };

export interface WgslProgram {
  readonly layout: ArenaLayout;
  /** The distinct WGSL texts, in order of first use. */
  readonly shaders: readonly string[];
  readonly entries: readonly { readonly name: string; readonly kernels: readonly WgslKernel[] }[];
}

export interface WgslOptions {
  /** The device's maxStorageBufferBindingSize (default: WebGPU's guaranteed 128 MiB). */
  readonly maxBinding?: number;
  /** vec4 loads where an operand allows them (default true; false: scalar loads, to compare). */
  readonly vec4?: boolean;
}

function renderKernel(k: Kernel, p: Program, layout: ArenaLayout, opts: WgslOptions): RenderedKernel {
  const s = new Scope(k.name, new Map(p.buffers.map((b) => [b.name, b])), new Map(Object.entries(layout.places)));
  s.vec4 = opts.vec4 !== false;
  switch (k.kind) {
    case 'loop':
      return renderLoop(k, s);
    case 'contraction':
      return renderContraction(contraction(k), s);
  }
}

/** Renders every entry point's kernels, each distinct text once. */
export function renderWgsl(p: Program, opts: WgslOptions = {}): WgslProgram {
  const layout = layoutArena(p, opts.maxBinding ?? DEFAULT_MAX_BINDING);
  const shaders = new Map<string, number>();
  const entries = p.entries.map((e) => ({
    name: e.name,
    kernels: e.kernels.map((k): WgslKernel => {
      const { code, ...rest } = renderKernel(k, p, layout, opts);
      let shader = shaders.get(code);
      if (shader === undefined) shaders.set(code, (shader = shaders.size));
      return { ...rest, shader };
    }),
  }));
  return { layout, shaders: [...shaders.keys()], entries };
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
