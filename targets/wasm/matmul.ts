// ContractionKernel -> a register-tiled f32x4 GEMM: k split into cache blocks of KC; a 4x8 micro-kernel
// holding the tile in eight v128 accumulators (A splatted by v128.load32_splat); the epilogue fused into
// the tile's stores. How each operand reaches it is chosen from the operand's form (ir/contraction.ts):
//  A  a strided view with contiguous rows and a short k: read in place through one row pointer (rows at
//     constant byte offsets);
//     patches (conv.ts): each block of MC rows packed just before it runs (im2col), or, transposed
//     (taps on the rows), each k block's slice built into 4-row tiles (L2-sized);
//     patches with fewer image pixels than rows (conv.ts `gatherRows`): the image read in place times B
//     for every tap, then each row sums the products of its valid taps;
//     anything else: packed element by element through its index into 4-row tiles (one stream);
//  B  a strided view with contiguous rows: packed into 8-column panels, or read in place beside
//     transposed patches when its rows are 8-column multiples; anything else packed into panels element
//     by element.
// (5x8 and 6x8 tiles, and a k loop unrolled by 2, measured about 2x slower under V8: 4x8 stays.)
import { viewOf } from '../../ir/contraction.ts';
import type { ContractionKernel, IExpr, SExpr } from '../../ir/kernel.ts';
import { fillElements, gatherRows, imagePixels, patchCols, patchOf, patchRows, type Patch } from './conv.ts';
import { store, sx, withMode } from './expr.ts';
import { Func, type BufInfo } from './func.ts';
import { barrier, share, SHARED, splitLoop } from './threads.ts';
import { forLoop, get, i32c, minI32, set } from './wat.ts';

export const MR = 4;
export const NR = 8;
/** k per cache block: a B panel's slice (KC x NR floats) stays in L1, the row block's A slice in L2. */
const KC = 256;
/** Rows of A per cache block (a multiple of MR). */
export const MC = MR * 16;

const panels = (n: number): number => Math.ceil(n / NR);
/** Rows of A the micro-kernel may read (whole tiles). */
const aRows = (m: number): number => Math.ceil(m / MR) * MR;

/** The geometry of one GEMM and where its operands are. */
export interface Gemm {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  /** Byte address (i32 expression) of A[0, 0] and its row stride in bytes; A's inner stride is one f32. */
  readonly aAddr: string;
  readonly aRowBytes: number;
  /** Byte address (i32 expression) of the packed B panels (or of B read in place). */
  readonly packedB: string;
  /** Emits one result: (row local, col local, dot value: 4 columns as a v128, or one f32). */
  readonly emit: (row: string, col: string, dot: string, vector: boolean) => string;
  /** Code run at the start of each block of MC rows (its first row is in the local `blockRow(f)`, the
   *  row after its last in `blockEnd(f)`), e.g. packing that block of A into scratch (then aAddr may
   *  depend on `blockRow(f)`). */
  readonly prepare?: string;
  /** A is packed in tiles of MR rows, k-major inside a tile (A[i, p] at aAddr + ((i / MR) k + p) MR + i % MR
   *  floats): the micro-kernel reads one stream. aRowBytes is then unused. */
  readonly aTiled?: boolean;
  /** Byte address of gemmScratchBytes(n, k) bytes of scratch (needed when k > KC). */
  readonly partial?: number;
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
  /** Split k: its blocks in `count` contiguous slices (fixed by the shape, so that every thread count
   *  sums alike), the threads sharing out the slices; each slice's sums go to its own partials at `at`
   *  (sliceBytes(m, n) each), then, after a barrier, each result is its slices' partials summed in order.
   *  One row block only (mc >= m). */
  readonly slices?: { readonly count: number; readonly at: number };
}

/** Bytes of one slice's partials (split k): every row tile's panels. */
export const sliceBytes = (m: number, n: number): number => aRows(m) * panels(n) * NR * 4;

/** The locals holding the first row of the current row block, and the row after its last. */
export const blockRow = (f: Func): string => f.local('g_i0', 'i32');
export const blockEnd = (f: Func): string => f.local('g_i1', 'i32');
/** The locals holding the first k and the length of the current k block. */
export const blockK = (f: Func): string => f.local('g_p0', 'i32');
export const blockKLen = (f: Func): string => f.local('g_kb', 'i32');

/** B[p, j] with rows `rowBytes` apart from the byte address in local `src` (columns contiguous) into
 *  NR-wide panels at dst; the last panel's columns past n are zeros. */
