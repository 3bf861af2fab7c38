// The Kernel IR interpreter: runs a Program's entry points on one arena (a Float32Array / Int32Array
// pair over one ArrayBuffer laid out by the memory plan), so fusion and lowering are tested against
// the graph interpreter before any backend exists. Expressions are compiled once to JS closures.
// Every element takes 4 bytes; bool is stored as i32 0/1.
import { fail } from './errors.ts';
import { opDef } from './builder.ts';
import { extentOf } from './contraction.ts';
import type {
  BufferDecl,
  Combine,
  ContractionKernel,
  EntryPoint,
  IExpr,
  Kernel,
  LoopKernel,
  Operand,
  Program,
  SExpr,
} from './kernel.ts';
import { loopExprs, namesRead, varsOf } from './kernel-walk.ts';
import { randomNormal, randomUniform } from './random.ts';
import { allocData, formatType, sameType, type DType, type Tensor } from './types.ts';

export interface Arena {
  readonly bytes: ArrayBuffer;
  readonly f32: Float32Array;
  readonly i32: Int32Array;
}

type Vars = number[];
type IFn = (v: Vars) => number;
/** A compiled expression at a point: loop vars, and the point's accumulator and binding values by name. */
type SFn = (v: Vars, named: Map<string, number>) => number;

/** What an element of `dtype` holds for the computed value `v` (as the registry's reference loops store it). */
export function coerce(dtype: DType, v: number): number {
  if (dtype === 'f32') return Math.fround(v);
  if (dtype === 'i32') return v | 0;
  return v !== 0 ? 1 : 0;
}

class Machine {
  private readonly decls = new Map<string, BufferDecl>();
  constructor(
    readonly program: Program,
    readonly arena: Arena,
  ) {
    for (const b of program.buffers) this.decls.set(b.name, b);
  }

  decl(buf: string): BufferDecl {
    const d = this.decls.get(buf);
    if (!d) fail('K7001', `kernel interpreter: unknown buffer '${buf}' in program @${this.program.name}`);
    return d;
  }

  /** Element offset of buffer `buf` in the 4-byte views. */
  base(buf: string): number {
    const off = this.program.memory.offsets[buf];
    if (off === undefined) fail('K7001', `kernel interpreter: buffer '${buf}' has no offset in the memory plan`);
    return off / 4;
  }

  view(buf: string): Float32Array | Int32Array {
    return this.decl(buf).dtype === 'f32' ? this.arena.f32 : this.arena.i32;
  }

  iexpr(e: IExpr): IFn {
    switch (e.k) {
      case 'var': {
        const i = e.i;
        return (v) => v[i]!;
      }
      case 'int': {
        const c = e.v;
        return () => c;
      }
      case 'load': {
        const at = this.iexpr(e.at),
          base = this.base(e.buf),
          mem = this.arena.i32;
        return (v) => mem[base + at(v)]!;
      }
      default: {
        const a = this.iexpr(e.a),
          b = this.iexpr(e.b);
        switch (e.k) {
          case 'add':
            return (v) => a(v) + b(v);
          case 'sub':
            return (v) => a(v) - b(v);
          case 'mul':
            return (v) => a(v) * b(v);
          case 'div':
            return (v) => Math.floor(a(v) / b(v));
          case 'mod':
            return (v) => {
              const y = b(v);
              return ((a(v) % y) + y) % y;
            };
          case 'min':
            return (v) => Math.min(a(v), b(v));
          case 'max':
            return (v) => Math.max(a(v), b(v));
        }
      }
    }
  }

