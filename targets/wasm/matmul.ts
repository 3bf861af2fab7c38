// MatmulKernel -> a register-tiled f32x4 GEMM: B packed into 8-column panels in the scratch region,
// A read in place through one row pointer (rows at constant byte offsets), or packed into 4-row tiles
// (one stream) when its inner stride is not 1 or k is long; k split into cache blocks of KC; a 4x8
// micro-kernel holding the tile in eight v128 accumulators (A splatted by v128.load32_splat), and the
// epilogue fused into the tile's stores. The conv templates (conv.ts) reuse `gemm` with their own A and B:
// hooks per row block and per k block build A's slice just in time, and B may be read in place.
// (5x8 and 6x8 tiles, and a k loop unrolled by 2, measured about 2x slower under V8: 4x8 stays.)
import type { IExpr, MatmulKernel, SExpr } from '../../ir/kernel.ts';
import { store, sx, withMode } from './expr.ts';
import { Func, type BufInfo } from './func.ts';
import { mapExprIndex } from './specialize.ts';
import { forLoop, get, i32c, set } from './wat.ts';

export const MR = 4;
export const NR = 8;
/** k per cache block: a B panel's slice (KC x NR floats) stays in L1, the row block's A slice in L2. */
const KC = 256;
/** Rows of A per cache block (a multiple of MR). */
export const MC = MR * 16;

const panels = (n: number): number => Math.ceil(n / NR);
/** A is packed (into MR-row tiles) when its inner stride is not 1, or when k spans several k blocks. */
const needsPackA = (k: MatmulKernel): boolean => (k.a.strides[k.batch.length + 1] !== 1 || k.k > KC) && k.k > 0;
/** A is read up to MR-1 rows past m (results discarded): that many rows must be addressable. */
export const overreadBytes = (k: MatmulKernel): number => (needsPackA(k) ? 0 : (MR - 1) * Math.abs(k.a.strides[k.batch.length]! * 4) + 16);

export function matmulScratchBytes(kernel: MatmulKernel): number {
  const k = mergeBatch(kernel);
  const packB = panels(k.n) * NR * k.k * 4;
  const packA = needsPackA(k) ? (Math.ceil(k.m / MR) * MR) * k.k * 4 : 0;
  return packB + packA + gemmScratchBytes(k.n, k.k) + overreadBytes(k);
}

/** The geometry a GEMM needs, shared by matmul and the conv templates (which build their own A and B). */
export interface Gemm {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  /** Byte address (i32 expression) of A[0, 0] and its row stride in bytes; A's inner stride is one f32. */
  readonly aAddr: string;
  readonly aRowBytes: number;
  /** Byte address of the packed B panels. */
  readonly packedB: number;
  /** Emits the tile's results: (row local, col local, dot value in the current mode). */
  readonly emit: (f: Func, row: string, col: string, dot: string) => string;
  /** Code run at the start of each block of MC rows (its first row is in the local `blockRow(f)`),
   *  e.g. packing that block of A into scratch (then aAddr may depend on `blockRow(f)`). */
  readonly prepare?: string;
  /** A is packed in tiles of MR rows, k-major inside a tile (A[i, p] at aAddr + ((i / MR) k + p) MR + i % MR
   *  floats): the micro-kernel reads one stream. aRowBytes is then unused. */
  readonly aTiled?: boolean;
  /** Byte address of gemmScratchBytes(n, k) bytes of scratch (needed when k > KC). */
  readonly partial?: number;
  /** Code run after each block of MC rows is complete (e.g. consuming the block's results from scratch). */
  readonly finish?: string;
  /** Code run at the start of each k block (its first k in `blockK(f)`, its length in `blockKLen(f)`), e.g.
   *  packing that slice of A; given, k is always blocked. */
  readonly prepareK?: string;
  /** k per cache block (default KC) and rows per row block (default MC, a multiple of MR). */
  readonly kc?: number;
  readonly mc?: number;
  /** With aTiled: the k extent of each packed tile (default k; a k block's slice: its kc). */
  readonly aTileK?: number;
  /** B read in place, [k, n] with rows this many bytes apart (n a multiple of NR), instead of packed panels. */
  readonly bRowBytes?: number;
}

