// WAT spelling helpers shared by the wasm renderer: dtypes, constants, folded instructions.
import type { DType } from '../../ir/types.ts';

/** The scalar wasm value type of a dtype (bool is an i32 holding 0 or 1). */
export function scalarType(d: DType): 'f32' | 'i32' {
  return d === 'f32' ? 'f32' : 'i32';
}

/** The f32x4 / i32x4 shape a vector of this dtype uses (bool vectors are i32x4 lane masks: -1 or 0). */
export function lanes(d: DType): 'f32x4' | 'i32x4' {
  return d === 'f32' ? 'f32x4' : 'i32x4';
}

/** A float literal wabt accepts and that rounds to the same f32. */
export function flit(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  if (Object.is(v, -0)) return '-0';
  return String(v);
}

export const i32c = (v: number): string => `(i32.const ${v | 0})`;
/** An i32 that is a value, never an address (a constant of the kernel, a random seed), spelled in hex:
 *  a threaded build's `relocate` (threads.ts) rebases decimal constants only, so a value that happens to
 *  fall in its scratch bands stays what it is. */
export const i32v = (v: number): string => {
  const x = v | 0;
  return `(i32.const ${x < 0 ? '-' : ''}0x${Math.abs(x).toString(16)})`;
};
export const f32c = (v: number): string => `(f32.const ${flit(v)})`;
/** The smaller of two i32 expressions (signed; each appears twice in the text, so pass a constant or a
 *  local's get when evaluating one twice matters). */
export const minI32 = (a: string, b: string): string => `(select ${a} ${b} (i32.lt_s ${a} ${b}))`;
export const get = (name: string): string => `(local.get ${name})`;
export const set = (name: string, v: string): string => `(local.set ${name} ${v})`;

/** A scalar constant of a dtype. */
export function sconst(d: DType, v: number): string {
  return d === 'f32' ? f32c(v) : i32v(d === 'bool' ? (v ? 1 : 0) : v);
}

/** A splatted vector constant of a dtype (bool: lane masks). */
export function vconst(d: DType, v: number): string {
  if (d === 'f32') return `(v128.const f32x4 ${flit(v)} ${flit(v)} ${flit(v)} ${flit(v)})`;
  const x = d === 'bool' ? (v ? -1 : 0) : v | 0;
  return `(v128.const i32x4 ${x} ${x} ${x} ${x})`;
}

/** A counted loop `for (v = from; v < to; v += step) body` with compile-time bounds (nothing when empty);
 *  vector loops pass a `to` that `from` reaches in whole steps. */
export function forLoop(v: string, from: number, to: number, step: number, body: string, label: string): string {
  if (to <= from) return '';
  return `${set(v, i32c(from))}
(block $B${label} (loop $L${label}
${body}
${set(v, `(i32.add ${get(v)} ${i32c(step)})`)}
(br_if $L${label} (i32.lt_s ${get(v)} ${i32c(to)}))))`;
}
