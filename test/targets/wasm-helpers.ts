// Shared by the wasm target tests: compile a graph (or take a hand-built Program), run it on
// WebAssembly through the runtime and on the reference interpreter, compare within a tolerance.
import { expect } from 'vitest';
import type { Graph } from '../../ir/graph.ts';
import type { Program } from '../../ir/kernel.ts';
import { formatType, type Tensor, type TensorType } from '../../ir/types.ts';
import type { RuntimeTensor } from '../../runtime/index.ts';
import { randomTensor } from '../grad/check-vjp.ts';
import { typedData } from '../../compiler/train/interp-session.ts';
import { checkTarget, wasmUnderTest } from './targets.ts';

/** A tensor in the runtime's typed-array kinds (f32 -> Float32Array). */
export function runtimeTensor(t: Tensor): RuntimeTensor {
  return { type: t.type, data: typedData(t) };
}

/** Random feeds: f32 uniform in [lo, hi), i32 in [0, intHi), bool half/half. */
export function randomFeed(t: TensorType, next: () => number, lo = -1, hi = 1, intHi = 3): Tensor {
  return runtimeTensor(randomTensor(t, next, t.dtype === 'i32' ? 0 : lo, t.dtype === 'i32' ? intHi : hi));
}

/** |got - want| <= tol * (1 + |want|) elementwise (NaN must match NaN); returns the worst relative error. */
export function expectClose(got: RuntimeTensor | Tensor, want: Tensor, what: string, tol: number): number {
  expect(formatType(got.type), what).toBe(formatType(want.type));
  let worst = 0;
  for (let i = 0; i < want.data.length; i++) {
    const a = got.data[i]!,
      b = want.data[i]!;
    if (Number.isNaN(b)) {
      expect(Number.isNaN(a), `${what}[${i}] is ${a}, expected NaN`).toBe(true);
      continue;
    }
    if (a === b) continue;
    const err = Math.abs(a - b) / (1 + Math.abs(b));
    worst = Math.max(worst, err);
    if (!(err <= tol)) expect(a, `${what}[${i}] (tolerance ${tol})`).toBe(b);
  }
  return worst;
}

export interface WasmCheck {
  readonly seed?: number;
  readonly tol?: number;
  /** Range of f32 inputs and params. */
  readonly lo?: number;
  readonly hi?: number;
  readonly intHi?: number;
  /** Run the relaxed-SIMD binary instead of the plain one. */
  readonly relaxed?: boolean;
}

/** Compiles `g`, runs its one entry 'main' on wasm and checks outputs and updated params against the interpreter. */
export async function checkWasm(g: Graph, opts: WasmCheck = {}): Promise<Program> {
  return checkTarget(wasmUnderTest(opts.relaxed ?? false), g, opts);
}

/** `count` f32 values whose bit patterns are evenly spread over [lo, hi] (both as f32 bit patterns of the same sign). */
export function spread(lo: number, hi: number, count: number): Float32Array {
  const bits = new Uint32Array(new Float32Array([lo, hi]).buffer);
  const out = new Float32Array(count);
  const ob = new Uint32Array(out.buffer);
  for (let i = 0; i < count; i++) ob[i] = Math.round(bits[0]! + ((bits[1]! - bits[0]!) * i) / (count - 1));
  return out;
}
