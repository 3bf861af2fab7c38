// LoopKernel -> one wasm function. The innermost space variable (or, for row reductions, the
// innermost reduction variable) runs 4 lanes at a time with a scalar tail; index arithmetic
// decides per load whether that is a v128 load, a splat or a 4-lane gather. A variable that many
// guards test alone (LoopKernel.specialize) runs specialized copies of its inner loops.
import type { Accumulator, LoopKernel } from '../../ir/kernel.ts';
import { readsOf } from '../../ir/kernel-walk.ts';
import {
  affine,
  combineStep,
  COMBINE_OP,
  dtypeOf,
  firstMax,
  identity,
  pointsOf,
  store,
  sx,
  UNROLL,
  withMode,
} from './expr.ts';
import { Func, type BufInfo } from './func.ts';
import { OP_CODE } from './ops.ts';
import { foldVars, specialize } from '../../ir/specialize.ts';
import { firstThread, splitLoop } from './threads.ts';
import { forLoop, get, i32c, lanes, sconst, set, vconst } from './wat.ts';

/** Which variable to vectorize: the one most loads are contiguous in (the innermost space var on ties). */
export function chooseVector(k: LoopKernel): number | null {
  const ns = k.space.length;
  const red = k.reduce?.extents ?? [];
  const sv = ns > 0 && k.space[ns - 1]! >= 4 ? ns - 1 : null;
  const canReduce = red.length > 0 && red[red.length - 1]! >= 4 && !k.reduce!.accs.some((a) => a.combine === 'argmax');
  const rv = canReduce ? ns + red.length - 1 : null;
  if (rv === null || sv === null) return sv ?? rv;
  const exprs = [...k.reduce!.accs.map((a) => a.value)];
  const score = (v: number): number =>
    exprs.flatMap((e) => readsOf(e)).filter((l) => !l.index && affine(l.at, v)?.coef === 1).length;
  return score(rv) > score(sv) ? rv : sv;
}

/** One accumulator: its identity, the passes over the reduction space (unrolled when it has few
 *  points and is not the vector variable's), its final value in f.accs. */
function accumulate(f: Func, k: LoopKernel, a: Accumulator, idx: number, vecVar: number | null): string {
  const ns = k.space.length;
  const red = k.reduce!.extents;
  const spaceVec = vecVar !== null && vecVar < ns;
  const vt = dtypeOf(f, a.value);
  const argmax = a.combine === 'argmax';
  const sfx = spaceVec ? 'v' : '';
  const acc = f.local(`acc${idx}${sfx}`, spaceVec ? 'v128' : a.dtype === 'f32' ? 'f32' : 'i32');
  const initType = argmax ? vt : a.dtype;
  const ident = identity(argmax ? 'max' : a.combine, initType);
  const init = (vector: boolean): string => (vector ? vconst(initType, ident) : sconst(initType, ident));
  const parts: string[] = [];
  let best = acc;
  if (argmax) {
    best = f.local(`best${idx}${sfx}`, spaceVec ? 'v128' : vt === 'f32' ? 'f32' : 'i32');
    parts.push(set(best, init(spaceVec)), set(acc, spaceVec ? vconst('i32', 0) : i32c(0)));
  } else {
    parts.push(set(acc, init(spaceVec)));
  }
  // the flat position in the reduction space
  const pos = red
    .slice(1)
    .reduce((p, e, i) => `(i32.add (i32.mul ${p} ${i32c(e)}) ${get(f.v(ns + i + 1))})`, get(f.v(ns)));
  const step = (into: string, value: string, vector: boolean, at = pos): string =>
    withMode(f, vector ? (f.vec ?? vecVar) : null, () => combineStep(f, a.combine, a.dtype, vt, into, best, value, at));
  const inner = red.length - 1;
  const points = red.reduce((x, y) => x * y, 1);
  if (vecVar !== ns + inner && points <= UNROLL) {
    const dtypeOfBuf = (b: string) => f.buf(b).dtype;
    pointsOf(red, ns).forEach((vals, p) =>
      parts.push(step(acc, sx(f, foldVars(a.value, vals, dtypeOfBuf)), spaceVec, i32c(p))),
    );
    f.accs.set(a.name, { local: acc, dtype: a.dtype, vector: spaceVec });
    return parts.join('\n');
  }
  let body: string;
  if (vecVar === ns + inner) {
    // row reduction: 4 partial results, combined at the end, then the scalar tail
    const n = red[inner]!;
    const part = f.local(`part${idx}`, 'v128');
    const vbody = withMode(f, vecVar, () => step(part, sx(f, a.value), true));
    const lane = (l: number): string => `(${lanes(a.dtype)}.extract_lane ${l} ${get(part)})`;
    const lanesCombined = [0, 1, 2, 3].reduce(
      (p, l) =>
        a.combine === 'first_max'
          ? withMode(f, null, () => firstMax(f, a.dtype, p, lane(l)))
          : OP_CODE[COMBINE_OP[a.combine as 'sum']](f, [p, lane(l)], [a.dtype, a.dtype], a.dtype, {}),
      get(acc),
    );
    const tail = withMode(f, null, () => step(acc, sx(f, a.value), false));
    body = [
      set(part, init(true)),
      forLoop(f.v(vecVar), 0, n - (n % 4), 4, vbody, `r${idx}v`),
      set(acc, lanesCombined),
      forLoop(f.v(vecVar), n - (n % 4), n, 1, tail, `r${idx}t`),
    ].join('\n');
  } else {
    body = step(acc, sx(f, a.value), spaceVec);
  }
  for (let i = inner - (vecVar === ns + inner ? 1 : 0); i >= 0; i--)
    body = forLoop(f.v(ns + i), 0, red[i]!, 1, body, `r${idx}_${i}`);
  parts.push(body);
  f.accs.set(a.name, { local: acc, dtype: a.dtype, vector: spaceVec });
  return parts.join('\n');
}