  sexpr(e: SExpr): SFn {
    switch (e.k) {
      case 'const': {
        const c = coerce(e.dtype, e.v);
        return () => c;
      }
      case 'index': {
        const at = this.iexpr(e.at);
        return (v) => at(v);
      }
      case 'acc': {
        const n = e.name;
        return (_v, named) => named.get(n)!;
      }
      case 'let': {
        const n = e.name;
        return (_v, named) =>
          named.get(n) ?? fail('K7001', `kernel interpreter: binding '${n}' is read before it is computed`);
      }
      case 'load': {
        const at = this.iexpr(e.at),
          base = this.base(e.buf),
          mem = this.view(e.buf);
        if (!e.guard?.length) return (v) => mem[base + at(v)]!;
        const guards = e.guard.map((g) => ({ e: this.iexpr(g.e), lo: g.lo, hi: g.hi }));
        const otherwise = e.otherwise ?? 0;
        return (v) => {
          for (const g of guards) {
            const x = g.e(v);
            if (x < g.lo || x >= g.hi) return otherwise;
          }
          return mem[base + at(v)]!;
        };
      }
      case 'random': {
        const counter = this.sexpr(e.counter),
          index = this.iexpr(e.index),
          seed = e.seed;
        const draw = e.dist === 'uniform' ? randomUniform : randomNormal;
        return (v, accs) => Math.fround(draw(seed, counter(v, accs), index(v)));
      }
      case 'op': {
        const f = opDef(e.op).scalar;
        if (!f)
          fail(
            'K6001',
            `kernel interpreter: op '${e.op}' has no scalar function; only elementwise ops appear in kernel bodies`,
          );
        const args = e.args.map((a) => this.sexpr(a)),
          dtype = e.dtype;
        if (args.length === 1) {
          const [a] = args as [SFn];
          return (v, s) => coerce(dtype, f(a(v, s)));
        }
        if (args.length === 2) {
          const [a, b] = args as [SFn, SFn];
          return (v, s) => coerce(dtype, f(a(v, s), b(v, s)));
        }
        return (v, s) => coerce(dtype, f(...args.map((a) => a(v, s))));
      }
      case 'reduce': {
        const value = this.sexpr(e.value),
          { combine, extents, first, dtype } = e;
        return (v, named) =>
          coerce(
            dtype,
            reduceOver(combine, extents, v, first, () => value(v, named)),
          );
      }
    }
  }

  /** Writes `value` at element `at` of `buf`, stored as its dtype. */
  storer(buf: string): (at: number, value: number) => void {
    const base = this.base(buf),
      mem = this.view(buf),
      dtype = this.decl(buf).dtype;
    return (at, value) => {
      mem[base + at] = coerce(dtype, value);
    };
  }

  readTensor(buf: string, type: Tensor['type']): Tensor {
    const data = allocData(type);
    const base = this.base(buf),
      mem = this.view(buf);
    for (let i = 0; i < data.length; i++) data[i] = mem[base + i]!;
    return { type, data };
  }

  writeTensor(buf: string, t: Tensor): void {
    const put = this.storer(buf);
    for (let i = 0; i < t.data.length; i++) put(i, t.data[i]!);
  }

  run(k: Kernel): void {
    if (k.kind === 'loop') this.loop(k);
    else this.contraction(k);
  }

  loop(k: LoopKernel): void {
    const n = k.space.length;
    const stores = k.stores.map((s) => {
      const at = this.iexpr(s.at),
        value = this.sexpr(s.value),
        put = this.storer(s.buf);
      const guards = (s.guard ?? []).map((g) => ({ e: this.iexpr(g.e), lo: g.lo, hi: g.hi }));
      const holds = (v: Vars): boolean =>
        guards.every((g) => {
          const x = g.e(v);
          return x >= g.lo && x < g.hi;
        });
      if (s.combine !== 'sum')
        return (v: Vars, named: Map<string, number>) => {
          if (holds(v)) put(at(v), value(v, named));
        };
      const mem = this.view(s.buf),
        base = this.base(s.buf);
      return (v: Vars, named: Map<string, number>) => {
        if (holds(v)) {
          const i = at(v);
          put(i, mem[base + i]! + value(v, named));
        }
      };
    });
    for (const buf of new Set(k.stores.filter((s) => s.combine === 'sum').map((s) => s.buf))) {
      const put = this.storer(buf);
      for (let i = 0; i < this.decl(buf).size; i++) put(i, 0);
    }
    const red = k.reduce;
    const accs = (red?.accs ?? []).map((a) => ({ ...a, value: this.sexpr(a.value) }));
    checkBindings(k);
    const lets = (k.lets ?? []).map((l) => ({ name: l.name, dtype: l.dtype, value: this.sexpr(l.value) }));
    const named = new Map<string, number>();
    const used = new Set<number>();
    loopExprs(k).forEach((e) => varsOf(e, used));
    const vars: Vars = new Array<number>(Math.max(n + (red?.extents.length ?? 0), ...[...used].map((i) => i + 1))).fill(
      0,
    );
    forEachPoint(k.space, vars, 0, () => {
      for (const a of accs)
        named.set(
          a.name,
          coerce(
            a.dtype,
            reduceOver(a.combine, red!.extents, vars, n, () => a.value(vars, named)),
          ),
        );
      for (const l of lets) named.set(l.name, coerce(l.dtype, l.value(vars, named)));
      for (const s of stores) s(vars, named);
    });
  }

