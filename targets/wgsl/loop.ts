// Loop kernels -> WGSL compute shaders. Without a reduction: one invocation per point of the
// iteration space, grid-stride when the points need more than 65,535 workgroups. With a
// reduction: a short one runs serially in each point's invocation; a long one gives each point a
// workgroup whose invocations fold strided slices, then combine them by a tree in workgroup
// memory. Both orders are fixed, so every run gives the same bits. Accumulators run one after the
// other, so a later one may read an earlier one (softmax: max, then the sum of exp(x - max)).
import type { Accumulator, LoopKernel, Store } from '../../ir/kernel.ts';
import { bufsRead, indexReadsOf, indexVarsOf, loopExprs, visitSExpr, type LoadExpr } from '../../ir/kernel-walk.ts';
import { vec4Run } from '../../ir/iexpr.ts';
import type { DType } from '../../ir/types.ts';
import { specialize } from '../../ir/specialize.ts';
import { castTo, combineInit, combineStep, dtypeOf, fromBits, iexpr, Scope, sexpr, toBits, WGSL_TYPE } from './expr.ts';
import type { RenderedKernel } from './index.ts';

export const LOOP_WORKGROUP = 64;
/** Invocations of a reduction's workgroup (a power of two). */
export const REDUCE_WORKGROUP = 128;
export const MAX_GROUPS = 65535;

const prod = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);

/** `let v{first+d} = ...;` for each axis of `extents`, from the row-major position `flat`. */
function unflatten(extents: readonly number[], first: number, flat: string): string {
  const lines: string[] = [];
  let stride = prod(extents);
  extents.forEach((e, d) => {
    stride /= e;
    const q = stride === 1 ? flat : `(${flat} / ${stride}i)`;
    lines.push(`let v${first + d} = ${d === 0 ? q : `${q} % ${e}i`};`);
  });
  return lines.join(' ');
}

const INIT = { argmax: (d: DType): string => combineInit('max', d) } as Record<
  Accumulator['combine'],
  (d: DType) => string
>;
for (const c of ['sum', 'max', 'min', 'first_max'] as const) INIT[c] = (d) => combineInit(c, d);
const combine = combineStep;

interface Ctx {
  readonly s: Scope;
  readonly k: LoopKernel;
  readonly n: number;
  readonly r: number;
  readonly lines: string[];
  /** Where a store's bits go instead of its element (a vec4 loop kernel's lane of a vec4 store). */
  readonly laneStore?: (st: Store) => string | undefined;
}

/** The value an accumulator folds, and its dtype, at reduction position `pos`. */
function foldValue(c: Ctx, a: Accumulator, pos: string): { pre: string; x: string; t: DType } {
  const x = sexpr(c.s, a.value);
  return { pre: `${unflatten(c.k.reduce!.extents, c.n, pos)} ${c.s.takePre()}`, x, t: dtypeOf(c.s, a.value) };
}

/** Every point's invocation folds the whole reduction in order (the interpreter's order). */
function serialAcc(c: Ctx, a: Accumulator, i: number): void {
  const { pre, x, t } = foldValue(c, a, 'r');
  const T = WGSL_TYPE[t];
  if (a.combine === 'argmax') {
    c.lines.push(
      `var b${i}: ${T} = ${INIT.argmax(t)}; var a${i} = 0i; var seen${i} = false;`,
      `for (var r = 0i; r < ${c.r}i; r++) { ${pre} let x = ${x}; if (!seen${i} || x > b${i}) { seen${i} = x == x; b${i} = x; a${i} = r; } }`,
    );
  } else {
    c.lines.push(
      `var a${i}: ${T} = ${INIT[a.combine](t)};`,
      `for (var r = 0i; r < ${c.r}i; r++) { ${pre} a${i} = ${combine(a.combine, `a${i}`, x)}; }`,
    );
  }
  c.s.named.set(a.name, { wgsl: castTo(a.combine === 'argmax' ? 'i32' : t, a.dtype, `a${i}`), dtype: a.dtype });
}

