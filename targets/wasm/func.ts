// A function being rendered: its locals, the buffers it sees and the rendering mode
// (scalar, or f32x4 along one loop variable).
import { fail } from '../../ir/errors.ts';
import type { DType } from '../../ir/types.ts';

export interface BufInfo {
  /** Byte offset of the buffer in the arena. */
  readonly offset: number;
  readonly dtype: DType;
  readonly size: number;
}

export type WasmType = 'i32' | 'f32' | 'v128';

export class Func {
  private readonly locals = new Map<string, WasmType>();
  private tmpCount = 0;
  private labelCount = 0;
  /** The loop variable rendered 4 lanes at a time (lane l is var + l), or null in scalar mode. */
  vec: number | null = null;
  /** Accumulator, loop binding or template result name -> the local holding it (a vector local or a scalar one). */
  readonly accs = new Map<string, { local: string; dtype: DType; vector: boolean }>();

  constructor(
    readonly name: string,
    readonly bufs: ReadonlyMap<string, BufInfo>,
    readonly relaxed: boolean,
    /** Rendered for the threaded module (threads.ts): parallel loops run this thread's share. */
    readonly threads = false,
  ) {}

  /** Declares (once) and returns a named local. */
  local(name: string, type: WasmType): string {
    const n = `$${name}`;
    const had = this.locals.get(n);
    if (had && had !== type) fail('K6001', `${this.name}: local ${n} used as ${had} and ${type}`);
    this.locals.set(n, type);
    return n;
  }

  /** A fresh temporary local. */
  tmp(type: WasmType): string {
    return this.local(`t${this.tmpCount++}_${type}`, type);
  }

  /** A loop label unique in this function. */
  label(tag: string): string {
    return `${tag}${this.labelCount++}`;
  }

  /** Local of loop variable i. */
  v(i: number): string {
    return this.local(`v${i}`, 'i32');
  }

  buf(name: string): BufInfo {
    const b = this.bufs.get(name);
    if (!b) fail('K6001', `${this.name}: kernel refers to buffer '${name}', which the program does not declare`);
    return b;
  }

  /** The function's text. */
  render(body: string, exportName?: string): string {
    const exp = exportName ? ` (export "${exportName}")` : '';
    const decls = [...this.locals].map(([n, t]) => `(local ${n} ${t})`).join(' ');
    return `(func $${this.name}${exp} ${decls}\n${body})`;
  }
}