  /** Every element of an operand for batch point `vars[0..batch)`, row-major ([rows, cols] flat). */
  operand(k: ContractionKernel, op: Operand, vars: Vars, what: string): Float64Array {
    const nb = k.batch.length;
    const [rows, cols] = what === 'a' ? [k.m, k.k] : [k.k, k.n];
    if (extentOf(op.rows) !== rows || extentOf(op.cols) !== cols) {
      fail(
        'K7001',
        `kernel interpreter: ${k.name}: operand ${what} is [${op.rows.join(',')}] x [${op.cols.join(',')}], expected ${rows} x ${cols}`,
      );
    }
    const load = this.sexpr(
      op.guard ? { k: 'load', buf: op.buf, at: op.at, guard: op.guard } : { k: 'load', buf: op.buf, at: op.at },
    );
    const out = new Float64Array(rows * cols),
      none = new Map<string, number>();
    let i = 0;
    forEachPoint([...op.rows, ...op.cols], vars, nb, () => {
      out[i++] = load(vars, none);
    });
    return out;
  }

  contraction(k: ContractionKernel): void {
    const nb = k.batch.length;
    const put = this.storer(k.out);
    const epi = k.epilogue ? this.sexpr(k.epilogue) : undefined;
    const accs = new Map<string, number>();
    const at: Vars = new Array<number>(
      nb + Math.max(k.a.rows.length + k.a.cols.length, k.b.rows.length + k.b.cols.length),
    ).fill(0);
    const vars: Vars = new Array<number>(nb + 2).fill(0);
    let flat = 0;
    forEachPoint(k.batch, vars, 0, () => {
      for (let d = 0; d < nb; d++) at[d] = vars[d]!;
      const A = this.operand(k, k.a, at, 'a'),
        B = this.operand(k, k.b, at, 'b');
      for (let i = 0; i < k.m; i++) {
        for (let j = 0; j < k.n; j++) {
          let dot = 0;
          for (let p = 0; p < k.k; p++) dot += A[i * k.k + p]! * B[p * k.n + j]!;
          vars[nb] = i;
          vars[nb + 1] = j;
          accs.set('dot', Math.fround(dot));
          put(flat++, epi ? epi(vars, accs) : dot);
        }
      }
    });
  }
}

/** A binding reads only earlier ones; accumulators read none; every binding read exists. */
function checkBindings(k: LoopKernel): void {
  const known = new Set<string>();
  const check = (e: SExpr, where: string): void => {
    const bad = namesRead(e, 'let').find((n) => !known.has(n));
    if (bad !== undefined)
      fail('K7001', `kernel interpreter: ${k.name}: ${where} reads binding '${bad}' before it is computed`);
  };
  for (const a of k.reduce?.accs ?? []) check(a.value, `accumulator ${a.name}`);
  for (const l of k.lets ?? []) {
    check(l.value, `binding ${l.name}`);
    known.add(l.name);
  }
  for (const s of k.stores) check(s.value, `the store to ${s.buf}`);
}

/** `combine` of value() over the points of `extents` (vars[first..]), as ir/kernel.ts's Combine says:
 *  argmax gives the row-major position of the first maximum (NaN never wins). */
