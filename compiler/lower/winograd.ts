// A Kernel IR pass: a 3x3 stride-1 convolution contraction with enough channels (conv2d, and
// conv2d_input_grad, which is one over dy with the turned filter) becomes Winograd's minimal filtering
// F(m x m, 3 x 3) (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016). Each
// m x m tile of the output is Y = AT [(G g GT) . (BT d B)] A for its (m+2) x (m+2) input tile d, so
// the contraction over C runs once per transform point, (m+2)^2 of them, instead of 9 m^2 times:
//   filter   U[p, c, f] = (G g[., ., c, f] GT)[p]                 loop kernel over [C, F]
//   input    V[p, t, c] = (BT d[t, ., ., c] B)[p]                 m+2 loop kernels (one per row of BT d)
//                                                                  over the tiles' [N, TH, TW, C]
//   product  M[p, t, f] = sum_c V[p, t, c] U[p, c, f]             contraction, batch [(m+2)^2]
//   output   y[tile t's pixels, f] = epilogue((AT M[., t, f] A))  loop kernel over [N, TH, TW, F]
// The transforms are sums of loads times constants written separably (BT d, then (BT d) B), the
// shared half bound once per point (LoopKernel.lets). A convolution is recognized by its operand alone:
// A must equal the window windowOperand builds for a stride-1, undilated 3x3 window over some NHWC
// image, so the pass needs no knowledge of the graph op it came from. Tiles that overhang the output
// read zeros past the image and store nothing past the output. The filter gradient (A that window
// transposed) uses the same matrices in the dual form (filterGradKernels), and reads the V of the
// convolution over the same image in the same entry when one was rewritten before it.
//
// F(4x4, 3x3) is the default: 36 products per output tile of 16 pixels instead of 144. F(2x2, 3x3)
// (16 per 4 pixels) multiplies only by small integers and halves, so its error stays near the direct
// convolution's; F(4x4)'s constants (up to 8 and 1/24) make it larger, about 1e-6 of the output's
// largest value (docs/winograd.md states both, test/compiler/winograd.test.ts checks them).
import { viewOperand, windowOperand, affineOf } from '../../ir/contraction.ts';
import {
  delinearize,
  foldIExprNode,
  ic,
  iadd,
  imul,
  isub,
  iv,
  linearize,
  rangeOf,
  sameIExpr,
  substitute,
} from '../../ir/iexpr.ts';
import type {
  Binding,
  Bound,
  BufferDecl,
  ContractionKernel,
  IExpr,
  Kernel,
  LoopKernel,
  Operand,
  SExpr,
  Store,
  UnplannedProgram,
} from '../../ir/kernel.ts';
import { mapSExpr } from '../../ir/kernel-walk.ts';

/** The transform matrices of F(m x m, r x r): y = AT [(G g GT) . (BT d B)] A. */
export interface WinogradTransform {
  readonly m: number;
  readonly AT: readonly (readonly number[])[];
  readonly G: readonly (readonly number[])[];
  readonly BT: readonly (readonly number[])[];
}

/** F(2x2, 3x3), points 0, 1, -1, infinity. */
export const F2: WinogradTransform = {
  m: 2,
  AT: [
    [1, 1, 1, 0],
    [0, 1, -1, -1],
  ],
  G: [
    [1, 0, 0],
    [0.5, 0.5, 0.5],
    [0.5, -0.5, 0.5],
    [0, 0, 1],
  ],
  BT: [
    [1, 0, -1, 0],
    [0, 1, 1, 0],
    [0, -1, 1, 0],
    [0, 1, 0, -1],
  ],
};

/** F(4x4, 3x3), points 0, 1, -1, 2, -2, infinity. */
export const F4: WinogradTransform = {
  m: 4,
  AT: [
    [1, 1, 1, 1, 1, 0],
    [0, 1, -1, 2, -2, 0],
    [0, 1, 1, 4, 4, 0],
    [0, 1, -1, 8, -8, 1],
  ],
  G: [
    [1 / 4, 0, 0],
    [-1 / 6, -1 / 6, -1 / 6],
    [-1 / 6, 1 / 6, -1 / 6],
    [1 / 24, 1 / 12, 1 / 6],
    [1 / 24, -1 / 12, 1 / 6],
    [0, 0, 1],
  ],
  BT: [
    [4, 0, -5, 0, 1, 0],
    [0, -4, -4, 1, 1, 0],
    [0, 4, -4, -1, 1, 0],
    [0, -2, -1, 2, 1, 0],
    [0, 2, -1, -2, 1, 0],
    [0, 4, 0, -5, 0, 1],
  ],
};