function packB(
  f: Func,
  g: { n: number; k: number; dst: number; src: string; rowBytes: number; split: boolean },
): string {
  const p = f.local('pk_p', 'i32'),
    jp = f.local('pk_j', 'i32'),
    c = f.local('pk_c', 'i32');
  const full = Math.floor(g.n / NR);
  const dstAt = (col: string): string =>
    `(i32.add ${i32c(g.dst)} (i32.shl (i32.add (i32.mul (i32.add (i32.mul ${get(jp)} ${i32c(g.k)}) ${get(p)}) ${i32c(NR)}) ${col}) (i32.const 2)))`;
  const src = (j: string): string =>
    `(i32.add ${get(g.src)} (i32.add (i32.mul ${get(p)} ${i32c(g.rowBytes)}) (i32.shl ${j} (i32.const 2))))`;
  const j = `(i32.add (i32.mul ${get(jp)} ${i32c(NR)}) ${get(c)})`;
  const vecPanel = [0, 16]
    .map(
      (o) =>
        `(v128.store offset=${o} ${dstAt(i32c(0))} (v128.load offset=${o} ${src(`(i32.mul ${get(jp)} ${i32c(NR)})`)}))`,
    )
    .join('\n');
  const tail = forLoop(
    c,
    0,
    NR,
    1,
    `(f32.store ${dstAt(get(c))} (if (result f32) (i32.lt_s ${j} ${i32c(g.n)}) (then (f32.load ${src(j)})) (else (f32.const 0))))`,
    'pc',
  );
  return splitLoop(
    f,
    g.split,
    p,
    0,
    g.k,
    1,
    `${forLoop(jp, 0, full, 1, vecPanel, 'pj')}\n${forLoop(jp, full, panels(g.n), 1, tail, 'pt')}`,
    'pp',
  );
}

/** A with contiguous columns (a transposed matrix: A[i, p] at src + i + p colBytes / 4) into MR-row
 *  tiles at dst, k-major inside a tile: each tile's MR rows at one k are one v128 (m a multiple of MR);
 *  with `split`, this thread's share of the tiles. */
function packTransposedA(
  f: Func,
  g: { m: number; k: number; dst: number; src: string; colBytes: number; split: boolean },
): string {
  const t = f.local('pa_t', 'i32'),
    p = f.local('pa_p', 'i32'),
    from = f.local('pa_from', 'i32'),
    to = f.local('pa_to', 'i32');
  const copy = `(v128.store ${get(to)} (v128.load ${get(from)}))
${set(to, `(i32.add ${get(to)} (i32.const 16))`)}
${set(from, `(i32.add ${get(from)} ${i32c(g.colBytes)})`)}`;
  const tile = `${set(from, `(i32.add ${get(g.src)} (i32.mul ${get(t)} ${i32c(MR * 4)}))`)}
${set(to, `(i32.add ${i32c(g.dst)} (i32.mul ${get(t)} ${i32c(g.k * MR * 4)}))`)}
${forLoop(p, 0, g.k, 1, copy, 'pap')}`;
  return splitLoop(f, g.split, t, 0, g.m / MR, 1, tile, 'pat');
}

/** Bytes of scratch `gemm` needs for the partial sums of one row block when k is split into KC blocks. */
export const gemmScratchBytes = (n: number, k: number, kc = KC, mc = MC): number =>
  k > kc ? mc * panels(n) * NR * 4 : 0;

/** The blocked loops and the 4x8 micro-kernel over packed B; `emit` stores each result. Loops: row blocks
 *  of MC (`prepare` before each), k blocks of KC (partial sums kept in `partial` between them),
 *  B panels, tiles of MR rows. */
