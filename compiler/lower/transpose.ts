// A Kernel IR pass: a contraction operand read through a transposed view (its columns not contiguous)
// that several contractions of an entry read alike, from a buffer no kernel writes between them, is
// copied once, before the first of them, into a row-major temp that they read instead. An unrolled
// recurrence's gradient multiplies every step's cotangent by the transposed recurrent kernel
// (dz_t · Uᵀ): one copy of Uᵀ instead of a transposing gather in each of its steps.
import { affineExpr, viewOf } from '../../ir/contraction.ts';
import { buffersWritten } from '../../ir/kernel-walk.ts';
import type { ContractionKernel, EntryPoint, Kernel, Operand, UnplannedProgram } from '../../ir/kernel.ts';

/** Hoist an operand read by at least this many contractions. */
const MIN_READERS = 2;

type Side = 'a' | 'b';

/** The key of an operand worth copying (a plain matrix whose columns are strided), or undefined. */
function transposedKey(k: ContractionKernel, side: Side): string | undefined {
  const op = k[side];
  if (k.batch.length || op.rows.length !== 1 || op.cols.length !== 1) return undefined;
  const v = viewOf(op, 0);
  if (!v || v.strides[1] === 1 || op.rows[0]! < 2 || op.cols[0]! < 2) return undefined;
  return JSON.stringify([op.buf, op.rows, op.cols, op.at]);
}

function hoistEntry(e: EntryPoint, addTemp: (of: string, size: number) => string): EntryPoint {
  const readers = new Map<string, { kernel: number; side: Side }[]>();
  e.kernels.forEach((k, i) => {
    if (k.kind !== 'contraction') return;
    for (const side of ['a', 'b'] as const) {
      const key = transposedKey(k, side);
      if (key) readers.set(key, [...(readers.get(key) ?? []), { kernel: i, side }]);
    }
  });
  const replaced = new Map<number, Partial<Record<Side, Operand>>>();
  const before = new Map<number, Kernel[]>();
  for (const rs of readers.values()) {
    const first = rs[0]!,
      last = rs[rs.length - 1]!;
    const op = (e.kernels[first.kernel] as ContractionKernel)[first.side];
    const written = e.kernels.slice(first.kernel, last.kernel + 1).some((k) => buffersWritten(k).has(op.buf));
    if (rs.length < MIN_READERS || written) continue;
    const [rows, cols] = [op.rows[0]!, op.cols[0]!];
    const buf = addTemp(op.buf, rows * cols);
    const at = affineExpr(0, [cols, 1]);
    const copy: Kernel = {
      kind: 'loop',
      name: `${e.kernels[first.kernel]!.name}_t${first.side}`,
      space: [rows, cols],
      stores: [{ buf, at, value: { k: 'load', buf: op.buf, at: op.at } }],
    };
    before.set(first.kernel, [...(before.get(first.kernel) ?? []), copy]);
    for (const r of rs)
      replaced.set(r.kernel, { ...replaced.get(r.kernel), [r.side]: { buf, rows: [rows], cols: [cols], at } });
  }
  if (!before.size) return e;
  const kernels = e.kernels.flatMap((k, i) => [...(before.get(i) ?? []), { ...k, ...replaced.get(i) } as Kernel]);
  return { ...e, kernels };
}

/** Every entry with its repeatedly transposed contraction operands copied once into row-major temps. */
export function hoistTransposes(p: UnplannedProgram): UnplannedProgram {
  const buffers = [...p.buffers];
  const names = new Set(buffers.map((b) => b.name));
  const addTemp = (of: string, size: number): string => {
    let name = `${of}_t`;
    for (let i = 1; names.has(name); i++) name = `${of}_t${i}`;
    names.add(name);
    buffers.push({ name, dtype: p.buffers.find((b) => b.name === of)!.dtype, size, role: 'temp' });
    return name;
  };
  const entries = p.entries.map((e) => hoistEntry(e, addTemp));
  return { ...p, buffers, entries };
}