export interface WinogradOptions {
  /** Which transform (default F4); false leaves every convolution direct. */
  readonly transform?: WinogradTransform | false;
  /** Both channel counts (the contraction's k / 9 and n) at least this. */
  readonly minChannels?: number;
  /** Only when the transform's multiplies are at most this fraction of the direct convolution's. */
  readonly maxRatio?: number;
  /** Only with at least this many tiles (the rows of each point's product) in all images together. */
  readonly minTiles?: number;
}

const MIN_CHANNELS = 16;
const MAX_RATIO = 0.4;
/** Fewer tiles make products of a few rows each, too small for a target's tiled GEMM to pay for the
 *  transforms (a batch of one MNIST digit has 9 tiles per point in the middle layer). */
const MIN_TILES = 64;

/** A stride-1 undilated 3x3 convolution as a contraction: its image, padding and the filter operand. */
interface Conv {
  readonly image: string;
  /** [N, H, W, C] of the image, [OH, OW] of the output. */
  readonly shape: readonly [number, number, number, number];
  readonly out: readonly [number, number];
  readonly pads: readonly [number, number];
  /** Output channels (the contraction's n). */
  readonly F: number;
}

/** The geometry of a stride-1, undilated 3x3 window whose patches operand `a` reads, pixels on the
 *  `pixels` side (conv2d's A: 'rows'; the filter gradient's: 'cols'), or null: `a` is rebuilt by
 *  windowOperand from its strides and compared. */
function windowOf(a: Operand, pixels: 'rows' | 'cols'): Omit<Conv, 'F'> | null {
  const [px, taps] = pixels === 'rows' ? [a.rows, a.cols] : [a.cols, a.rows];
  if (px.length !== 3 || taps.length !== 3 || taps[0] !== 3 || taps[1] !== 3) return null;
  const [N, OH, OW] = px as [number, number, number];
  const C = taps[2]!;
  // the variables of the pixel (n, y, x) and the tap (i, j, c)
  const [n, y, x, i, j, c] = pixels === 'rows' ? [0, 1, 2, 3, 4, 5] : [3, 4, 5, 0, 1, 2];
  const af = affineOf(a.at);
  if (!af) return null;
  const s = (v: number): number => af.coefs[v] ?? 0;
  if (s(c) !== 1 || s(j) !== C || s(x) !== C || af.offset > 0) return null;
  const rowStride = s(i);
  if (rowStride % C || s(y) !== rowStride || !rowStride) return null;
  const W = rowStride / C;
  const imageStride = s(n);
  if (imageStride <= 0 || imageStride % rowStride) return null;
  const H = imageStride / rowStride;
  const before = 0 - af.offset; // elements before the window's first tap (0, never -0)
  const pt = Math.floor(before / rowStride),
    pl = (before - pt * rowStride) / C;
  const image = [N, H, W, C] as const;
  const w = windowOperand(
    a.buf,
    { image, out: [OH, OW], kernel: [3, 3], strides: [1, 1], dilations: [1, 1], pads: [pt, pl] },
    pixels,
  );
  const sameGuards = (x: readonly Bound[] = [], y: readonly Bound[] = []): boolean =>
    x.length === y.length && x.every((g, i) => g.lo === y[i]!.lo && g.hi === y[i]!.hi && sameIExpr(g.e, y[i]!.e));
  if (!sameIExpr(w.at, a.at) || !sameGuards(w.guard, a.guard)) return null;
  return { image: a.buf, shape: image, out: [OH, OW], pads: [pt, pl] };
}

/** The convolution `k` computes, or null: A must be windowOperand's patches of a stride-1, undilated
 *  3x3 window, B any operand of 9 C rows. */
export function convOf(k: ContractionKernel): Conv | null {
  const w = k.batch.length ? null : windowOf(k.a, 'rows');
  return w && { ...w, F: k.n };
}

/** The filter gradient `k` computes (dw = patches(x)^T dy), or null: A must be windowOperand's
 *  transposed patches of a stride-1, undilated 3x3 window over x, B any operand of N OH OW rows (dy). */