export function gemm(f: Func, g: Gemm): string {
  const i0 = blockRow(f),
    jp = f.local('g_jp', 'i32'),
    i = f.local('g_i', 'i32');
  const pa = f.local('g_pa', 'i32'),
    pb = f.local('g_pb', 'i32'),
    end = f.local('g_end', 'i32');
  const b0 = f.local('g_b0', 'v128'),
    b1 = f.local('g_b1', 'v128'),
    a = f.local('g_a', 'v128');
  const c = [...Array(MR * 2).keys()].map((x) => f.local(`g_c${x}`, 'v128'));
  const fma = (x: string, y: string, acc: string): string =>
    f.relaxed ? `(f32x4.relaxed_madd ${x} ${y} ${acc})` : `(f32x4.add (f32x4.mul ${x} ${y}) ${acc})`;
  // A's bytes per row index (from the block's start) and per k step
  const kc = g.kc ?? KC,
    mc = g.mc ?? MC;
  const aRow = g.aTiled ? (g.aTileK ?? g.k) * 4 : g.aRowBytes,
    aStep = g.aTiled ? MR * 4 : 4;
  // B's bytes per k step and per panel
  const bStep = g.bRowBytes ?? NR * 4,
    bPanel = g.bRowBytes === undefined ? g.k * NR * 4 : NR * 4;
  const step: string[] = [set(b0, `(v128.load ${get(pb)})`), set(b1, `(v128.load offset=16 ${get(pb)})`)];
  for (let r = 0; r < MR; r++) {
    step.push(set(a, `(v128.load32_splat offset=${g.aTiled ? r * 4 : r * g.aRowBytes} ${get(pa)})`));
    step.push(
      set(c[2 * r]!, fma(get(a), get(b0), get(c[2 * r]!))),
      set(c[2 * r + 1]!, fma(get(a), get(b1), get(c[2 * r + 1]!))),
    );
  }
  const kloop =
    g.k === 0
      ? ''
      : `(loop $Lk
${step.join('\n')}
${set(pa, `(i32.add ${get(pa)} ${i32c(aStep)})`)}
${set(pb, `(i32.add ${get(pb)} ${i32c(bStep)})`)}
(br_if $Lk (i32.ne ${get(pb)} ${get(end)})))`;
  const row = f.local('g_row', 'i32'),
    col = f.local('g_col', 'i32');
  // full tiles store vectors; edge tiles go lane by lane
  const fullTile: string[] = [],
    edgeTile: string[] = [];
  for (let r = 0; r < MR; r++) {
    for (let h = 0; h < 2; h++) {
      const at = [
        set(row, `(i32.add ${get(i)} ${i32c(r)})`),
        set(col, `(i32.add (i32.mul ${get(jp)} ${i32c(NR)}) ${i32c(4 * h)})`),
      ];
      fullTile.push(...at, g.emit(row, col, get(c[2 * r + h]!), true));
      const lanesCode = [0, 1, 2, 3].map(
        (l) => `${set(col, `(i32.add (i32.add (i32.mul ${get(jp)} ${i32c(NR)}) ${i32c(4 * h)}) ${i32c(l)})`)}
(if (i32.and (i32.lt_s ${get(row)} ${i32c(g.m)}) (i32.lt_s ${get(col)} ${i32c(g.n)}))
(then ${g.emit(row, col, `(f32x4.extract_lane ${l} ${get(c[2 * r + h]!)})`, false)}))`,
      );
      edgeTile.push(...at, ...lanesCode);
    }
  }
  const isFull = `(i32.and (i32.le_s (i32.add ${get(i)} ${i32c(MR)}) ${i32c(g.m)}) (i32.le_s (i32.mul (i32.add ${get(jp)} (i32.const 1)) ${i32c(NR)}) ${i32c(g.n)}))`;
  const emitTile = `(if ${isFull} (then ${fullTile.join('\n')}) (else ${edgeTile.join('\n')}))`;
  const zero = c.map((x) => set(x, '(v128.const i32x4 0 0 0 0)')).join('\n');
  const blocked = g.k > kc || g.prepareK !== undefined;
  // k blocks: p0 is the block's first k, kb its length; partial sums of the tile live at `tileAt`
  const p0 = blockK(f),
    kb = blockKLen(f),
    tile = f.local('g_tile', 'i32');
  const rowBytes = panels(g.n) * NR * 4;
  // split k: a slice starts at k `ss`, ends at `se`, keeps its partials at `sb`
  const ss = f.local('g_ss', 'i32'),
    se = f.local('g_se', 'i32'),
    sb = f.local('g_sb', 'i32');
  const tileAt = `(i32.add ${g.slices ? get(sb) : i32c(g.partial ?? 0)} (i32.add (i32.mul (i32.sub ${get(i)} ${get(i0)}) ${i32c(rowBytes)}) (i32.mul ${get(jp)} ${i32c(NR * 4)})))`;
  const partialIo = (load: boolean): string =>
    c
      .map((x, q) => {
        const off = Math.floor(q / 2) * rowBytes + (q % 2) * 16;
        return load
          ? set(x, `(v128.load offset=${off} ${get(tile)})`)
          : `(v128.store offset=${off} ${get(tile)} ${get(x)})`;
      })
      .join('\n');
  const micro = blocked
    ? [
        set(tile, tileAt),
        `(if ${g.slices ? `(i32.eq ${get(p0)} ${get(ss)})` : `(i32.eqz ${get(p0)})`} (then ${zero}) (else ${partialIo(true)}))`,
        set(pa, `(i32.add ${g.aAddr} (i32.add (i32.mul ${get(i)} ${i32c(aRow)}) (i32.mul ${get(p0)} ${i32c(aStep)})))`),
        set(
          pb,
          `(i32.add ${g.packedB} (i32.add (i32.mul ${get(jp)} ${i32c(bPanel)}) (i32.mul ${get(p0)} ${i32c(bStep)})))`,
        ),
        set(end, `(i32.add ${get(pb)} (i32.mul ${get(kb)} ${i32c(bStep)}))`),
        kloop,
        g.slices
          ? partialIo(false)
          : `(if (i32.ge_s (i32.add ${get(p0)} ${get(kb)}) ${i32c(g.k)}) (then ${emitTile}) (else ${partialIo(false)}))`,
      ].join('\n')
    : [
        zero,
        set(pa, `(i32.add ${g.aAddr} (i32.mul ${get(i)} ${i32c(aRow)}))`),
        set(pb, `(i32.add ${g.packedB} (i32.mul ${get(jp)} ${i32c(bPanel)}))`),
        set(end, `(i32.add ${get(pb)} ${i32c(g.k * bStep)})`),
        kloop,
        emitTile,
      ].join('\n');
  // i runs over the current block: a loop with a runtime bound
  const iLoop = `${set(i, get(i0))}
(loop $Li
${micro}
${set(i, `(i32.add ${get(i)} ${i32c(MR)})`)}
(br_if $Li (i32.lt_s ${get(i)} ${get(blockEnd(f))})))`;
  // a threaded build's threads split the row blocks, or the panels when there are fewer than 4 row blocks
  // (or the slices of k)
  const split = g.slices ? 'slices' : Math.ceil(g.m / mc) >= 4 ? 'rows' : 'panels';
  const jLoop = splitLoop(f, split === 'panels', jp, 0, panels(g.n), 1, iLoop, 'gj');
  const kBlock = `${set(kb, `(select ${i32c(kc)} (i32.sub ${i32c(g.k)} ${get(p0)}) (i32.lt_s (i32.add ${get(p0)} ${i32c(kc)}) ${i32c(g.k)}))`)}\n${g.prepareK ?? ''}\n${jLoop}`;
  const kLoop = g.slices
    ? slicedK(f, g, g.slices, kc, kBlock, { p0, ss, se, sb })
    : blocked
      ? forLoop(p0, 0, g.k, kc, kBlock, 'gp')
      : jLoop;
  const rowBlocks = rowBlockLoop(f, g.m, mc, split === 'rows', `${g.prepare ?? ''}\n${kLoop}`);
  return g.slices ? `${rowBlocks}\n${barrier(f)}\n${combineSlices(f, g, g.slices)}` : rowBlocks;
}