/** The local holding the first row of the current row block. */
export const blockRow = (f: Func): string => f.local('g_i0', 'i32');
/** The locals holding the first k and the length of the current k block. */
export const blockK = (f: Func): string => f.local('g_p0', 'i32');
export const blockKLen = (f: Func): string => f.local('g_kb', 'i32');

/** The packing of B[p, j] (byte address expression of element (p, j) given locals) into NR-wide panels. */
export function packB(f: Func, g: { n: number; k: number; dst: number; src: (p: string, j: string) => string; contiguous: boolean }, tag: string): string {
  const p = f.local(`pk_p${tag}`, 'i32'), jp = f.local(`pk_j${tag}`, 'i32'), c = f.local(`pk_c${tag}`, 'i32');
  const full = Math.floor(g.n / NR);
  const dstAt = (col: string): string => `(i32.add ${i32c(g.dst)} (i32.shl (i32.add (i32.mul (i32.add (i32.mul ${get(jp)} ${i32c(g.k)}) ${get(p)}) ${i32c(NR)}) ${col}) (i32.const 2)))`;
  const j = `(i32.add (i32.mul ${get(jp)} ${i32c(NR)}) ${get(c)})`;
  const scalarCol = `(f32.store ${dstAt(get(c))} (if (result f32) (i32.lt_s ${j} ${i32c(g.n)}) (then (f32.load ${g.src(get(p), j)})) (else (f32.const 0))))`;
  const scalarPanel = forLoop(c, 0, NR, 1, scalarCol, `pc${tag}`);
  const vecPanel = `(v128.store ${dstAt(i32c(0))} (v128.load ${g.src(get(p), `(i32.mul ${get(jp)} ${i32c(NR)})`)}))
(v128.store offset=16 ${dstAt(i32c(0))} (v128.load offset=16 ${g.src(get(p), `(i32.mul ${get(jp)} ${i32c(NR)})`)}))`;
  const body = forLoop(jp, 0, full, 1, g.contiguous ? vecPanel : scalarPanel, `pj${tag}`) + '\n' + forLoop(jp, full, panels(g.n), 1, scalarPanel, `pt${tag}`);
  return forLoop(p, 0, g.k, 1, body, `pp${tag}`);
}

/** Bytes of scratch `gemm` needs for the partial sums of one row block when k is split into KC blocks. */
export const gemmScratchBytes = (n: number, k: number, kc = KC, mc = MC): number => (k > kc ? mc * panels(n) * NR * 4 : 0);

/** Packs A[r, p] (byte address expression of element (r, p) given locals) into tiles of MR rows, k-major
 *  inside a tile (`aTiled`). */
export function packA(f: Func, g: { m: number; k: number; dst: number; src: (r: string, p: string) => string }): string {
  const r = f.local('pa_r', 'i32'), p = f.local('pa_p', 'i32');
  const dst = `(i32.add ${i32c(g.dst)} (i32.shl (i32.add (i32.shl (i32.add (i32.mul (i32.shr_u ${get(r)} (i32.const 2)) ${i32c(g.k)}) ${get(p)}) (i32.const 2)) (i32.and ${get(r)} (i32.const 3))) (i32.const 2)))`;
  return forLoop(r, 0, g.m, 1, forLoop(p, 0, g.k, 1, `(f32.store ${dst} (f32.load ${g.src(get(r), get(p))}))`, 'pap'), 'par');
}

/** The blocked loops and the 4x8 micro-kernel over packed B; `emit` stores each result. Loops: row blocks
 *  of MC (prepare, then finish, around each), k blocks of KC (partial sums kept in `partial` between them),
 *  B panels, tiles of MR rows. */
