// Contraction kernels -> a workgroup-tiled GEMM: each workgroup computes a 64x64 tile of
// C[b, i, j] = epilogue(sum_p A[b, i, p] B[b, p, j]); its 16x16 invocations stage a 16-deep K slice
// of A and B in workgroup memory, then each accumulates a 4x4 register tile (four vec4 rows,
// rows ty + 16 u and columns tx + 16 w, so neighbouring invocations read neighbouring words).
// Operands are read through `OperandLoad`: a function from (batch..., row, col) coordinates to an
// f32 WGSL expression, so any index expression over the operand's buffer (a strided view, a
// convolution's implicit im2col with its padding guards) renders through the same template. Bounds
// guards appear only for a dimension that is not a multiple of its tile. Small contractions render as
// one invocation per output instead (renderDirect).
import { fail } from '../../ir/errors.ts';
import type { ContractionKernel, Operand, SExpr } from '../../ir/kernel.ts';
import { vec4Run } from '../../ir/iexpr.ts';
import { Scope, sexpr, toBits, castTo, dtypeOf } from './expr.ts';
import type { RenderedKernel } from './index.ts';
import { LOOP_WORKGROUP, MAX_GROUPS } from './loop.ts';

export const TILE = 64;
export const KSLICE = 16;
const LANES = 16; // invocations per tile side: TILE / 4

/** The f32 element of an operand at coordinates (batch..., row, col), each an i32 WGSL expression. */
export type OperandLoad = (s: Scope, batch: readonly string[], row: string, col: string) => string;

/** Runs `f` with the operand's vars (batch..., row sub-coordinates..., column sub-coordinates...)
 *  split from (batch..., row, col). */
function withVars<T>(op: Operand, s: Scope, batch: readonly string[], row: string, col: string, f: () => T): T {
  const split = (flat: string, extents: readonly number[]): string[] => {
    let stride = prod(extents);
    return extents.map((e, d) => {
      stride /= e;
      const q = stride === 1 ? flat : `(${flat} / ${stride}i)`;
      return d === 0 ? q : `(${q} % ${e}i)`;
    });
  };
  const vars = [...batch, ...split(row, op.rows), ...split(col, op.cols)];
  const outer = s.vars;
  s.vars = (i) =>
    vars[i] ??
    fail('K6001', `wgsl: kernel ${s.kernel}: operand of ${op.buf} reads var ${i}, beyond its ${vars.length}`);
  try {
    return f();
  } finally {
    s.vars = outer;
  }
}

/** An operand's element: `at` (and its guards, 0 where one fails). */
export function operandLoad(op: Operand): OperandLoad {
  const load: SExpr = op.guard
    ? { k: 'load', buf: op.buf, at: op.at, guard: op.guard }
    : { k: 'load', buf: op.buf, at: op.at };
  return (s, batch, row, col) => withVars(op, s, batch, row, col, () => sexpr(s, load));
}

/** The operand's four elements from (batch..., row, col) along its vec4 axis, as one vec4f. */
const operandLoad4 =
  (op: Operand): OperandLoad =>
  (s, batch, row, col) =>
    withVars(op, s, batch, row, col, () => s.vec4At(op.buf, op.at));

/** The operand's axis along which its tile loads by vec4: one where it is contiguous (its last
 *  sub-coordinate of that axis a multiple of 4 long and of stride 1, every other stride a multiple of
 *  4: vec4Run), unguarded, and aligned (its place in the arena plus its index's constant a multiple of
 *  4 words, known here from the memory plan, so no run-time test); `order` says which axis to try
 *  first. Undefined: scalar loads. */
export function vec4Axis(op: Operand, nb: number, s: Scope, order: readonly Axis[]): Axis | undefined {
  if (op.guard?.length || !s.aligned(op.buf, op.at)) return undefined;
  return order.find((ax) => {
    const e = op[ax];
    const v = nb + op.rows.length - 1 + (ax === 'cols' ? op.cols.length : 0);
    return e[e.length - 1]! % 4 === 0 && vec4Run(op.at, v);
  });
}
type Axis = 'rows' | 'cols';

export interface Contraction {
  readonly name: string;
  readonly batch: readonly number[];
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly a: OperandLoad;
  readonly b: OperandLoad;
  readonly out: string;
  readonly epilogue?: ContractionKernel['epilogue'];
  /** The operands themselves, for vec4 loads (vec4Axis); without them, scalar loads. */
  readonly operands?: readonly [Operand, Operand];
}

export function contraction(k: ContractionKernel): Contraction {
  return {
    name: k.name,
    batch: k.batch,
    m: k.m,
    n: k.n,
    k: k.k,
    a: operandLoad(k.a),
    b: operandLoad(k.b),
    out: k.out,
    epilogue: k.epilogue,
    operands: [k.a, k.b],
  };
}