/** The loop over blocks of `mc` rows (`blockRow(f)` to `blockEnd(f)`); when `split` (a threaded build), over
 *  this thread's share of the MR-row tiles, in blocks of mc from its first: every thread gets as many
 *  tiles, give or take one, and each row's result is computed by the same code as on one thread. */
function rowBlockLoop(f: Func, m: number, mc: number, split: boolean, body: string): string {
  const i0 = blockRow(f),
    i1 = blockEnd(f),
    last = f.local('g_last', 'i32');
  const tiles = split ? share(f, Math.ceil(m / MR), 'gi') : { code: '', lo: i32c(0), hi: i32c(Math.ceil(m / MR)) };
  return `${tiles.code}
${set(i0, `(i32.mul ${tiles.lo} ${i32c(MR)})`)}
${set(last, minI32(i32c(m), `(i32.mul ${tiles.hi} ${i32c(MR)})`))}
(block $Bgi (loop $Lgi
(br_if $Bgi (i32.ge_s ${get(i0)} ${get(last)}))
${set(i1, minI32(get(last), `(i32.add ${get(i0)} ${i32c(mc)})`))}
${body}
${set(i0, `(i32.add ${get(i0)} ${i32c(mc)})`)}
(br $Lgi)))`;
}

/** Split k's loop: this thread's share of the slices, each a run of whole k blocks (`kBlock`). */
function slicedK(
  f: Func,
  g: Gemm,
  sl: NonNullable<Gemm['slices']>,
  kc: number,
  kBlock: string,
  v: { p0: string; ss: string; se: string; sb: string },
): string {
  const s = f.local('g_s', 'i32');
  const blocks = Math.ceil(g.k / kc);
  // slice s: blocks [floor(blocks s / count), floor(blocks (s + 1) / count))
  const startK = (x: string): string =>
    `(i32.mul (i32.div_u (i32.mul ${x} ${i32c(blocks)}) ${i32c(sl.count)}) ${i32c(kc)})`;
  const end = `(i32.add ${get(s)} (i32.const 1))`;
  const body = `${set(v.ss, startK(get(s)))}
${set(v.se, minI32(i32c(g.k), startK(end)))}
${set(v.sb, `(i32.add ${i32c(sl.at)} (i32.mul ${get(s)} ${i32c(sliceBytes(g.m, g.n))}))`)}
${set(v.p0, get(v.ss))}
(block $Bgp (loop $Lgp
(br_if $Bgp (i32.ge_s ${get(v.p0)} ${get(v.se)}))
${kBlock}
${set(v.p0, `(i32.add ${get(v.p0)} ${i32c(kc)})`)}
(br $Lgp)))`;
  return splitLoop(f, true, s, 0, sl.count, 1, body, 'gs');
}

