// TemplateKernel -> wasm: conv2d and its gradients as GEMMs over packed patches, pooling and
// pooling gradients vectorized over channels, scatter_add.
import { fail } from '../../ir/errors.ts';
import type { TemplateKernel } from '../../ir/kernel.ts';
import type { BufInfo } from './func.ts';

export const TEMPLATE_OPS: readonly string[] = [];

export function templateScratchBytes(_k: TemplateKernel): number {
  return 0;
}

export function renderTemplate(k: TemplateKernel, _name: string, _bufs: ReadonlyMap<string, BufInfo>, _scratch: number, _relaxed: boolean): string {
  return fail('K6001', `${k.op}: no WebAssembly lowering for op '${k.op}' (kernel ${k.name}); the wasm target has templates for: ${TEMPLATE_OPS.join(', ') || 'none yet'}`);
}
