// The Kernel IR verifier: the invariants every kernel pass keeps, checked on a whole Program.
//   K4004 bounds: every load and store lies inside its buffer at every point of the iteration space
//         (interval arithmetic over the index, a guarded load or store, and a guarded store's value,
//         only where the guard holds; an index that reads an index load is data-dependent and not
//         checked);
//   K4005 scope: loop variables within the kernel's space, reduction and inner reductions; bindings
//         and accumulators read only after they are computed; buffers declared;
//   K4006 in place: a loop kernel reads a buffer it stores only at the point it stores it (never in
//         an accumulator); a scatter ('sum' store) never reads its buffer; a template never reads
//         its output;
//   K4007 types: a store's value has its buffer's dtype, bindings and accumulators their declared
//         dtype, index loads read i32 buffers.
// An error names the kernel and prints it.
import { KilnError, type DiagnosticCode } from './errors.ts';
import { rangeOf, sameIExpr } from './iexpr.ts';
import type { Bound, BufferDecl, IExpr, Kernel, LoopKernel, SExpr, UnplannedProgram } from './kernel.ts';
import { buffersRead, indexReadsOf, operandLoad, readsOf, visitIExpr } from './kernel-walk.ts';
import { extentOf } from './contraction.ts';
import { printKernel } from './print-kernels.ts';
import type { DType } from './types.ts';

type Fail = (code: DiagnosticCode, rule: string) => never;

/** Checks every kernel of every entry; throws the first violation. */
export function verifyProgram(p: UnplannedProgram): void {
  const decls = new Map(p.buffers.map((b) => [b.name, b]));
  for (const e of p.entries) {
    for (const k of e.kernels) {
      const bad: Fail = (code, rule) => {
        throw new KilnError(
          code,
          `verify kernels @${p.name}: entry ${e.name}, kernel ${k.name}: ${rule}\n${printKernel(k).replace(/^/gm, '  ')}`,
        );
      };
      verifyKernel(k, decls, bad);
    }
  }
}

function verifyKernel(k: Kernel, decls: ReadonlyMap<string, BufferDecl>, bad: Fail): void {
  const decl = (buf: string): BufferDecl => decls.get(buf) ?? bad('K4005', `buffer '${buf}' is not declared`);
  if (k.kind === 'contraction') {
    for (const b of [...buffersRead(k), k.out]) decl(b);
    if ([k.a.buf, k.b.buf].includes(k.out)) bad('K4006', `it reads its output ${k.out} as an operand`);
    for (const [w, o, rows, cols] of [
      ['a', k.a, k.m, k.k],
      ['b', k.b, k.k, k.n],
    ] as const) {
      if (extentOf(o.rows) !== rows || extentOf(o.cols) !== cols)
        bad('K4005', `operand ${w} is [${o.rows}] x [${o.cols}], expected ${rows} x ${cols}`);
      exprType(operandLoad(o), [...k.batch, ...o.rows, ...o.cols], new Map(), decl, bad, `operand ${w}`, []);
    }
    if (k.epilogue)
      exprType(k.epilogue, [...k.batch, k.m, k.n], new Map([['dot', 'f32']]), decl, bad, 'the epilogue', []);
    return;
  }
  if (k.specialize !== undefined && !(k.specialize >= 0 && k.specialize < k.space.length))
    bad('K4005', `it specializes on v${k.specialize}, not one of its ${k.space.length} space variables`);
  const scope = { vars: [...k.space], names: new Map<string, DType>() };
  const check = (e: SExpr, ext: readonly number[], where: string, outer: readonly Bound[] = []): DType =>
    exprType(e, ext, scope.names, decl, bad, where, outer);
  for (const a of k.reduce?.accs ?? []) {
    const t = check(a.value, [...k.space, ...k.reduce!.extents], `accumulator ${a.name}`);
    expectType(bad, a.combine === 'argmax' ? 'i32' : t, a.dtype, `accumulator ${a.name}`);
    scope.names.set(a.name, a.dtype);
  }
  for (const l of k.lets ?? []) {
    expectType(bad, check(l.value, k.space, `binding ${l.name}`), l.dtype, `binding ${l.name}`);
    scope.names.set(l.name, l.dtype);
  }
  for (const s of k.stores) {
    const d = decl(s.buf);
    expectType(bad, check(s.value, k.space, `the store to ${s.buf}`, s.guard), d.dtype, `the store to ${s.buf}`);
    s.guard?.forEach((g) => checkIndex(g.e, k.space, [], undefined, bad, `the store to ${s.buf}'s guard`, decl));
    checkIndex(s.at, k.space, s.guard ?? [], d, bad, `the store to ${s.buf}`);
  }
  checkInPlace(k, bad);
}

function expectType(bad: Fail, got: DType, want: DType, where: string): void {
  if (got !== want) bad('K4007', `${where} is ${got}, declared ${want}`);
}