/** The point's workgroup folds strided slices, then a tree in workgroup memory combines them. */
function workgroupAcc(c: Ctx, a: Accumulator, i: number, shared: Set<string>): void {
  const { pre, x, t } = foldValue(c, a, 'r');
  const T = WGSL_TYPE[t],
    W = REDUCE_WORKGROUP;
  const wv = `w_${T}`;
  shared.add(wv);
  if (a.combine === 'argmax') {
    shared.add('w_idx');
    c.lines.push(
      `var b${i}: ${T} = ${INIT.argmax(t)}; var a${i} = ${c.r}i;`,
      `for (var r = t; r < ${c.r}i; r += ${W}i) { ${pre} let x = ${x}; if (a${i} == ${c.r}i || x > b${i}) { b${i} = x; a${i} = r; } }`,
      `${wv}[lid] = b${i}; w_idx[lid] = a${i};`,
      'workgroupBarrier();',
      `for (var h = ${W / 2}u; h > 0u; h >>= 1u) {`,
      `  if (lid < h) { let bi = w_idx[lid + h]; let ai = w_idx[lid]; let bv = ${wv}[lid + h]; let av = ${wv}[lid];`,
      `    if (bi < ${c.r}i && (ai >= ${c.r}i || bv > av || (bv == av && bi < ai))) { ${wv}[lid] = bv; w_idx[lid] = bi; } }`,
      '  workgroupBarrier();',
      '}',
      `let r${i} = w_idx[0];`,
    );
  } else {
    c.lines.push(
      `var a${i}: ${T} = ${INIT[a.combine](t)};`,
      `for (var r = t; r < ${c.r}i; r += ${W}i) { ${pre} a${i} = ${combine(a.combine, `a${i}`, x)}; }`,
      `${wv}[lid] = a${i};`,
      'workgroupBarrier();',
      `for (var h = ${W / 2}u; h > 0u; h >>= 1u) { if (lid < h) { ${wv}[lid] = ${combine(a.combine, `${wv}[lid]`, `${wv}[lid + h]`)}; } workgroupBarrier(); }`,
      `let r${i} = ${wv}[0];`,
    );
  }
  c.lines.push('workgroupBarrier();');
  c.s.named.set(a.name, { wgsl: castTo(a.combine === 'argmax' ? 'i32' : t, a.dtype, `r${i}`), dtype: a.dtype });
}

/** The point's bindings and stores. A guarded store (and its value) happens only where its bounds
 *  hold; a 'sum' store adds to the element (the kernel runs serially: renderLoop). */
function pointBody(c: Ctx): void {
  (c.k.lets ?? []).forEach((l, i) => {
    const v = castTo(dtypeOf(c.s, l.value), l.dtype, sexpr(c.s, l.value));
    c.lines.push(`${c.s.takePre()} let l${i}: ${WGSL_TYPE[l.dtype]} = ${v};`);
    c.s.named.set(l.name, { wgsl: `l${i}`, dtype: l.dtype });
  });
  for (const st of c.k.stores) {
    const d = c.s.decl(st.buf).dtype;
    const ref = c.laneStore?.(st) ?? c.s.refAt(st.buf, st.at);
    let value = castTo(dtypeOf(c.s, st.value), d, sexpr(c.s, st.value));
    if (st.combine === 'sum') value = `${fromBits(d, ref)} + ${value}`;
    const store = `${c.s.takePre()} ${ref} = ${toBits(d, value)};`;
    if (!st.guard?.length) c.lines.push(store);
    else
      c.lines.push(
        `if (${st.guard
          .map((g) => {
            const x = iexpr(c.s, g.e);
            return `(${x} >= ${g.lo}i && ${x} < ${g.hi}i)`;
          })
          .join(' && ')}) { ${store} }`,
      );
  }
}

/** A kernel with 'sum' stores (scatter_add) in one invocation: its sum buffers zeroed, then every
 *  point in order, as the interpreter adds (indices may repeat; WGSL has no f32 atomics). */