/** Each result of a split k: its slices' partials summed in slice order (4 columns at a time), emitted;
 *  the threads share out the rows. */
function combineSlices(f: Func, g: Gemm, sl: NonNullable<Gemm['slices']>): string {
  const row = f.local('g_row', 'i32'),
    col = f.local('g_col', 'i32'),
    at = f.local('g_at', 'i32'),
    sum = f.local('g_sum', 'v128');
  const bytes = sliceBytes(g.m, g.n),
    rowBytes = panels(g.n) * NR * 4;
  const total = [...Array(sl.count).keys()]
    .map((s) => `(v128.load offset=${s * bytes} ${get(at)})`)
    .reduce((a, b) => `(f32x4.add ${a} ${b})`);
  const group = (vector: boolean): string =>
    [
      set(
        at,
        `(i32.add ${i32c(sl.at)} (i32.add (i32.mul ${get(row)} ${i32c(rowBytes)}) (i32.shl ${get(col)} (i32.const 2))))`,
      ),
      set(sum, total),
      vector
        ? g.emit(row, col, get(sum), true)
        : [0, 1, 2, 3]
            .filter((l) => g.n % 4 > l)
            .map(
              (l) =>
                `${set(col, `(i32.add ${get(col)} ${i32c(l ? 1 : 0)})`)}\n${g.emit(row, col, `(f32x4.extract_lane ${l} ${get(sum)})`, false)}`,
            )
            .join('\n'),
    ].join('\n');
  const full = Math.floor(g.n / 4) * 4;
  const cols = `${forLoop(col, 0, full, 4, group(true), 'gcc')}${g.n % 4 ? `\n${set(col, i32c(full))}\n${group(false)}` : ''}`;
  return splitLoop(f, true, row, 0, g.m, 1, cols, 'gcr');
}

/** The flat output index ((b...) m + i) n + j over the kernel's vars. */
function outIndex(k: ContractionKernel): IExpr {
  const dims = [...k.batch, k.m, k.n];
  let e: IExpr = { k: 'var', i: 0 };
  for (let d = 1; d < dims.length; d++)
    e = { k: 'add', a: { k: 'mul', a: e, b: { k: 'int', v: dims[d]! } }, b: { k: 'var', i: d } };
  return e;
}

/** k (pixels) per block beside transposed patches: the block's slice (all m rows) stays in L2. */
const sliceKc = (m: number): number => Math.max(16, Math.min(256, Math.floor(65536 / aRows(m)) & ~15));

interface View {
  readonly offset: number;
  readonly strides: readonly number[];
}

/** How the operands reach the micro-kernel, and the scratch each takes (in this order after the arena). */
interface Plan {
  readonly a:
    | ({ kind: 'view' } & View)
    | { kind: 'tiles' }
    | { kind: 'rows'; patch: Patch }
    | { kind: 'cols'; patch: Patch }
    | { kind: 'gather'; patch: Patch; pixels: number };
  readonly b: ({ kind: 'view'; inPlace: boolean } & View) | { kind: 'any' };
  readonly kc: number;
  readonly mc: number;
  /** B's panels; A's tiles, one row block of patches, one k block's slice of transposed patches, or a
   *  gather's table; a gather's row sums. */
  readonly bBytes: number;
  readonly aBytes: number;
  readonly accBytes: number;
  readonly partialBytes: number;
  /** Split k (transposed patches with many k blocks): the slices' count, and the bytes of their partials. */
  readonly slices: number;
  readonly sliceBytes: number;
  /** A read in place is read up to MR-1 rows past m (results discarded): that many bytes must exist. */
  readonly overread: number;
}

/** At most this many rows of A, B with contiguous rows is read in place: packing it would cost about as
 *  much as the few row tiles that read each panel. */
const SMALL_M = 32;

/** Transposed patches with at least 4 SLICES k blocks split k into SLICES slices: their row block alone
 *  (one, of every row) would leave a thread a barrier per k block, and too little work between them. */
const SLICES = 8;

/** The table of a gather plan (one row of n floats per image pixel and tap) is at most this many bytes. */
const MAX_TABLE = 64 << 20;