export function filterGradOf(k: ContractionKernel): Conv | null {
  const w = k.batch.length ? null : windowOf(k.a, 'cols');
  return w && { ...w, F: k.n };
}

const f32 = (v: number): SExpr => ({ k: 'const', v, dtype: 'f32' });
const op = (name: string, ...args: SExpr[]): SExpr => ({ k: 'op', op: name, args, dtype: 'f32' });

/** sum_i coefs[i] xs[i], with no multiply by +-1 and no term for 0. */
function combination(coefs: readonly number[], xs: readonly SExpr[]): SExpr {
  let e: SExpr | undefined;
  // the positive terms first, so a negation is needed only when all are negative
  const order = [...coefs.keys()].sort((i, j) => Number(coefs[i]! < 0) - Number(coefs[j]! < 0));
  order.forEach((i) => {
    const c = coefs[i]!;
    if (c === 0) return;
    const t = Math.abs(c) === 1 ? xs[i]! : op('mul', xs[i]!, f32(Math.abs(c)));
    e = e === undefined ? (c < 0 ? op('neg', t) : t) : op(c < 0 ? 'sub' : 'add', e, t);
  });
  return e ?? f32(0);
}

/** Bindings of a kernel under construction; `bind` names an op's value, leaves a load or constant inline. */
class Lets {
  readonly list: Binding[] = [];
  bind(value: SExpr): SExpr {
    if (value.k !== 'op') return value;
    const name = `w${this.list.length}`;
    this.list.push({ name, value, dtype: 'f32' });
    return { k: 'let', name };
  }
}

/** Row r of L X LT for the n x n grid X (row-major, n = L's width), separably: row r of L X bound once
 *  per column, then times LT. */
function transformRow(L: readonly (readonly number[])[], r: number, X: readonly SExpr[], lets: Lets): SExpr[] {
  const l = L[r]!,
    n = l.length;
  const lx = Array.from({ length: n }, (_, b) =>
    lets.bind(
      combination(
        l,
        l.map((_, a) => X[a * n + b]!),
      ),
    ),
  );
  return L.map((row) => combination(row, lx));
}

/** L X LT, row by row. */
const transform2d = (L: readonly (readonly number[])[], X: readonly SExpr[], lets: Lets): SExpr[] =>
  L.flatMap((_, r) => transformRow(L, r, X, lets));

/** The element of operand `o` (of a kernel without batch) at flat row `r` and flat column `c`, with the
 *  new kernel's loop ranges `extents`. */
function operandAt(o: Operand, r: IExpr, c: IExpr, extents: readonly number[]): SExpr {
  const coords = [...delinearize(r, o.rows, extents), ...delinearize(c, o.cols, extents)];
  const sub = (e: IExpr): IExpr => substitute(e, (i) => coords[i]!);
  return {
    k: 'load',
    buf: o.buf,
    at: sub(o.at),
    ...(o.guard ? { guard: o.guard.map((g) => ({ ...g, e: sub(g.e) })), otherwise: 0 } : {}),
  };
}

/** V[p, t, c] = (BT d B)[p] for each tile t of the output, d[a, b] = image[n, ty m + a - pt, tx m + b - pl, c];
 *  vars (n, ty, tx, c), V laid out [(m+2)^2, R, C]. One kernel per row of BT d: its m+2 points need only
 *  that row, so no work is repeated, and each kernel writes m+2 streams of V instead of (m+2)^2 (a WGSL
 *  compiler also takes far less time on kernels of this size: SwiftShader needs minutes for F(4x4)'s 36
 *  stores in one). */