function renderScatter(c: Ctx, P: number): string {
  const zero = [...new Set(c.k.stores.filter((st) => st.combine === 'sum').map((st) => st.buf))].map(
    (b) => `for (var z = 0i; z < ${c.s.decl(b).size}i; z++) { ${c.s.ref(b, 'z')} = 0u; }`,
  );
  c.lines.push(`let p = p0; ${unflatten(c.k.space, 0, 'p')}`);
  c.k.reduce?.accs.forEach((a, i) => serialAcc(c, a, i));
  pointBody(c);
  return `@compute @workgroup_size(1)
fn main() {
  ${zero.join('\n  ')}
  for (var p0 = 0i; p0 < ${P}i; p0++) {
    ${c.lines.join('\n    ')}
  }
}`;
}

/** A point of `k` (the kernel or a specialized copy) with serial reductions. */
function point(c: Ctx, k: LoopKernel): void {
  const one: Ctx = { ...c, k };
  k.reduce?.accs.forEach((a, i) => serialAcc(one, a, i));
  pointBody(one);
}

/** Whether a reduction gets a workgroup per point (long reductions, or too few points to fill the device serially). */
export function cooperative(k: LoopKernel): boolean {
  const r = prod(k.reduce?.extents ?? []);
  const p = prod(k.space);
  return k.reduce !== undefined && (r >= 256 || (r >= 32 && p < 4096));
}

/** The buffers a store of `k` reads after an earlier store of it wrote them (an optimizer's update
 *  reading the slot it has just stored): a point's loads of them must follow its stores, as they do
 *  lane by lane, not come before the lanes' loop, and its stores to them not after it. */
function rewritten(k: LoopKernel): Set<string> {
  const written = new Set<string>();
  const out = new Set<string>();
  for (const st of k.stores) {
    for (const b of bufsRead(st.value)) if (written.has(b)) out.add(b);
    for (const g of st.guard ?? []) for (const r of indexReadsOf(g.e)) if (written.has(r.buf)) out.add(r.buf);
    written.add(st.buf);
  }
  return out;
}

/** Whether a load or store of a loop kernel moves a vec4 along its innermost variable `v`: unguarded,
 *  reading no other var than the space's, contiguous along `v` (vec4Run), aligned in the arena, and
 *  of no buffer in `narrow` (rewritten). */
function wideAccess(
  s: Scope,
  k: LoopKernel,
  narrow: ReadonlySet<string>,
  a: { buf: string; at: LoadExpr['at']; guard?: readonly unknown[] },
): boolean {
  const v = k.space.length - 1;
  return (
    !a.guard?.length &&
    !narrow.has(a.buf) &&
    [...indexVarsOf(a.at)].every((i) => i <= v) &&
    vec4Run(a.at, v) &&
    s.aligned(a.buf, a.at)
  );
}

/** Whether a loop kernel runs one invocation per vec4 along its innermost space variable: no
 *  reduction, scatter or specialization, that variable a multiple of 4 long, and a load or store
 *  moving a vec4 (wideAccess). */
export function vec4Loop(k: LoopKernel, s: Scope): boolean {
  const n = k.space.length;
  if (!s.vec4 || k.reduce || k.specialize !== undefined || n === 0 || k.space[n - 1]! % 4 !== 0) return false;
  if (k.stores.some((st) => st.combine)) return false;
  const narrow = rewritten(k);
  let wide = k.stores.some((st) => wideAccess(s, k, narrow, st));
  for (const e of loopExprs(k))
    visitSExpr(e, { sexpr: (x) => void (wide ||= x.k === 'load' && wideAccess(s, k, narrow, x)) });
  return wide;
}

/** One invocation per 4 points along the innermost variable: its vec4 loads (wideAccess) before a loop
 *  over the 4 lanes, which reads their components and renders the rest of the point as one point
 *  does; its vec4 stores gather the lanes' bits and go after the loop. */