/** Accumulators, bindings, then stores, at one point of the space (in the function's current mode).
 *  Each binding (a subexpression the stores repeat, compiler/lower/share.ts) is computed once into a local. */
function point(f: Func, k: LoopKernel, vecVar: number | null): string {
  const parts = (k.reduce?.accs ?? []).map((a, i) => accumulate(f, k, a, i, vecVar));
  for (const l of k.lets ?? []) {
    const vector = f.vec !== null;
    const local = f.tmp(vector ? 'v128' : l.dtype === 'f32' ? 'f32' : 'i32');
    parts.push(set(local, sx(f, l.value)));
    f.accs.set(l.name, { local, dtype: l.dtype, vector });
  }
  for (const s of k.stores) parts.push(store(f, s.buf, s.at, sx(f, s.value), s.combine, s.guard));
  return parts.join('\n');
}

/** The loops over space variables from..rank-1 around the points; at `spec`, one copy of the inner loops
 *  per value of that variable, specialized (ir/specialize.ts). The loop over `split` runs this thread's share. */
function nest(
  f: Func,
  k: LoopKernel,
  vecVar: number | null,
  from: number,
  spec: number | null,
  split: number | null,
): string {
  const ns = k.space.length;
  if (from === spec) {
    const dtypeOfBuf = (b: string) => f.buf(b).dtype;
    return [...Array(k.space[spec]!).keys()]
      .map(
        (c) =>
          `${set(f.v(spec), i32c(c))}\n${nest(f, specialize(k, spec, c, dtypeOfBuf), vecVar, from + 1, null, split)}`,
      )
      .join('\n');
  }
  if (from >= ns) return withMode(f, null, () => point(f, k, vecVar));
  if (from === ns - 1) {
    const n = k.space[ns - 1]!;
    if (vecVar === ns - 1) {
      const vbody = withMode(f, vecVar, () => point(f, k, vecVar));
      const tbody = withMode(f, null, () => point(f, k, null));
      const at = vecVar === split;
      return (
        splitLoop(f, at, f.v(vecVar), 0, n - (n % 4), 4, vbody, 'sv') +
        '\n' +
        splitLoop(f, at, f.v(vecVar), n - (n % 4), n, 1, tbody, 'st')
      );
    }
    return splitLoop(
      f,
      ns - 1 === split,
      f.v(ns - 1),
      0,
      n,
      1,
      withMode(f, null, () => point(f, k, vecVar)),
      `s${ns - 1}`,
    );
  }
  const v = f.v(from);
  return splitLoop(f, from === split, v, 0, k.space[from]!, 1, nest(f, k, vecVar, from + 1, spec, split), `s${from}`);
}

/** The space variable a threaded build splits: the outermost of more than one value (not a specialized
 *  one); null for a scatter, or a kernel without such a variable (it runs on the first thread). */
export function splitVar(k: LoopKernel): number | null {
  if (k.stores.some((s) => s.combine === 'sum')) return null;
  const vecVar = chooseVector(k);
  const spec = k.specialize !== undefined && k.specialize !== vecVar ? k.specialize : null;
  const at = k.space.findIndex((d, v) => d > 1 && v !== spec);
  return at < 0 ? null : at;
}

export function renderLoop(
  k: LoopKernel,
  name: string,
  bufs: ReadonlyMap<string, BufInfo>,
  relaxed: boolean,
  threads = false,
): string {
  const f = new Func(name, bufs, relaxed, threads);
  if (k.space.some((d) => d === 0)) return f.render('');
  const vecVar = chooseVector(k);
  // a scatter ('sum' stores) adds into its zeroed buffers
  const zero = [...new Set(k.stores.filter((s) => s.combine === 'sum').map((s) => s.buf))].map((b) => {
    const info = f.buf(b);
    return `(memory.fill ${i32c(info.offset)} (i32.const 0) ${i32c(info.size * 4)})`;
  });
  const spec = k.specialize !== undefined && k.specialize !== vecVar ? k.specialize : null;
  const split = splitVar(k);
  const body = [...zero, nest(f, k, vecVar, 0, spec, split)].join('\n');
  return f.render(split === null ? firstThread(f, body) : body);
}