/** The dtype of `e`, checking its vars, names, indices and bounds on the way (`outer`: the guard of
 *  the store it is the value of, which holds wherever it is evaluated). */
function exprType(
  e: SExpr,
  ext: readonly number[],
  names: ReadonlyMap<string, DType>,
  decl: (b: string) => BufferDecl,
  bad: Fail,
  where: string,
  outer: readonly Bound[],
): DType {
  const sub = (x: SExpr, inner = ext): DType => exprType(x, inner, names, decl, bad, where, outer);
  const index = (x: IExpr): void => checkIndex(x, ext, [], undefined, bad, where, decl);
  switch (e.k) {
    case 'load': {
      e.guard?.forEach((g) => index(g.e));
      checkIndex(e.at, ext, [...(e.guard ?? []), ...outer], decl(e.buf), bad, `${where} (load of ${e.buf})`, decl);
      return decl(e.buf).dtype;
    }
    case 'const':
      return e.dtype;
    case 'index':
      index(e.at);
      return 'i32';
    case 'acc':
    case 'let':
      return names.get(e.name) ?? bad('K4005', `${where} reads '${e.name}' before it is computed`);
    case 'random':
      sub(e.counter);
      index(e.index);
      return 'f32';
    case 'op':
      e.args.forEach((a) => sub(a));
      return e.dtype;
    case 'reduce': {
      if (e.first !== ext.length)
        bad('K4005', `${where}: an inner reduction's vars start at v${e.first}, expected v${ext.length}`);
      const t = sub(e.value, [...ext, ...e.extents]);
      expectType(bad, e.combine === 'argmax' ? 'i32' : t, e.dtype, `${where}: an inner ${e.combine}`);
      return e.dtype;
    }
  }
}

/** Vars of `at` in scope; when `buf` is given, `at` inside it at every point (`guard` holding). */
function checkIndex(
  at: IExpr,
  ext: readonly number[],
  guard: readonly { e: IExpr; lo: number; hi: number }[],
  buf: BufferDecl | undefined,
  bad: Fail,
  where: string,
  decl?: (b: string) => BufferDecl,
): void {
  visitIExpr(at, {
    iexpr: (x) => {
      if (x.k === 'var' && x.i >= ext.length)
        bad('K4005', `${where} reads v${x.i}, outside its ${ext.length} loop variables`);
      if (x.k === 'load' && decl && decl(x.buf).dtype !== 'i32')
        bad('K4007', `${where} uses ${x.buf} (${decl(x.buf).dtype}) as an index`);
    },
  });
  if (!buf || indexReadsOf(at).length > 0) return;
  // where the load happens every guard bound holds: a subexpression a bound tests stays inside it
  const known = (x: IExpr) =>
    guard
      .filter((g) => sameIExpr(g.e, x))
      .reduce<readonly [number, number] | undefined>(
        (r, g) => [Math.max(r?.[0] ?? -Infinity, g.lo), Math.min(r?.[1] ?? Infinity, g.hi - 1)],
        undefined,
      );
  const [lo, hi] = rangeOf(at, ext, known);
  if (lo < 0 || hi >= Math.max(buf.size, 1))
    bad('K4004', `${where}: index ${lo}..${hi} is outside ${buf.name}'s ${buf.size} elements`);
}

/** Reads of a stored buffer only at its store's point, never in accumulators; scatters read nothing of theirs. */
function checkInPlace(k: LoopKernel, bad: Fail): void {
  const storedAt = new Map<string, IExpr[]>();
  for (const s of k.stores) storedAt.set(s.buf, [...(storedAt.get(s.buf) ?? []), s.at]);
  const scatter = new Set(k.stores.filter((s) => s.combine === 'sum').map((s) => s.buf));
  for (const s of k.stores) {
    if (scatter.has(s.buf) && s.combine !== 'sum') bad('K4006', `${s.buf} is both scattered into ('sum') and stored`);
  }
  const readsIn = (e: SExpr, where: string, inAcc: boolean): void => {
    for (const r of readsOf(e)) {
      const at = storedAt.get(r.buf);
      if (!at) continue;
      if (scatter.has(r.buf)) bad('K4006', `${where} reads ${r.buf}, which the kernel scatters into`);
      if (inAcc) bad('K4006', `${where} reads ${r.buf}, which the kernel stores, in a reduction`);
      if (r.index || !at.some((x) => sameIExpr(x, r.at)))
        bad('K4006', `${where} reads ${r.buf} at another point than the kernel stores it`);
    }
  };
  k.reduce?.accs.forEach((a) => readsIn(a.value, `accumulator ${a.name}`, true));
  k.lets?.forEach((l) => readsIn(l.value, `binding ${l.name}`, false));
  k.stores.forEach((s) => readsIn(s.value, `the store to ${s.buf}`, false));
}