function reduceOver(
  combine: Combine,
  extents: readonly number[],
  vars: Vars,
  first: number,
  value: () => number,
): number {
  let best = combine === 'sum' ? 0 : combine === 'min' ? Infinity : -Infinity;
  if (combine === 'first_max') {
    forEachPoint(extents, vars, first, () => {
      const x = value();
      if (x > best) best = x;
    });
    return best;
  }
  let arg = 0,
    seen = false,
    r = 0;
  forEachPoint(extents, vars, first, () => {
    const x = value();
    if (combine === 'sum') best += x;
    else if (combine === 'max') best = Math.max(best, x);
    else if (combine === 'min') best = Math.min(best, x);
    else if (!seen || x > best) {
      seen = x === x;
      best = x;
      arg = r;
    }
    r++;
  });
  return combine === 'argmax' ? arg : best;
}

/** Runs `body` for every point of `extents` (row-major), with the point in vars[first..]. */
function forEachPoint(extents: readonly number[], vars: Vars, first: number, body: () => void): void {
  const rank = extents.length;
  if (extents.some((e) => e === 0)) return;
  for (let d = 0; d < rank; d++) vars[first + d] = 0;
  for (;;) {
    body();
    let d = rank - 1;
    while (d >= 0) {
      const i = first + d;
      if (++vars[i]! < extents[d]!) break;
      vars[i] = 0;
      d--;
    }
    if (d < 0) return;
  }
}

export function createArena(p: Program): Arena {
  const bytes = new ArrayBuffer(Math.max(p.memory.arenaBytes, 16));
  const arena = { bytes, f32: new Float32Array(bytes), i32: new Int32Array(bytes) };
  const m = new Machine(p, arena);
  for (const b of p.buffers) {
    if (b.init) m.writeTensor(b.name, { type: { dtype: b.dtype, shape: [b.size] }, data: Float64Array.from(b.init) });
  }
  return arena;
}

function entryOf(p: Program, name: string): EntryPoint {
  const e = p.entries.find((x) => x.name === name);
  if (!e)
    fail('K7002', `program @${p.name} has no entry '${name}'; entries: ${p.entries.map((x) => x.name).join(', ')}`);
  return e;
}

function checked(kind: string, name: string, type: Tensor['type'], given: Tensor | undefined): Tensor {
  if (!given) fail('K7002', `missing ${kind} '${name}' (${formatType(type)})`);
  if (!sameType(given.type, type))
    fail('K7002', `${kind} '${name}' is ${formatType(given.type)}, expected ${formatType(type)}`);
  return given;
}

export function writeParams(p: Program, arena: Arena, params: Readonly<Record<string, Tensor>>): void {
  const m = new Machine(p, arena);
  for (const q of p.params) m.writeTensor(q.buf, checked('param', q.name, q.type, params[q.name]));
}

export function readParams(p: Program, arena: Arena): Record<string, Tensor> {
  const m = new Machine(p, arena);
  return Object.fromEntries(p.params.map((q) => [q.name, m.readTensor(q.buf, q.type)]));
}

/** Runs one entry point: copies inputs in, runs its kernels in order, reads the outputs back. */
export function runEntry(
  p: Program,
  arena: Arena,
  entry: string,
  inputs: Readonly<Record<string, Tensor>>,
): Record<string, Tensor> {
  const e = entryOf(p, entry);
  const m = new Machine(p, arena);
  for (const i of e.inputs) m.writeTensor(i.buf, checked('input', i.name, i.type, inputs[i.name]));
  for (const k of e.kernels) m.run(k);
  return Object.fromEntries(e.outputs.map((o) => [o.name, m.readTensor(o.buf, o.type)]));
}

/** One call on a fresh arena: the entry's outputs and every param's value afterwards. */
export function interpretProgram(
  p: Program,
  entry: string,
  inputs: Readonly<Record<string, Tensor>>,
  params: Readonly<Record<string, Tensor>> = {},
): { outputs: Record<string, Tensor>; params: Record<string, Tensor> } {
  const arena = createArena(p);
  writeParams(p, arena, params);
  const outputs = runEntry(p, arena, entry, inputs);
  return { outputs, params: readParams(p, arena) };
}