function inputKernels(
  conv: Conv,
  t: WinogradTransform,
  V: string,
  R: number,
  name: (s: string) => string,
): LoopKernel[] {
  const { m, BT } = t;
  const alpha = m + 2,
    P = alpha * alpha;
  const [N, H, W, C] = conv.shape;
  const [pt, pl] = conv.pads;
  const [TH, TW] = [Math.ceil(conv.out[0] / m), Math.ceil(conv.out[1] / m)];
  const ie = [N, TH, TW, C];
  const axis = (tv: number, a: number, pad: number, size: number): [IExpr, Bound[]] => {
    const e = isub(iadd(imul(iv(tv), ic(m)), ic(a)), ic(pad));
    const [lo, hi] = rangeOf(e, ie);
    return [e, lo < 0 || hi >= size ? [{ e, lo: 0, hi: size }] : []];
  };
  const d = Array.from({ length: P }, (_, ab): SExpr => {
    const [y, gy] = axis(1, Math.floor(ab / alpha), pt, H),
      [x, gx] = axis(2, ab % alpha, pl, W);
    const guard = [...gy, ...gx];
    const at = linearize([iv(0), y, x, iv(3)], conv.shape);
    return guard.length ? { k: 'load', buf: conv.image, at, guard, otherwise: 0 } : { k: 'load', buf: conv.image, at };
  });
  const tile = linearize([iv(0), iv(1), iv(2)], [N, TH, TW]);
  return BT.map((_, xi): LoopKernel => {
    const lets = new Lets();
    const stores = transformRow(BT, xi, d, lets).map((value, nu) => ({
      buf: V,
      at: linearize([ic(xi * alpha + nu), tile, iv(3)], [P, R, C]),
      value,
    }));
    return { kind: 'loop', name: name(`i${xi}`), space: ie, lets: lets.list, stores };
  });
}

/** The name of kernel or temporary `s` of the rewrite of `k`. */
const wname = (k: Kernel, s: string): string => `${k.name}_w${s}`;

/** The kernels and temporaries replacing convolution contraction `k`. */
/** The tiling of convolution `k` by transform `t`, and the names of its rewrite's kernels and temporaries. */
function tilingOf(k: ContractionKernel, conv: Conv, t: WinogradTransform) {
  const m = t.m,
    alpha = m + 2;
  const [N, , , C] = conv.shape;
  const [OH, OW] = conv.out;
  const [TH, TW] = [Math.ceil(OH / m), Math.ceil(OW / m)];
  const T = N * TH * TW;
  const name = (s: string): string => wname(k, s);
  return {
    m,
    alpha,
    P: alpha * alpha,
    N,
    C,
    F: conv.F,
    OH,
    OW,
    TH,
    TW,
    T,
    // the transformed buffers hold one row more per point than there are tiles (its contents
    // unspecified, its products never read): with T a multiple of 16 the points' rows would sit a
    // multiple of 4 KiB apart, and the (m+2)^2 loads or stores of a tile would all fall in one set of
    // a CPU's L1 cache
    R: T + 1,
    name,
    temp: (s: string, size: number): BufferDecl => ({ name: name(s), dtype: 'f32', size, role: 'temp' }),
  };
}

function winogradKernels(k: ContractionKernel, conv: Conv, t: WinogradTransform): [Kernel[], BufferDecl[]] {
  const { AT, G } = t;
  const { m, P, N, C, F, OH, OW, TH, TW, R, name, temp } = tilingOf(k, conv, t);
  const [U, V, M] = [temp('u', P * C * F), temp('v', P * R * C), temp('m', P * R * F)];

  // U[p, c, f] = (G g GT)[p], g[i, j] = B[(i*3 + j) C + c, f]; vars (c, f)
  const fe = [C, F];
  const g = Array.from({ length: 9 }, (_, ij) => operandAt(k.b, iadd(imul(ic(ij), ic(C)), iv(0)), iv(1), fe));
  const fl = new Lets();
  const filter: LoopKernel = {
    kind: 'loop',
    name: name('f'),
    space: fe,
    stores: transform2d(G, g, fl).map((value, p) => ({
      buf: U.name,
      at: linearize([ic(p), iv(0), iv(1)], [P, C, F]),
      value,
    })),
    lets: fl.list,
  };

  const tile = linearize([iv(0), iv(1), iv(2)], [N, TH, TW]);
  const inputs = inputKernels(conv, t, V.name, R, name);

  const product: ContractionKernel = {
    kind: 'contraction',
    name: name('g'),
    batch: [P],
    m: R,
    n: F,
    k: C,
    a: viewOperand(V.name, 0, [R * C, C, 1], R, C),
    b: viewOperand(U.name, 0, [C * F, F, 1], C, F),
    out: M.name,
  };

  // y[n, ty m + i, tx m + j, f] = epilogue((AT M[., t, f] A)[i, j]); vars (n, ty, tx, f)
  const oe = [N, TH, TW, F];
  const Mt = Array.from(
    { length: P },
    (_, p): SExpr => ({
      k: 'load',
      buf: M.name,
      at: linearize([ic(p), tile, iv(3)], [P, R, F]),
    }),
  );
  const ol = new Lets();
  const ys = transform2d(AT, Mt, ol).map((y) => ol.bind(y));
  const stores = ys.map((value, ij): Store => {
    const [i, j] = [Math.floor(ij / m), ij % m];
    const y = iadd(imul(iv(1), ic(m)), ic(i)),
      x = iadd(imul(iv(2), ic(m)), ic(j));
    const guard: Bound[] = [];
    if (TH * m > OH) guard.push({ e: y, lo: 0, hi: OH });
    if (TW * m > OW) guard.push({ e: x, lo: 0, hi: OW });
    const at = [linearize([iv(0), y, x], [N, OH, OW]), iv(3)];
    const store = { buf: k.out, at: linearize(at, [N * OH * OW, F]), value: epilogueAt(k, at, value) };
    return guard.length ? { ...store, guard } : store;
  });
  const output: LoopKernel = { kind: 'loop', name: name('o'), space: oe, lets: ol.list, stores };
  return [
    [filter, ...inputs, product, output],
    [U, V, M],
  ];
}