const prod = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);

/** Below this many outputs per batch element a contraction renders as one invocation per output
 *  with a serial K loop: the tiled template wastes most of a 64x64 tile on it, and SwiftShader takes
 *  seconds to compile the template (about 50 ms for the loop). So does one shorter than a K slice (a
 *  first convolution over one channel, K = 9): a tile would stage one partial slice; measured on
 *  SwiftShader, the MNIST CNN's first conv at batch 64 took 2,666 ms tiled and 406 ms direct. */
export const TILED_MIN_OUTPUTS = 64 * 64;

export function renderContraction(c: Contraction, s: Scope): RenderedKernel {
  return c.m * c.n < TILED_MIN_OUTPUTS || c.k < KSLICE ? renderDirect(c, s) : renderTiled(c, s);
}

/** The epilogue's value at output (batch vars, v{nb}, v{nb+1}) with the dot product in `dot`, and its store. */
function storeOut(c: Contraction, s: Scope): string {
  const nb = c.batch.length;
  s.named.set('dot', { wgsl: 'dot', dtype: 'f32' });
  const d = s.decl(c.out).dtype;
  const value = c.epilogue ? castTo(dtypeOf(s, c.epilogue), d, sexpr(s, c.epilogue)) : castTo('f32', d, 'dot');
  return `${s.takePre()} ${s.ref(c.out, `bz * ${c.m * c.n}i + v${nb} * ${c.n}i + v${nb + 1}`)} = ${toBits(d, value)};`;
}

/** `let v{d} = ...;` for the batch coordinates of the flat batch index `bz`. */
function unbatch(c: Contraction): string {
  return c.batch
    .map((e, d) => {
      const inner = prod(c.batch.slice(d + 1));
      const q = inner === 1 ? 'bz' : `(bz / ${inner}i)`;
      return `let v${d} = ${d === 0 ? q : `${q} % ${e}i`};`;
    })
    .join(' ');
}

function renderDirect(c: Contraction, s: Scope): RenderedKernel {
  const nb = c.batch.length;
  const B = prod(c.batch);
  const total = B * c.m * c.n;
  const batchVars = c.batch.map((_, d) => `v${d}`);
  const a = c.a(s, batchVars, `v${nb}`, 'p'),
    b = c.b(s, batchVars, 'p', `v${nb + 1}`);
  const store = storeOut(c, s);
  const code = `${s.bindings()}
${s.helperCode()}
@compute @workgroup_size(${LOOP_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let step = i32(nwg.x) * ${LOOP_WORKGROUP}i;
  for (var q = i32(gid.x); q < ${total}i; q += step) {
    let bz = q / ${c.m * c.n}i; let v${nb} = (q / ${c.n}i) % ${c.m}i; let v${nb + 1} = q % ${c.n}i;
    ${unbatch(c)}
    var dot = 0.0f;
    for (var p = 0i; p < ${c.k}i; p++) { dot = dot + ${a} * ${b}; }
    ${store}
  }
}
`;
  return {
    name: c.name,
    code,
    dispatch: [Math.min(MAX_GROUPS, Math.max(1, Math.ceil(total / LOOP_WORKGROUP))), 1, 1],
    chunks: [...s.slots.keys()],
    offsets: s.offsets(),
  };
}

/** One operand's K-slice tile into workgroup memory `S` ([kk][TILE], its TILE axis `gt`, origin
 *  `t0`). Scalars: four per invocation, `kFast` (A: neighbouring invocations along k, as row-major A
 *  lies) or along the tile axis. A vec4 along the tile axis or along k: one per invocation. `load`
 *  reads at (gt, gk) and `conds` guard it (a vec4 starts at a multiple of 4 of an extent that is one). */
function tileLoad(
  S: string,
  t0: string,
  along: 't' | 'k' | undefined,
  kFast: boolean,
  load: string,
  conds: string[],
): string {
  const at = `let gt = ${t0} + t; let gk = k0 + kk;`;
  const v = conds.length ? `select(vec4f(0.0f), ${load}, ${conds.join(' && ')})` : load;
  if (along === 't')
    return `{ let kk = tid / ${LANES}i; let t = (tid % ${LANES}i) * 4i; ${at} let x = ${v};
        for (var j = 0i; j < 4i; j++) { ${S}[kk * ${TILE}i + t + j] = x[j]; } }`;
  if (along === 'k')
    return `{ let t = tid / 4i; let kk = (tid % 4i) * 4i; ${at} let x = ${v};
        for (var j = 0i; j < 4i; j++) { ${S}[(kk + j) * ${TILE}i + t] = x[j]; } }`;
  const x = conds.length ? `select(0.0f, ${load}, ${conds.join(' && ')})` : load;
  const split = kFast
    ? `let t = e / ${KSLICE}i; let kk = e % ${KSLICE}i;`
    : `let kk = e / ${TILE}i; let t = e % ${TILE}i;`;
  return `for (var q = 0i; q < ${(TILE * KSLICE) / (LANES * LANES)}i; q++) {
        let e = tid + q * ${LANES * LANES}i; ${split} ${at}
        ${S}[kk * ${TILE}i + t] = ${x};
      }`;
}