function plan(k: ContractionKernel, bufs: ReadonlyMap<string, BufInfo>): Plan {
  const nb = k.batch.length;
  const av = viewOf(k.a, nb),
    bv = viewOf(k.b, nb);
  const rows = av ? null : patchOf(k.a, nb, 'cols');
  const cols = av || rows ? null : patchOf(k.a, nb, 'rows');
  const pixels = rows && imagePixels(rows, bufs.get(k.a.buf)?.size ?? 0);
  if (rows && pixels && pixels * 1.1 < k.m && (pixels * k.k * k.n * 4) / rows.channels <= MAX_TABLE) {
    // the GEMM on the image, [pixels, C] x [C, taps * n], into the table
    const w = (k.k / rows.channels) * k.n;
    return {
      a: { kind: 'gather', patch: rows, pixels },
      b: { kind: 'any' },
      kc: KC,
      mc: MC,
      bBytes: panels(w) * NR * rows.channels * 4,
      aBytes: pixels * w * 4,
      accBytes: Math.ceil(k.n / 4) * 16,
      partialBytes: gemmScratchBytes(w, rows.channels),
      slices: 0,
      sliceBytes: 0,
      overread: (MR - 1) * rows.channels * 4 + 16,
    };
  }
  const inPlace = av && av.strides[nb + 1] === 1 && k.k <= KC;
  const a: Plan['a'] = inPlace
    ? { kind: 'view', ...av }
    : rows
      ? { kind: 'rows', patch: rows }
      : cols
        ? { kind: 'cols', patch: cols }
        : { kind: 'tiles' };
  const b: Plan['b'] =
    bv && bv.strides[nb + 1] === 1
      ? { kind: 'view', inPlace: (a.kind === 'cols' || k.m <= SMALL_M) && k.n % NR === 0, ...bv }
      : { kind: 'any' };
  const [kc, mc] = a.kind === 'cols' ? [sliceKc(k.m), aRows(k.m)] : [KC, MC];
  const slices = a.kind === 'cols' && nb === 0 && Math.ceil(k.k / kc) >= 4 * SLICES ? SLICES : 0;
  return {
    a,
    b,
    kc,
    mc,
    bBytes: b.kind === 'view' && b.inPlace ? 0 : panels(k.n) * NR * k.k * 4,
    aBytes: { view: 0, tiles: aRows(k.m) * k.k * 4, rows: MC * k.k * 4, cols: mc * kc * 4 }[a.kind],
    accBytes: 0,
    partialBytes: slices ? 0 : gemmScratchBytes(k.n, k.k, kc, mc),
    slices,
    sliceBytes: slices * sliceBytes(k.m, k.n),
    overread: a.kind === 'view' ? (MR - 1) * Math.abs(a.strides[nb]! * 4) + 16 : 0,
  };
}

/** A part of the scratch: in the region the threads share, or in each thread's own, at a byte offset. */
interface Place {
  readonly shared: boolean;
  readonly at: number;
}

/** Where the scratch parts go. Whole-operand packs (B's panels, A's tiles, the k block slices of
 *  transposed patches, a gather's table) are shared: in a threaded build each thread packs its share of
 *  them, then a barrier; the slices, packed once per k block, take two slots so that one barrier per
 *  block suffices (a thread packing the next slice has passed the barrier that ends every thread's use of
 *  the one before). With split k, each thread packs its own k blocks, and the slices' partials are
 *  shared. A batched contraction keeps every pack its own (its threads split each batch's GEMM), and so
 *  does one thread. */
function placesOf(p: Plan, batched: boolean, threads: boolean) {
  const sharing = threads && !batched;
  let shared = 0,
    own = 0;
  const put = (bytes: number, inShared: boolean): Place => {
    const at = inShared ? shared : own;
    if (inShared) shared += bytes;
    else own += bytes;
    return { shared: inShared, at };
  };
  const gather = p.a.kind === 'gather';
  // split k: each thread packs its slices' k blocks into its own slot
  const slots = sharing && p.a.kind === 'cols' && !p.slices ? 2 : 1;
  const b = put(p.bBytes, sharing && !gather);
  const a = put(p.aBytes * slots, sharing && p.a.kind !== 'rows' && !p.slices);
  const acc = put(p.accBytes, false),
    partial = put(p.partialBytes, false),
    slices = put(p.sliceBytes, sharing);
  own += p.overread;
  return { b, a, acc, partial, slices, slots, shared, own, sharing };
}

/** Bytes of the scratch a contraction needs: its threads' shared region, each thread's own, or (one
 *  thread) all of it. */
export function contractionScratchBytes(
  k: ContractionKernel,
  bufs: ReadonlyMap<string, BufInfo>,
  part: 'all' | 'shared' | 'own' = 'all',
): number {
  const pl = placesOf(plan(k, bufs), k.batch.length > 0, part !== 'all');
  return part === 'shared' ? pl.shared : part === 'own' ? pl.own : pl.shared + pl.own;
}