/** `k`'s epilogue at output element (row, col) = `at`, its dot product being `value`. */
function epilogueAt(k: ContractionKernel, at: readonly IExpr[], value: SExpr): SExpr {
  return k.epilogue
    ? mapSExpr(k.epilogue, {
        iexpr: (e) => (e.k === 'var' ? at[e.i]! : foldIExprNode(e)),
        sexpr: (e) => (e.k === 'acc' && e.name === 'dot' ? value : e),
      })
    : value;
}

const transposed = (L: readonly (readonly number[])[]): number[][] => L[0]!.map((_, j) => L.map((row) => row[j]!));

/** The kernels and temporaries replacing filter-gradient contraction `k` (dw = patches(x)^T dy). With
 *  y = AT [(G g) . (BT d)] in one dimension, sum_i dy_i y_i = sum_j g_j (GT [(A dy) . (BT d)])_j, so
 *  each tile's share of dw is GT [(A dy A^T) . (BT d B)] G: x's tiles transformed as conv2d's input, dy's
 *  m x m tiles by A (AT's transpose), a product per point summing over the tiles, and GT . G back to 3 x 3:
 *    input    V[p, t, c] = (BT d[t] B)[p]                      as convolution (inputKernels)
 *    dy       D[p, t, f] = (A dy[t] AT)[p]                     m+2 loop kernels over [N, TH, TW, F]
 *    product  M[p, c, f] = sum_t V[p, t, c] D[p, t, f]         contraction, batch [(m+2)^2], k = tiles
 *    output   dw[i, j, c, f] = epilogue((GT M[., c, f] G)[i, j])  loop kernel over [C, F]
 *  dy reads 0 past the output where tiles overhang it. */
