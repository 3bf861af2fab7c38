// TemplateKernel -> wasm: convolutions are GEMMs (conv.ts). conv2d_input_grad scatters (col2im) into
// the zeroed output, then the epilogue runs in place as a loop kernel.
import { fail } from '../../ir/errors.ts';
import type { LoopKernel, TemplateKernel } from '../../ir/kernel.ts';
import { linearize, vars } from '../../ir/iexpr.ts';
import { Func, type BufInfo } from './func.ts';
import { CONV_OPS, convInputGrad, convScratchBytes, renderConv } from './conv.ts';
import { renderLoop } from './loop.ts';
import { i32c } from './wat.ts';

export const TEMPLATE_OPS: readonly string[] = [...CONV_OPS, 'conv2d_input_grad'];

export function templateScratchBytes(k: TemplateKernel): number {
  return convScratchBytes(k) ?? 0;
}

export function renderTemplate(k: TemplateKernel, name: string, bufs: ReadonlyMap<string, BufInfo>, scratch: number, relaxed: boolean): string {
  const whole = renderConv(k, name, bufs, scratch, relaxed);
  if (whole !== null) return whole;
  if (k.op !== 'conv2d_input_grad') return fail('K6001', `${k.op}: no WebAssembly lowering for op '${k.op}' (kernel ${k.name}); the wasm target has templates for: ${TEMPLATE_OPS.join(', ')}`);
  const f = new Func(name, bufs, relaxed);
  const O = f.buf(k.out);
  const total = k.outType.shape.reduce((a, b) => a * b, 1);
  const zero = total ? `(memory.fill ${i32c(O.offset)} (i32.const 0) ${i32c(total * 4)})` : '';
  const main = f.render(`${zero}\n${convInputGrad(f, k, scratch)}`);
  if (!k.epilogue) return main;
  // the epilogue, in place: out[i] = epilogue(out[i]) (a one-element 'sum' reads the scattered value)
  const shape = k.outType.shape;
  const at = linearize(vars(shape.length), shape);
  const epi: LoopKernel = { kind: 'loop', name: `${name}_epilogue`, space: [...shape], reduce: { extents: [1], accs: [{ name: 'out', combine: 'sum', value: { k: 'load', buf: k.out, at }, dtype: 'f32' }] }, stores: [{ buf: k.out, at, value: k.epilogue }] };
  return main.replace(/\)$/, `\n(call $${name}_epilogue))\n`) + renderLoop(epi, `${name}_epilogue`, bufs, relaxed);
}