/** Byte address of element (major, minor) of a matrix stored in blocks of `width` majors, `len` minors
 *  each (A's MR-row tiles: rows major; B's NR-column panels: columns major). */
const blocked = (at: number, len: number, width: number, major: string, minor: string): string =>
  `(i32.add ${i32c(at)} (i32.shl (i32.add (i32.mul (i32.add (i32.mul (i32.div_u ${major} ${i32c(width)}) ${i32c(len)}) ${minor}) ${i32c(width)}) (i32.rem_u ${major} ${i32c(width)})) (i32.const 2)))`;

export function renderContraction(
  k: ContractionKernel,
  name: string,
  bufs: ReadonlyMap<string, BufInfo>,
  scratch: number,
  relaxed: boolean,
  threads = false,
): string {
  const f = new Func(name, bufs, relaxed, threads);
  if (k.m === 0 || k.n === 0 || k.batch.includes(0)) return f.render('');
  const p = plan(k, bufs),
    nb = k.batch.length;
  // a threaded build's shared region is at SHARED, each thread's own scratch at `scratch` (threads.ts)
  const pl = placesOf(p, nb > 0, threads);
  const at = (x: Place): number => (x.shared ? SHARED : scratch) + x.at;
  const bAt = at(pl.b),
    aAt = at(pl.a),
    partial = at(pl.partial);
  const out = outIndex(k),
    epi: SExpr = k.epilogue ?? { k: 'acc', name: 'dot' };
  const dotV = f.local('dot_v', 'v128'),
    dotS = f.local('dot_s', 'f32');
  const emit = (row: string, col: string, value: string, vector: boolean): string =>
    withMode(f, vector ? nb + 1 : null, () => {
      f.accs.set('dot', { local: vector ? dotV : dotS, dtype: 'f32', vector });
      return [
        set(f.v(nb), get(row)),
        set(f.v(nb + 1), get(col)),
        set(vector ? dotV : dotS, value),
        store(f, k.out, out, sx(f, epi)),
      ].join('\n');
    });
  const parts: string[] = [];
  const a = p.a;
  if (a.kind === 'gather') {
    // table[q, (t, j)] = sum_c image[q, c] B[(t, c), j]: B's row (t, c) is row c of the panels, column t n + j
    const { patch, pixels } = a,
      C = patch.channels,
      w = (k.k / C) * k.n;
    if (w % NR) parts.push(`(memory.fill ${i32c(bAt)} (i32.const 0) ${i32c(p.bBytes)})`);
    parts.push(
      fillElements(
        f,
        k.b,
        0,
        (r, c) =>
          blocked(
            bAt,
            C,
            NR,
            `(i32.add (i32.mul (i32.div_u ${get(r)} ${i32c(C)}) ${i32c(k.n)}) ${get(c)})`,
            `(i32.rem_u ${get(r)} ${i32c(C)})`,
          ),
        'b',
      ),
    );
    const table = aAt;
    const toTable = (row: string, col: string, value: string, vector: boolean): string =>
      `(${vector ? 'v128' : 'f32'}.store (i32.add ${i32c(table)} (i32.shl (i32.add (i32.mul ${get(row)} ${i32c(w)}) ${get(col)}) (i32.const 2))) ${value})`;
    parts.push(
      gemm(f, {
        m: pixels,
        n: w,
        k: C,
        aAddr: i32c(f.buf(k.a.buf).offset),
        aRowBytes: C * 4,
        packedB: i32c(bAt),
        emit: toTable,
        partial,
      }),
    );
    // a threaded build's threads share the table: each waits for all its rows
    parts.push(barrier(f), gatherRows(f, patch, k.m, table, k.n, at(pl.acc), emit));
    return f.render(parts.join('\n'));
  }
  /** A local holding the byte address of a view's element (0, 0) in the current batch. */
  const base = (name: string, buf: string, v: View): string => {
    parts.push(
      set(
        f.local(name, 'i32'),
        k.batch.reduce(
          (e, _d, d) => `(i32.add ${e} (i32.mul ${get(f.v(d))} ${i32c(v.strides[d]! * 4)}))`,
          i32c(f.buf(buf).offset + v.offset * 4),
        ),
      ),
    );
    return f.local(name, 'i32');
  };
  // whole-operand packs: in a threaded build, shared ones are packed by all threads, a share each
  let packedB = i32c(bAt),
    packs = false;
  if (p.b.kind === 'any') {
    if (k.n % NR) {
      // zeros past n: the last panel's rows of this thread's share of k (the rows it then fills)
      const z = pl.b.shared ? share(f, k.k, 'bz') : { code: '', lo: i32c(0), hi: i32c(k.k) };
      const from = `(i32.add ${i32c(bAt)} (i32.mul (i32.add ${i32c((panels(k.n) - 1) * k.k)} ${z.lo}) ${i32c(NR * 4)}))`;
      parts.push(z.code, `(memory.fill ${from} (i32.const 0) (i32.mul (i32.sub ${z.hi} ${z.lo}) ${i32c(NR * 4)}))`);
    }
    parts.push(fillElements(f, k.b, nb, (r, c) => blocked(bAt, k.k, NR, get(c), get(r)), 'b', pl.b.shared));
    packs = true;
  } else {
    const bBase = base('bBase', k.b.buf, p.b);
    if (p.b.inPlace) packedB = get(bBase);
    else {
      const rowBytes = p.b.strides[nb]! * 4;
      parts.push(packB(f, { n: k.n, k: k.k, dst: bAt, src: bBase, rowBytes, split: pl.b.shared }));
      packs = true;
    }
  }
  let aSide: Pick<Gemm, 'aAddr' | 'aRowBytes' | 'aTiled' | 'aTileK' | 'prepare' | 'prepareK'>;
  if (a.kind === 'view') aSide = { aAddr: get(base('aBase', k.a.buf, a)), aRowBytes: a.strides[nb]! * 4 };
  else if (a.kind === 'tiles') {
    const av = viewOf(k.a, nb);
    const split = pl.a.shared;
    if (av && av.strides[nb] === 1 && k.m % MR === 0) {
      const src = base('aBase', k.a.buf, av),
        colBytes = av.strides[nb + 1]! * 4;
      parts.push(packTransposedA(f, { m: k.m, k: k.k, dst: aAt, src, colBytes, split }));
    } else parts.push(fillElements(f, k.a, nb, (r, c) => blocked(aAt, k.k, MR, get(r), get(c)), 'a', split));
    aSide = { aAddr: i32c(aAt), aRowBytes: 0, aTiled: true };
    packs = true;
  } else if (a.kind === 'rows') {
    // the block's rows [i0, i1) at aAt, row-major
    const i0 = blockRow(f);
    const n = `(i32.sub ${get(blockEnd(f))} ${get(i0)})`;
    aSide = {
      aAddr: `(i32.sub ${i32c(aAt)} (i32.mul ${get(i0)} ${i32c(k.k * 4)}))`,
      aRowBytes: k.k * 4,
      prepare: patchRows(f, a.patch, get(i0), n, aAt),
    };
  } else {
    // the k block's columns [p0, p0 + kb) in MR-row tiles of kc at its slot (threads: each thread packs
    // a share of the columns, then a barrier)
    const p0 = get(blockK(f));
    const slot =
      pl.slots > 1
        ? `(i32.add ${i32c(aAt)} (i32.mul (i32.and (i32.div_u ${p0} ${i32c(p.kc)}) (i32.const 1)) ${i32c(p.aBytes)}))`
        : i32c(aAt);
    const cols = pl.a.shared ? share(f, get(blockKLen(f)), 'pt') : { code: '', lo: i32c(0), hi: get(blockKLen(f)) };
    const dst = `(i32.add ${slot} (i32.mul ${cols.lo} ${i32c(MR * 4)}))`;
    const pack = patchCols(f, a.patch, `(i32.add ${p0} ${cols.lo})`, `(i32.sub ${cols.hi} ${cols.lo})`, dst, p.kc, MR);
    const prepareK = `${cols.code}\n(if (i32.lt_s ${cols.lo} ${cols.hi}) (then ${pack}))\n${pl.a.shared ? barrier(f) : ''}`;
    aSide = {
      aAddr: `(i32.sub ${slot} (i32.mul ${p0} ${i32c(MR * 4)}))`,
      aRowBytes: 0,
      aTiled: true,
      aTileK: p.kc,
      prepareK,
    };
  }
  if (packs && pl.sharing) parts.push(barrier(f));
  const bRows = p.b.kind === 'view' && p.b.inPlace ? { bRowBytes: p.b.strides[nb]! * 4 } : {};
  const slices = p.slices ? { slices: { count: p.slices, at: at(pl.slices) } } : {};
  parts.push(
    gemm(f, { m: k.m, n: k.n, k: k.k, packedB, emit, partial, kc: p.kc, mc: p.mc, ...bRows, ...aSide, ...slices }),
  );
  let body = parts.join('\n');
  for (let d = nb - 1; d >= 0; d--) body = forLoop(f.v(d), 0, k.batch[d]!, 1, body, `b${d}`);
  return f.render(body);
}