function filterGradKernels(
  k: ContractionKernel,
  conv: Conv,
  t: WinogradTransform,
  sharedV?: string,
): [Kernel[], BufferDecl[]] {
  // a spare row per point in V and D (tilingOf); M (C F floats a point) is small enough to stay in a
  // CPU's L2 cache
  const { m, alpha, P, N, C, F, OH, OW, TH, TW, T, R, name, temp } = tilingOf(k, conv, t);
  const [D, M] = [temp('d', P * R * F), temp('m', P * C * F)];
  const V = sharedV ?? name('v');
  const inputs = sharedV ? [] : inputKernels(conv, t, V, R, name);

  // D[p, t, f] = (A dy A^T)[p], dy[i, j] = B[(n OH + ty m + i) OW + tx m + j, f]; vars (n, ty, tx, f)
  const de = [N, TH, TW, F];
  const dy = Array.from({ length: m * m }, (_, ij): SExpr => {
    const y = iadd(imul(iv(1), ic(m)), ic(Math.floor(ij / m))),
      x = iadd(imul(iv(2), ic(m)), ic(ij % m));
    const load = operandAt(k.b, linearize([iv(0), y, x], [N, OH, OW]), iv(3), de) as SExpr & { k: 'load' };
    const guard: Bound[] = [...(load.guard ?? [])];
    if (rangeOf(y, de)[1] >= OH) guard.push({ e: y, lo: 0, hi: OH });
    if (rangeOf(x, de)[1] >= OW) guard.push({ e: x, lo: 0, hi: OW });
    return guard.length ? { ...load, guard, otherwise: 0 } : load;
  });
  const A = transposed(t.AT);
  const tile = linearize([iv(0), iv(1), iv(2)], [N, TH, TW]);
  const dys = A.map((_, xi): LoopKernel => {
    const lets = new Lets();
    const stores = transformRow(A, xi, dy, lets).map((value, nu) => ({
      buf: D.name,
      at: linearize([ic(xi * alpha + nu), tile, iv(3)], [P, R, F]),
      value,
    }));
    return { kind: 'loop', name: name(`d${xi}`), space: de, lets: lets.list, stores };
  });

  const product: ContractionKernel = {
    kind: 'contraction',
    name: name('g'),
    batch: [P],
    m: C,
    n: F,
    k: T,
    a: viewOperand(V, 0, [R * C, 1, C], C, T),
    b: viewOperand(D.name, 0, [R * F, F, 1], T, F),
    out: M.name,
  };

  // dw[(i 3 + j) C + c, f] = epilogue((GT M[., c, f] G)[i, j]); vars (c, f)
  const Mt = Array.from(
    { length: P },
    (_, p): SExpr => ({ k: 'load', buf: M.name, at: linearize([ic(p), iv(0), iv(1)], [P, C, F]) }),
  );
  const ol = new Lets();
  const stores = transform2d(transposed(t.G), Mt, ol).map((value, ij): Store => {
    const at = [iadd(imul(ic(ij), ic(C)), iv(0)), iv(1)];
    return { buf: k.out, at: linearize(at, [9 * C, F]), value: epilogueAt(k, at, ol.bind(value)) };
  });
  const output: LoopKernel = { kind: 'loop', name: name('o'), space: [C, F], lets: ol.list, stores };
  return [[...inputs, ...dys, product, output], sharedV ? [D, M] : [temp('v', P * R * C), D, M]];
}

/** The buffers kernel `k` stores to. */
const writes = (k: Kernel): string[] => (k.kind === 'loop' ? k.stores.map((s) => s.buf) : [k.out]);

/** The stride-1 3x3 convolutions of a program, with enough channels, rewritten as Winograd F(m, 3);
 *  `replaced` hears each rewritten kernel's name with its replacements' (for `kiln inspect`'s origins). */
export function winograd(
  p: UnplannedProgram,
  opts: WinogradOptions = {},
  replaced?: (from: string, to: readonly string[]) => void,
): UnplannedProgram {
  const t = opts.transform ?? F4;
  if (t === false) return p;
  const minC = opts.minChannels ?? MIN_CHANNELS,
    maxRatio = opts.maxRatio ?? MAX_RATIO,
    minTiles = opts.minTiles ?? MIN_TILES;
  const temps: BufferDecl[] = [];
  // per entry: the transformed input V of each image and geometry, by the kernel index that made it
  // (a training step's filter gradient reads the V of the convolution over the same x)
  let made = new Map<string, { v: string; at: number }>();
  const rewrite = (k: Kernel, at: number, kernels: readonly Kernel[]): Kernel[] => {
    if (k.kind !== 'contraction') return [k];
    const conv = convOf(k),
      grad = conv ? null : filterGradOf(k);
    const geo = conv ?? grad;
    if (!geo) return [k];
    const [N, , , C] = geo.shape;
    const [OH, OW] = geo.out;
    const alpha = t.m + 2,
      tiles = Math.ceil(OH / t.m) * Math.ceil(OW / t.m);
    const ratio = (alpha * alpha * tiles) / (9 * OH * OW);
    if (C < minC || geo.F < minC || ratio > maxRatio || N * tiles < minTiles) return [k];
    const key = JSON.stringify([geo.image, geo.shape, geo.out, geo.pads, t.m]);
    const prior = made.get(key);
    const unchanged = prior && kernels.slice(prior.at, at).every((x) => !writes(x).includes(geo.image));
    const [ks, bufs] = conv
      ? winogradKernels(k, conv, t)
      : filterGradKernels(k, geo, t, unchanged ? prior.v : undefined);
    if (conv) made.set(key, { v: wname(k, 'v'), at });
    temps.push(...bufs);
    replaced?.(
      k.name,
      ks.map((x) => x.name),
    );
    return ks;
  };
  const entries = p.entries.map((e) => {
    made = new Map();
    return { ...e, kernels: e.kernels.flatMap((k, at) => rewrite(k, at, e.kernels)) };
  });
  return temps.length ? { ...p, buffers: [...p.buffers, ...temps], entries } : p;
}
