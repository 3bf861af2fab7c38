// An artifact's WebGPU target: what the WGSL renderer hands the WebGPU executor (runtime/webgpu.ts's
// WebGpuKernels) written as one file, kernels.wgsl (each distinct shader module once, after a comment
// naming its kernels), and the manifest's webgpu section (module byte ranges, arena chunks and places,
// each kernel's module, bindings and dispatch size). runtime/wgsl-artifact.ts's gpuKernels reads it back.
import type { Program } from '../../ir/kernel.ts';
import type { WebGpuKernelSpec, WebGpuTarget } from '../../runtime/manifest.ts';
import type { WebGpuKernels } from '../../runtime/webgpu.ts';
import { ENTRY_POINT } from '../../runtime/wgsl-artifact.ts';
import { kernelSpec } from './manifest.ts';

export const WGSL_FILE = 'kernels.wgsl';

/** kernels.wgsl's bytes and the manifest's webgpu section of `rendered`, the WGSL of `program`. */
export function packWgsl(program: Program, rendered: WebGpuKernels): { target: WebGpuTarget; bytes: Uint8Array } {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  const modules: [number, number][] = [];
  const users: string[][] = rendered.shaders.map(() => []);
  let at = 0;
  const add = (bytes: Uint8Array): void => {
    parts.push(bytes);
    at += bytes.length;
  };
  const kernels = Object.fromEntries(
    rendered.entries.map((e) => {
      const kernels = program.entries.find((x) => x.name === e.name)!.kernels;
      const specs = e.kernels.map((k, i): WebGpuKernelSpec => {
        users[k.shader]!.push(`${e.name}/${k.name}`);
        return {
          ...kernelSpec(kernels[i]!),
          module: k.shader,
          entryPoint: ENTRY_POINT,
          bindings: [...k.chunks],
          offsets: [...k.offsets],
          workgroups: [k.dispatch[0], k.dispatch[1], k.dispatch[2]],
        };
      });
      return [e.name, specs];
    }),
  );
  for (const [i, code] of rendered.shaders.entries()) {
    add(enc.encode(`// module ${i}: ${users[i]!.join(', ')}\n`));
    const bytes = enc.encode(code);
    modules.push([at, at + bytes.length]);
    add(bytes);
    add(enc.encode('\n\n'));
  }
  const bytes = new Uint8Array(at);
  let o = 0;
  for (const p of parts) bytes.set(p, (o += p.length) - p.length);
  const { chunks, places } = rendered.layout;
  return { target: { file: WGSL_FILE, modules, chunks: [...chunks], places: { ...places }, kernels }, bytes };
}