export function gemm(f: Func, g: Gemm): string {
  const i0 = blockRow(f), jp = f.local('g_jp', 'i32'), i = f.local('g_i', 'i32');
  const pa = f.local('g_pa', 'i32'), pb = f.local('g_pb', 'i32'), end = f.local('g_end', 'i32');
  const b0 = f.local('g_b0', 'v128'), b1 = f.local('g_b1', 'v128'), a = f.local('g_a', 'v128');
  const c = [...Array(MR * 2).keys()].map((x) => f.local(`g_c${x}`, 'v128'));
  const fma = (x: string, y: string, acc: string): string => (f.relaxed ? `(f32x4.relaxed_madd ${x} ${y} ${acc})` : `(f32x4.add (f32x4.mul ${x} ${y}) ${acc})`);
  // A's bytes per row index (from the block's start) and per k step
  const kc = g.kc ?? KC, mc = g.mc ?? MC;
  const aRow = g.aTiled ? (g.aTileK ?? g.k) * 4 : g.aRowBytes, aStep = g.aTiled ? MR * 4 : 4;
  // B's bytes per k step and per panel
  const bStep = g.bRowBytes ?? NR * 4, bPanel = g.bRowBytes === undefined ? g.k * NR * 4 : NR * 4;
  const step: string[] = [set(b0, `(v128.load ${get(pb)})`), set(b1, `(v128.load offset=16 ${get(pb)})`)];
  for (let r = 0; r < MR; r++) {
    step.push(set(a, `(v128.load32_splat offset=${g.aTiled ? r * 4 : r * g.aRowBytes} ${get(pa)})`));
    step.push(set(c[2 * r]!, fma(get(a), get(b0), get(c[2 * r]!))), set(c[2 * r + 1]!, fma(get(a), get(b1), get(c[2 * r + 1]!))));
  }
  const kloop = g.k === 0 ? '' : `(loop $Lk
${step.join('\n')}
${set(pa, `(i32.add ${get(pa)} ${i32c(aStep)})`)}
${set(pb, `(i32.add ${get(pb)} ${i32c(bStep)})`)}
(br_if $Lk (i32.ne ${get(pb)} ${get(end)})))`;
  const row = f.local('g_row', 'i32'), col = f.local('g_col', 'i32');
  // full tiles store vectors; edge tiles go lane by lane
  const fullTile: string[] = [], edgeTile: string[] = [];
  for (let r = 0; r < MR; r++) {
    for (let h = 0; h < 2; h++) {
      const at = [set(row, `(i32.add ${get(i)} ${i32c(r)})`), set(col, `(i32.add (i32.mul ${get(jp)} ${i32c(NR)}) ${i32c(4 * h)})`)];
      fullTile.push(...at, withMode(f, 0, () => g.emit(f, row, col, get(c[2 * r + h]!))));
      const lanesCode = [0, 1, 2, 3].map((l) => `${set(col, `(i32.add (i32.add (i32.mul ${get(jp)} ${i32c(NR)}) ${i32c(4 * h)}) ${i32c(l)})`)}
(if (i32.and (i32.lt_s ${get(row)} ${i32c(g.m)}) (i32.lt_s ${get(col)} ${i32c(g.n)}))
(then ${withMode(f, null, () => g.emit(f, row, col, `(f32x4.extract_lane ${l} ${get(c[2 * r + h]!)})`))}))`);
      edgeTile.push(...at, ...lanesCode);
    }
  }
  const isFull = `(i32.and (i32.le_s (i32.add ${get(i)} ${i32c(MR)}) ${i32c(g.m)}) (i32.le_s (i32.mul (i32.add ${get(jp)} (i32.const 1)) ${i32c(NR)}) ${i32c(g.n)}))`;
  const emitTile = `(if ${isFull} (then ${fullTile.join('\n')}) (else ${edgeTile.join('\n')}))`;
  const zero = c.map((x) => set(x, '(v128.const i32x4 0 0 0 0)')).join('\n');
  const blocked = g.k > kc || g.prepareK !== undefined;
  // k blocks: p0 is the block's first k, kb its length; partial sums of the tile live at `tileAt`
  const p0 = blockK(f), kb = blockKLen(f), tile = f.local('g_tile', 'i32');
  const rowBytes = panels(g.n) * NR * 4;
  const tileAt = `(i32.add ${i32c(g.partial ?? 0)} (i32.add (i32.mul (i32.sub ${get(i)} ${get(i0)}) ${i32c(rowBytes)}) (i32.mul ${get(jp)} ${i32c(NR * 4)})))`;
  const partialIo = (load: boolean): string => c.map((x, q) => {
    const off = Math.floor(q / 2) * rowBytes + (q % 2) * 16;
    return load ? set(x, `(v128.load offset=${off} ${get(tile)})`) : `(v128.store offset=${off} ${get(tile)} ${get(x)})`;
  }).join('\n');
  const micro = blocked
    ? [
      set(tile, tileAt),
      `(if (i32.eqz ${get(p0)}) (then ${zero}) (else ${partialIo(true)}))`,
      set(pa, `(i32.add ${g.aAddr} (i32.add (i32.mul ${get(i)} ${i32c(aRow)}) (i32.mul ${get(p0)} ${i32c(aStep)})))`),
      set(pb, `(i32.add ${i32c(g.packedB)} (i32.add (i32.mul ${get(jp)} ${i32c(bPanel)}) (i32.mul ${get(p0)} ${i32c(bStep)})))`),
      set(end, `(i32.add ${get(pb)} (i32.mul ${get(kb)} ${i32c(bStep)}))`),
      kloop,
      `(if (i32.ge_s (i32.add ${get(p0)} ${get(kb)}) ${i32c(g.k)}) (then ${emitTile}) (else ${partialIo(false)}))`,
    ].join('\n')
    : [
      zero,
      set(pa, `(i32.add ${g.aAddr} (i32.mul ${get(i)} ${i32c(aRow)}))`),
      set(pb, `(i32.add ${i32c(g.packedB)} (i32.mul ${get(jp)} ${i32c(bPanel)}))`),
      set(end, `(i32.add ${get(pb)} ${i32c(g.k * bStep)})`),
      kloop,
      emitTile,
    ].join('\n');
  // i runs over the current block: a loop with a runtime bound
  const iLoop = `${set(i, get(i0))}
(loop $Li
${micro}
${set(i, `(i32.add ${get(i)} ${i32c(MR)})`)}
(br_if $Li (i32.lt_s ${get(i)} (select ${i32c(g.m)} (i32.add ${get(i0)} ${i32c(mc)}) (i32.lt_s ${i32c(g.m)} (i32.add ${get(i0)} ${i32c(mc)}))))))`;
  const jLoop = forLoop(jp, 0, panels(g.n), 1, iLoop, 'gj');
  const kLoop = blocked
    ? forLoop(p0, 0, g.k, kc, `${set(kb, `(select ${i32c(kc)} (i32.sub ${i32c(g.k)} ${get(p0)}) (i32.lt_s (i32.add ${get(p0)} ${i32c(kc)}) ${i32c(g.k)}))`)}\n${g.prepareK ?? ''}\n${jLoop}`, 'gp')
    : jLoop;
  return forLoop(i0, 0, g.m, mc, `${g.prepare ?? ''}\n${kLoop}\n${g.finish ?? ''}`, 'gi');
}

