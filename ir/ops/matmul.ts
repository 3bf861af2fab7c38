// matmul: batched matrix product with numpy broadcasting of the batch dimensions.
//   result[...batch, i, j] = sum_k opA(a)[...batch, i, k] * opB(b)[...batch, k, j]
// where opA transposes the last two axes of a when `transpose_a` is set (likewise for b).
import { fail } from '../errors.ts';
import type { Attrs, Value } from '../graph.ts';
import {
  allocData,
  formatType,
  sameShape,
  stridesOf,
  tensorType,
  type Shape,
  type Tensor,
  type TensorType,
} from '../types.ts';
import type { Emit, EvalContext, OpDef, VjpArgs } from './def.ts';
import { bool, broadcastShapes, requireDType, unbroadcast } from './util.ts';

/** The [rows, cols] of a matrix operand as the product sees it (after its transpose flag). */
function matrixDims(t: TensorType, transposed: boolean): [number, number] {
  const r = t.shape[t.shape.length - 2]!;
  const c = t.shape[t.shape.length - 1]!;
  return transposed ? [c, r] : [r, c];
}

function inferMatmul([a, b]: readonly TensorType[], attrs: Attrs): TensorType {
  const ta = a!,
    tb = b!;
  const pair = `${formatType(ta)} x ${formatType(tb)}`;
  for (const t of [ta, tb]) {
    requireDType('matmul', t, ['f32']);
    if (t.shape.length < 2) {
      fail('K1001', `matmul: operands ${pair} must both have rank >= 2; reshape a vector to [1,n] or [n,1]`);
    }
  }
  const [m, ka] = matrixDims(ta, bool(attrs, 'transpose_a'));
  const [kb, n] = matrixDims(tb, bool(attrs, 'transpose_b'));
  if (ka !== kb) {
    fail(
      'K1001',
      `matmul: inner dimensions differ: ${pair} (${ka} vs ${kb}); the columns of a must equal the rows of b (after transpose_a/transpose_b)`,
    );
  }
  const batch = broadcastShapes(`matmul: batch dimensions of ${pair}`, ta.shape.slice(0, -2), tb.shape.slice(0, -2));
  return tensorType('f32', [...batch, m, n]);
}

/** Flat offset of the matrix that batch index `idx` (of the broadcast batch shape) reads in an operand with batch shape `own`. */
function batchOffset(idx: readonly number[], own: Shape, matrixSize: number): number {
  const lead = idx.length - own.length;
  const strides = stridesOf(own);
  let off = 0;
  own.forEach((d, i) => {
    off += (d === 1 ? 0 : idx[lead + i]!) * strides[i]!;
  });
  return off * matrixSize;
}

function evalMatmul([a, b]: readonly Tensor[], attrs: Attrs, out: TensorType, ctx: EvalContext): Tensor {
  const ta = bool(attrs, 'transpose_a'),
    tb = bool(attrs, 'transpose_b');
  const ash = a!.type.shape,
    bsh = b!.type.shape;
  const [m, k] = matrixDims(a!.type, ta);
  const n = out.shape[out.shape.length - 1]!;
  const aCols = ash[ash.length - 1]!,
    bCols = bsh[bsh.length - 1]!;
  const batch = out.shape.slice(0, -2);
  const batchStrides = stridesOf(batch);
  const batches = batch.reduce((p, d) => p * d, 1);
  const y = allocData(out, ctx.float64);
  for (let bi = 0; bi < batches; bi++) {
    const idx = batchStrides.map((s, i) => Math.floor(bi / s) % batch[i]!);
    const aOff = batchOffset(idx, ash.slice(0, -2), m * k);
    const bOff = batchOffset(idx, bsh.slice(0, -2), k * n);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) {
          const av = a!.data[aOff + (ta ? p * aCols + i : i * aCols + p)]!;
          const bv = b!.data[bOff + (tb ? j * bCols + p : p * bCols + j)]!;
          s += av * bv;
        }
        y[bi * m * n + i * n + j] = s;
      }
    }
  }
  return { type: out, data: y };
}

/** C = opA(A) opB(B):  dA = g opB(B)^T (transposed back if A was),  dB = opA(A)^T g (likewise);
 *  batch dimensions that were broadcast are summed away by `unbroadcast`, except for a B shared by
 *  the whole batch (x·W), whose gradient is one GEMM (`sharedRightGrad`). */
function vjpMatmul({ emit, inputs: [a, b], g, attrs }: VjpArgs): Value[] {
  const ta = bool(attrs, 'transpose_a'),
    tb = bool(attrs, 'transpose_b');
  const mm = (x: Value, y: Value, tx: boolean, ty: boolean): Value =>
    emit('matmul', [x, y], { transpose_a: tx, transpose_b: ty });
  const da = ta ? mm(b!, g, tb, true) : mm(g, b!, false, !tb);
  const db = sharedRightGrad(emit, a!, b!, g, ta, tb) ?? (tb ? mm(g, a!, true, ta) : mm(a!, g, !ta, false));
  return [unbroadcast(emit, da, a!.type.shape), unbroadcast(emit, db, b!.type.shape)];
}

/** dB when B's batch dims are all broadcast and A (untransposed) has g's batch dims: the sum over
 *  the batch of A_b^T g_b is one contraction over batch x rows, so
 *  dB = reshape(A, [B*m, k])^T reshape(g, [B*m, n])   (transposed when B is)
 *  instead of B batched GEMMs and a reduction over the batch. Undefined otherwise. (A broadcast A
 *  has no such form: its contraction runs over batch x cols, which are not adjacent in g.) */
function sharedRightGrad(emit: Emit, a: Value, b: Value, g: Value, ta: boolean, tb: boolean): Value | undefined {
  const batch = g.type.shape.slice(0, -2);
  if (ta || batch.length === 0 || !b.type.shape.slice(0, -2).every((d) => d === 1)) return undefined;
  if (!sameShape(a.type.shape.slice(0, -2), batch)) return undefined;
  const [m, k] = matrixDims(a.type, false);
  const n = g.type.shape[g.type.shape.length - 1]!;
  const rows = batch.reduce((p, d) => p * d, m);
  const a2 = emit('reshape', [a], { shape: [rows, k] }),
    g2 = emit('reshape', [g], { shape: [rows, n] });
  return tb ? emit('matmul', [g2, a2], { transpose_a: true }) : emit('matmul', [a2, g2], { transpose_a: true });
}

export const MATMUL = {
  matmul: {
    kind: 'contraction',
    arity: 2,
    attrs: { transpose_a: { kind: 'bool', default: false }, transpose_b: { kind: 'bool', default: false } },
    infer: inferMatmul,
    eval: evalMatmul,
    vjp: vjpMatmul,
    doc: 'batched matrix product [...batch, m, k] x [...batch, k, n] -> [...batch, m, n]; batch dims broadcast; transpose_a/transpose_b flags',
  },
} satisfies Record<string, OpDef>;
