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
import type { ContractionKernel, Operand } from '../../ir/kernel.ts';
import { Scope, sexpr, toBits, castTo, dtypeOf } from './expr.ts';
import type { RenderedKernel } from './index.ts';
import { LOOP_WORKGROUP, MAX_GROUPS } from './loop.ts';

export const TILE = 64;
export const KSLICE = 16;
const LANES = 16; // invocations per tile side: TILE / 4

/** The f32 element of an operand at coordinates (batch..., row, col), each an i32 WGSL expression. */
export type OperandLoad = (s: Scope, batch: readonly string[], row: string, col: string) => string;

/** An operand's element: `at` (and its guards, 0 where one fails) with the operand's vars
 *  (batch..., row sub-coordinates..., column sub-coordinates...) split from (batch..., row, col). */
export function operandLoad(op: Operand): OperandLoad {
  const split = (flat: string, extents: readonly number[]): string[] => {
    let stride = prod(extents);
    return extents.map((e, d) => {
      stride /= e;
      const q = stride === 1 ? flat : `(${flat} / ${stride}i)`;
      return d === 0 ? q : `(${q} % ${e}i)`;
    });
  };
  return (s, batch, row, col) => {
    const vars = [...batch, ...split(row, op.rows), ...split(col, op.cols)];
    const outer = s.vars;
    s.vars = (i) =>
      vars[i] ??
      fail('K6001', `wgsl: kernel ${s.kernel}: operand of ${op.buf} reads var ${i}, beyond its ${vars.length}`);
    try {
      return sexpr(
        s,
        op.guard ? { k: 'load', buf: op.buf, at: op.at, guard: op.guard } : { k: 'load', buf: op.buf, at: op.at },
      );
    } finally {
      s.vars = outer;
    }
  };
}

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
  };
}

const prod = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);

/** Below this many outputs per batch element a contraction renders as one invocation per output
 *  with a serial K loop: the tiled template wastes most of a 64x64 tile on it, and SwiftShader takes
 *  seconds to compile the template (about 50 ms for the loop). */
export const TILED_MIN_OUTPUTS = 64 * 64;

export function renderContraction(c: Contraction, s: Scope): RenderedKernel {
  return c.m * c.n < TILED_MIN_OUTPUTS ? renderDirect(c, s) : renderTiled(c, s);
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

function renderTiled(c: Contraction, s: Scope): RenderedKernel {
  const nb = c.batch.length;
  const B = prod(c.batch);
  const batchVars = c.batch.map((_, d) => `v${d}`);
  const guard = (conds: string[]): string => (conds.length ? conds.join(' && ') : '');
  const guarded = (load: string, conds: string[]): string =>
    conds.length ? `select(0.0f, ${load}, ${guard(conds)})` : load;
  const aConds = [...(c.m % TILE ? ['gi < M'] : []), ...(c.k % KSLICE ? ['gk < K'] : [])];
  const bConds = [...(c.k % KSLICE ? ['gk < K'] : []), ...(c.n % TILE ? ['gj < N'] : [])];
  const loadA = guarded(c.a(s, batchVars, 'gi', 'gk'), aConds);
  const loadB = guarded(c.b(s, batchVars, 'gk', 'gj'), bConds);
  const store = storeOut(c, s);
  const outConds = [...(c.m % TILE ? [`v${nb} < M`] : []), ...(c.n % TILE ? [`v${nb + 1} < N`] : [])];
  const per = (TILE * KSLICE) / (LANES * LANES);
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
      for (var q = 0i; q < ${per}i; q++) {
        let e = tid + q * ${LANES * LANES}i;
        {
          let rr = e / ${KSLICE}i; let kk = e % ${KSLICE}i; let gi = row0 + rr; let gk = k0 + kk;
          As[kk * ${TILE}i + rr] = ${loadA};
        }
        {
          let kk = e / ${TILE}i; let cc = e % ${TILE}i; let gk = k0 + kk; let gj = col0 + cc;
          Bs[kk * ${TILE}i + cc] = ${loadB};
        }
      }
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