/** The flat output index ((b...)*m + i)*n + j over the kernel's vars. */
function outIndex(k: MatmulKernel): IExpr {
  const dims = [...k.batch, k.m, k.n];
  let e: IExpr = { k: 'var', i: 0 };
  for (let d = 1; d < dims.length; d++) e = { k: 'add', a: { k: 'mul', a: e, b: { k: 'int', v: dims[d]! } }, b: { k: 'var', i: d } };
  return e;
}

/** A batched matmul whose B is the same for every batch and whose A rows run on across batches (x @ W over
 *  [batch, time, features]) as one GEMM over batch * m rows: B packed once, full-size blocks. The epilogue
 *  reads the batch coordinates back from the merged row. */
export function mergeBatch(k: MatmulKernel): MatmulKernel {
  const nb = k.batch.length;
  if (nb === 0 || k.batch.some((_, d) => k.b.strides[d] !== 0)) return k;
  const rows = [...k.batch, k.m];
  if (rows.slice(0, nb).some((_, d) => k.a.strides[d] !== rows[d + 1]! * k.a.strides[d + 1]! && rows[d] !== 1)) return k;
  const m = rows.reduce((x, y) => x * y, 1);
  const i: IExpr = { k: 'var', i: 0 };
  const coord = (d: number): IExpr => {
    const inner = rows.slice(d + 1).reduce((x, y) => x * y, 1);
    return { k: 'mod', a: { k: 'div', a: i, b: { k: 'int', v: inner } }, b: { k: 'int', v: rows[d]! } };
  };
  const sub = (v: number): IExpr => (v === nb + 1 ? { k: 'var', i: 1 } : coord(v));
  return {
    ...k, batch: [], m,
    a: { ...k.a, strides: k.a.strides.slice(nb) },
    b: { ...k.b, strides: k.b.strides.slice(nb) },
    ...(k.epilogue ? { epilogue: mapExprIndex(k.epilogue, sub) } : {}),
  };
}