function renderTiled(c: Contraction, s: Scope): RenderedKernel {
  const nb = c.batch.length;
  const B = prod(c.batch);
  const batchVars = c.batch.map((_, d) => `v${d}`);
  const guard = (conds: string[]): string => (conds.length ? conds.join(' && ') : '');
  // A's tile axis is its rows, B's its columns; a vec4 along the tile axis first
  const [wa, wb] =
    s.vec4 && c.operands
      ? [vec4Axis(c.operands[0], nb, s, ['rows', 'cols']), vec4Axis(c.operands[1], nb, s, ['cols', 'rows'])]
      : [undefined, undefined];
  s.wide = wa !== undefined || wb !== undefined;
  const along = (w: Axis | undefined, tileAxis: Axis): 't' | 'k' | undefined =>
    w === undefined ? undefined : w === tileAxis ? 't' : 'k';
  const kGuard = c.k % KSLICE ? ['gk < K'] : [];
  const loadA = tileLoad(
    'As',
    'row0',
    along(wa, 'rows'),
    true,
    (wa ? operandLoad4(c.operands![0]) : c.a)(s, batchVars, 'gt', 'gk'),
    [...(c.m % TILE ? ['gt < M'] : []), ...kGuard],
  );
  const loadB = tileLoad(
    'Bs',
    'col0',
    along(wb, 'cols'),
    false,
    (wb ? operandLoad4(c.operands![1]) : c.b)(s, batchVars, 'gk', 'gt'),
    [...kGuard, ...(c.n % TILE ? ['gt < N'] : [])],
  );
  const store = storeOut(c, s);
  const outConds = [...(c.m % TILE ? [`v${nb} < M`] : []), ...(c.n % TILE ? [`v${nb + 1} < N`] : [])];
  const code = `${s.bindings()}
${s.helperCode()}
const M = ${c.m}i;
const N = ${c.n}i;
const K = ${c.k}i;
var<workgroup> As: array<f32, ${TILE * KSLICE}>;
var<workgroup> Bs: array<f32, ${TILE * KSLICE}>;
@compute @workgroup_size(${LANES}, ${LANES})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) l: vec3u, @builtin(local_invocation_index) li: u32) {
  let tx = i32(l.x);
  let ty = i32(l.y);
  let tid = i32(li);
  let row0 = i32(wg.y) * ${TILE}i;
  let col0 = i32(wg.x) * ${TILE}i;
  for (var bz = i32(wg.z); bz < ${B}i; bz += i32(nwg.z)) {
    ${unbatch(c)}
    var acc: array<vec4f, 4>;
    for (var k0 = 0i; k0 < K; k0 += ${KSLICE}i) {
      ${loadA}
      ${loadB}
      workgroupBarrier();
      for (var kk = 0i; kk < ${KSLICE}i; kk++) {
        let o = kk * ${TILE}i;
        let bv = vec4f(Bs[o + tx], Bs[o + tx + 16i], Bs[o + tx + 32i], Bs[o + tx + 48i]);
        acc[0] += As[o + ty] * bv;
        acc[1] += As[o + ty + 16i] * bv;
        acc[2] += As[o + ty + 32i] * bv;
        acc[3] += As[o + ty + 48i] * bv;
      }
      workgroupBarrier();
    }
    for (var u = 0i; u < 4i; u++) {
      for (var w = 0i; w < 4i; w++) {
        let v${nb} = row0 + ty + 16i * u;
        let v${nb + 1} = col0 + tx + 16i * w;
        let dot = acc[u][w];
        ${outConds.length ? `if (${guard(outConds)}) { ${store} }` : store}
      }
    }
  }
}
`;
  const dispatch: [number, number, number] = [Math.ceil(c.n / TILE), Math.ceil(c.m / TILE), Math.min(MAX_GROUPS, B)];
  if (dispatch[0] > MAX_GROUPS || dispatch[1] > MAX_GROUPS)
    fail('K6001', `wgsl: ${c.name}: a ${c.m}x${c.n} contraction needs more than ${MAX_GROUPS} tiles along one side`);
  return { name: c.name, code, dispatch, chunks: [...s.slots.keys()], offsets: s.offsets() };
}