function renderVec4(c: Ctx, P: number): string {
  const { s, k } = c;
  const v = k.space.length - 1;
  s.wide = true;
  const before: string[] = [];
  const after: string[] = [];
  const loads = new Map<string, string>();
  const narrow = rewritten(k);
  s.load = (e) => {
    if (!wideAccess(s, k, narrow, e)) return undefined;
    const key = `${e.buf}:${JSON.stringify(e.at)}`;
    let h = loads.get(key);
    if (h === undefined) {
      loads.set(key, (h = `h${loads.size}`));
      before.push(`let ${h} = ${s.vec4Ref(e.buf, e.at)};`);
    }
    return fromBits(s.decl(e.buf).dtype, `${h}[j]`);
  };
  const lanes: Ctx = {
    ...c,
    laneStore: (st) => {
      if (!wideAccess(s, k, narrow, st)) return undefined;
      const o = `o${after.length}`;
      before.push(`var ${o}: vec4<u32>;`);
      after.push(`${s.vec4Ref(st.buf, st.at)} = ${o};`);
      return `${o}[j]`;
    },
  };
  pointBody(lanes);
  s.load = undefined;
  return `@compute @workgroup_size(${LOOP_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let step = i32(nwg.x) * ${LOOP_WORKGROUP}i;
  for (var p0 = i32(gid.x); p0 < ${P / 4}i; p0 += step) {
    let p = p0 * 4i; ${unflatten(k.space, 0, 'p')} let vb = v${v};
    ${before.join('\n    ')}
    for (var j = 0i; j < 4i; j++) {
      let v${v} = vb + j;
      ${c.lines.join('\n      ')}
    }
    ${after.join('\n    ')}
  }
}`;
}

export function renderLoop(k: LoopKernel, s: Scope): RenderedKernel {
  const n = k.space.length;
  const P = prod(k.space);
  const c: Ctx = { s, k, n, r: prod(k.reduce?.extents ?? []), lines: [] };
  const head = `let p = p0; ${unflatten(k.space, 0, 'p')}`;
  let main: string, groups: number;
  const shared = new Set<string>();
  if (k.stores.some((st) => st.combine === 'sum')) {
    main = renderScatter(c, P);
    groups = 1;
  } else if (vec4Loop(k, s)) {
    main = renderVec4(c, P);
    groups = Math.min(MAX_GROUPS, Math.max(1, Math.ceil(P / 4 / LOOP_WORKGROUP)));
  } else if (!cooperative(k)) {
    c.lines.push(head);
    if (k.specialize === undefined) point(c, k);
    else {
      // one case per value of the specialized variable, its guards folded (ir/specialize.ts): a sum
      // of 50 guarded loads (an RNN's stacked steps) becomes one load per case
      const v = k.specialize;
      const cases = Array.from({ length: k.space[v]! }, (_, x) => {
        const one: Ctx = { ...c, lines: [] };
        point(
          one,
          specialize(k, v, x, (b) => s.decl(b).dtype),
        );
        return `case ${x}i: { ${one.lines.join(' ')} }`;
      });
      c.lines.push(`switch v${v} { ${cases.join('\n    ')}\n    default: {} }`);
    }
    groups = Math.min(MAX_GROUPS, Math.max(1, Math.ceil(P / LOOP_WORKGROUP)));
    main = `@compute @workgroup_size(${LOOP_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let step = i32(nwg.x) * ${LOOP_WORKGROUP}i;
  for (var p0 = i32(gid.x); p0 < ${P}i; p0 += step) {
    ${c.lines.join('\n    ')}
  }
}`;
  } else {
    c.lines.push(head);
    k.reduce!.accs.forEach((a, i) => workgroupAcc(c, a, i, shared));
    const body = c.lines.splice(0);
    pointBody(c);
    groups = Math.min(MAX_GROUPS, P);
    const decls = [...shared]
      .map((w) => `var<workgroup> ${w}: array<${w === 'w_idx' ? 'i32' : w.slice(2)}, ${REDUCE_WORKGROUP}>;`)
      .join('\n');
    main = `${decls}
@compute @workgroup_size(${REDUCE_WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = i32(lid);
  for (var p0 = i32(wid.x); p0 < ${P}i; p0 += i32(nwg.x)) {
    ${body.join('\n    ')}
    if (lid == 0u) {
      ${c.lines.join('\n      ')}
    }
    workgroupBarrier();
  }
}`;
  }
  return {
    name: k.name,
    code: `${s.bindings()}\n${s.helperCode()}\n${main}\n`,
    dispatch: [groups, 1, 1],
    chunks: [...s.slots.keys()],
    offsets: s.offsets(),
  };
}