export function renderMatmul(kernel: MatmulKernel, name: string, bufs: ReadonlyMap<string, BufInfo>, scratch: number, relaxed: boolean): string {
  const k = mergeBatch(kernel);
  const f = new Func(name, bufs, relaxed);
  if (k.m === 0 || k.n === 0 || k.batch.some((d) => d === 0)) return f.render('');
  const nb = k.batch.length;
  const A = f.buf(k.a.buf), B = f.buf(k.b.buf);
  const base = (o: typeof k.a, off: number): string => k.batch.reduce((acc, _d, d) => `(i32.add ${acc} (i32.mul ${get(f.v(d))} ${i32c(o.strides[d]! * 4)}))`, i32c(off + o.offset * 4));
  const aBase = f.local('aBase', 'i32'), bBase = f.local('bBase', 'i32');
  const packedB = scratch;
  const packedA = scratch + panels(k.n) * NR * k.k * 4;
  const [si, sp] = [k.a.strides[nb]! * 4, k.a.strides[nb + 1]! * 4];
  const [bp, bj] = [k.b.strides[nb]! * 4, k.b.strides[nb + 1]! * 4];
  const parts = [set(aBase, base(k.a, A.offset)), set(bBase, base(k.b, B.offset))];
  parts.push(packB(f, { n: k.n, k: k.k, dst: packedB, contiguous: bj === 4, src: (p, j) => `(i32.add ${get(bBase)} (i32.add (i32.mul ${p} ${i32c(bp)}) (i32.mul ${j} ${i32c(bj)})))` }, ''));
  let aAddr = get(aBase), aTiled = false;
  if (needsPackA(k)) {
    parts.push(packA(f, { m: k.m, k: k.k, dst: packedA, src: (r, p) => `(i32.add ${get(aBase)} (i32.add (i32.mul ${r} ${i32c(si)}) (i32.mul ${p} ${i32c(sp)})))` }));
    aAddr = i32c(packedA);
    aTiled = true;
  }
  const out = outIndex(k);
  const epi: SExpr = k.epilogue ?? { k: 'acc', name: 'dot' };
  const dot = f.local('dot_v', 'v128'), dotS = f.local('dot_s', 'f32');
  const emit = (g: Func, row: string, col: string, value: string): string => {
    const vector = g.vec !== null;
    g.vec = vector ? nb + 1 : null;
    g.accs.set('dot', { local: vector ? dot : dotS, dtype: 'f32', vector });
    return [set(g.v(nb), get(row)), set(g.v(nb + 1), get(col)), set(vector ? dot : dotS, value), store(g, k.out, out, sx(g, epi))].join('\n');
  };
  const partial = packedA + (needsPackA(k) ? Math.ceil(k.m / MR) * MR * k.k * 4 : 0);
  parts.push(gemm(f, { m: k.m, n: k.n, k: k.k, aAddr, aRowBytes: si, aTiled, packedB, emit, partial }));
  let body = parts.join('\n');
  for (let d = nb - 1; d >= 0; d--) body = forLoop(f.v(d), 0, k.batch[d]!, 1, body, `b${d}`);
  return f.render(body);
}
