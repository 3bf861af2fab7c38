// compiler/lower/share.ts: the subexpressions a loop kernel's stores repeat become bindings
// (LoopKernel.lets) computed once per point. Checked on the bindings chosen for small kernels, on
// their values (the Kernel IR interpreter gives the same bits with and without the bindings), on
// the ordering rule for buffers the kernel stores, and on the LSTM and GRU training steps: the
// compiled programs, with their bindings inlined back, give bitwise the same results on the
// Kernel IR interpreter and on WebAssembly.
import { describe, expect, it } from 'vitest';
import { KilnError } from '../../ir/errors.ts';
import { interpretProgram } from '../../ir/interpret-kernels.ts';
import type { IExpr, Kernel, LoopKernel, Program, SExpr } from '../../ir/kernel.ts';
import type { Tensor } from '../../ir/types.ts';
import { compileProgram } from '../../compiler/pipeline.ts';
import { printKernel } from '../../ir/print-kernels.ts';
import { share } from '../../compiler/lower/share.ts';
import { renderWasm } from '../../targets/wasm/index.ts';
import { loadWasm, type RuntimeTensor } from '../../runtime/index.ts';
import { rng } from '../grad/check-vjp.ts';
import { runtimeTensor } from '../targets/wasm-helpers.ts';
import { SEED_CASES, seedBatch, seedEntries, seedModel, seedParams } from './seed-cases.ts';
import { toManifest } from '../../compiler/artifact/manifest.ts';

const N = 9;
const v0: IExpr = { k: 'var', i: 0 };
const load = (buf: string, at: IExpr = v0): SExpr => ({ k: 'load', buf, at });
const op = (name: string, ...args: SExpr[]): SExpr => ({ k: 'op', op: name, dtype: 'f32', args });
const c = (v: number): SExpr => ({ k: 'const', v, dtype: 'f32' });
const loop = (stores: [string, SExpr][]): LoopKernel => ({
  kind: 'loop',
  name: 'k',
  space: [N],
  stores: stores.map(([buf, value]) => ({ buf, at: v0, value })),
});

/** The kernel with every binding substituted back where it is read. */
function inline(k: LoopKernel): LoopKernel {
  const vals = new Map<string, SExpr>();
  const sub = (e: SExpr): SExpr =>
    e.k === 'let' ? vals.get(e.name)! : e.k === 'op' ? { ...e, args: e.args.map(sub) } : e;
  for (const l of k.lets ?? []) vals.set(l.name, sub(l.value));
  return {
    kind: 'loop',
    name: k.name,
    space: k.space,
    ...(k.reduce ? { reduce: k.reduce } : {}),
    stores: k.stores.map((s) => ({ ...s, value: sub(s.value) })),
  };
}

const inlineAll = (p: Program): Program => ({
  ...p,
  entries: p.entries.map((e) => ({ ...e, kernels: e.kernels.map((k): Kernel => (k.kind === 'loop' ? inline(k) : k)) })),
});

/** A one-kernel program over buffers x, y (inputs) and the stored ones, run on the Kernel IR interpreter. */
function run(k: LoopKernel, x: Float32Array, y: Float32Array): Record<string, Tensor> {
  const bufs = [...new Set(['x', 'y', ...k.stores.map((s) => s.buf)])];
  const type = { dtype: 'f32' as const, shape: [N] };
  const p: Program = {
    name: 'share',
    buffers: bufs.map((name) => ({
      name,
      dtype: 'f32',
      size: N,
      role: name === 'x' || name === 'y' ? 'input' : 'output',
    })),
    params: [],
    entries: [
      {
        name: 'main',
        inputs: [
          { name: 'x', buf: 'x', type },
          { name: 'y', buf: 'y', type },
        ],
        outputs: [...new Set(k.stores.map((s) => s.buf))].map((b) => ({ name: b, buf: b, type })),
        kernels: [k],
      },
    ],
    memory: { arenaBytes: bufs.length * 48, offsets: Object.fromEntries(bufs.map((b, i) => [b, i * 48])) },
  };
  return interpretProgram(p, 'main', { x: { type, data: x }, y: { type, data: y } }).outputs;
}

function inputs(seed: number): [Float32Array, Float32Array] {
  const next = rng(seed);
  return [
    Float32Array.from({ length: N }, () => 4 * next() - 2),
    Float32Array.from({ length: N }, () => 4 * next() - 2),
  ];
}

// an LSTM-like cell: c = sigmoid(x) * y + sigmoid(y) * tanh(x); h = sigmoid(x + 1) * tanh(c); dc = 1 - tanh(c)^2
const SX = op('sigmoid', load('x'));
const C = op('add', op('mul', SX, load('y')), op('mul', op('sigmoid', load('y')), op('tanh', load('x'))));
const TC = op('tanh', C);
const CELL = loop([
  ['h', op('mul', op('sigmoid', op('add', load('x'), c(1))), TC)],
  ['dc', op('sub', c(1), op('mul', TC, TC))],
  ['g', op('mul', SX, op('sub', c(1), SX))],
]);

describe('share', () => {
  it('binds the repeated subtrees, largest first, and a part of one only when it is still used twice', () => {
    const k = share(CELL);
    expect(printKernel(k)).toBe(
      [
        'loop k over [9] {',
        '  let s0: f32 = sigmoid(x[v0])',
        '  let s1: f32 = tanh(add(mul(s0, y[v0]), mul(sigmoid(y[v0]), tanh(x[v0]))))',
        '  h[v0] = mul(sigmoid(add(x[v0], 1)), s1)',
        '  dc[v0] = sub(1, mul(s1, s1))',
        '  g[v0] = mul(s0, sub(1, s0))',
        '}',
      ].join('\n'),
    );
  });

  it('leaves a kernel without repeated ops as it is (loads and constants are not bound)', () => {
    const k = loop([
      ['a', op('add', load('x'), c(2))],
      ['b', op('mul', load('x'), c(2))],
    ]);
    expect(share(k)).toBe(k);
  });

  it('gives the same bits as the kernel without bindings', () => {
    const k = share(CELL);
    expect(k.lets?.length).toBe(2);
    for (const seed of [1, 2, 3]) {
      const [x, y] = inputs(seed);
      const got = run(k, x, y),
        want = run(CELL, x, y);
      for (const b of ['h', 'dc', 'g']) expect(Array.from(got[b]!.data), b).toEqual(Array.from(want[b]!.data));
    }
  });

  it('shares a read of a stored buffer only where every store it occurs in runs before that buffer is stored', () => {
    // a = exp(y) + 1; b = exp(a) * exp(a) (reads the new a: not bound); y = exp(y) * 2 (in place: old y, bound)
    const E = op('exp', load('y'));
    const k = loop([
      ['a', op('add', E, c(1))],
      ['b', op('mul', op('exp', load('a')), op('exp', load('a')))],
      ['y', op('mul', E, c(2))],
    ]);
    const s = share(k);
    expect(s.lets?.map((l) => printKernel({ ...s, stores: [], lets: [l] }).split('\n')[1])).toEqual([
      '  let s0: f32 = exp(y[v0])',
    ]);
    // once `y` is stored before both reads, the exp of y stays in the stores
    const late = loop([
      ['y', op('mul', load('x'), c(2))],
      ['a', op('exp', load('y'))],
      ['b', op('exp', load('y'))],
    ]);
    expect(share(late)).toBe(late);
    const [x, y] = inputs(4);
    const got = run(s, x, Float32Array.from(y)),
      want = run(k, x, Float32Array.from(y));
    for (const b of ['a', 'b', 'y']) expect(Array.from(got[b]!.data), b).toEqual(Array.from(want[b]!.data));
  });

  it('the Kernel IR interpreter refuses a binding read before it is computed', () => {
    const k: LoopKernel = {
      ...loop([['a', { k: 'let', name: 's1' }]]),
      lets: [
        { name: 's0', value: { k: 'let', name: 's1' }, dtype: 'f32' },
        { name: 's1', value: load('x'), dtype: 'f32' },
      ],
    };
    const [x, y] = inputs(5);
    let err: unknown;
    try {
      run(k, x, y);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).code).toBe('K7001');
    expect((err as KilnError).message).toMatch(/binding s0 reads binding 's1' before it is computed/);
  });
});

for (const model of ['text_lstm', 'text_gru']) {
  const sc = SEED_CASES.find((x) => x.model === model)!;
  describe(`${model}: the training step with and without bindings`, async () => {
    const entries = seedEntries(await seedModel(sc), sc);
    const program = compileProgram(entries);
    const plain = inlineAll(program);
    const params = seedParams(entries);
    const step = entries.find((e) => e.name === 'train_step')!;
    const batch = seedBatch(step.graph, sc, 3);

    it('its recurrent cells bind what their gradients repeat', () => {
      const loops = program.entries.flatMap((e) => e.kernels).filter((k): k is LoopKernel => k.kind === 'loop');
      const bound = loops.filter((k) => k.lets?.length);
      expect(bound.length).toBeGreaterThan(10);
      // some binding is a gate's activation read by several stores
      expect(
        bound.some((k) =>
          k.lets!.some((l) => l.value.k === 'op' && (l.value.op === 'sigmoid' || l.value.op === 'tanh')),
        ),
      ).toBe(true);
    });

    it('gives the same bits on the Kernel IR interpreter', () => {
      const got = interpretProgram(program, 'train_step', batch, params),
        want = interpretProgram(plain, 'train_step', batch, params);
      for (const o of Object.keys(want.outputs))
        expect(Array.from(got.outputs[o]!.data), o).toEqual(Array.from(want.outputs[o]!.data));
      for (const p of Object.keys(want.params))
        expect(Array.from(got.params[p]!.data), p).toEqual(Array.from(want.params[p]!.data));
    }, 120_000);

    it('gives the same bits on WebAssembly', async () => {
      const results = [];
      for (const p of [program, plain]) {
        const exe = await loadWasm((await renderWasm(p, { relaxed: false })).binary, toManifest(p));
        for (const q of p.params) exe.writeParam(q.name, runtimeTensor(params[q.name]!));
        const outputs = exe.run('train_step', batch as Record<string, RuntimeTensor>);
        results.push({ outputs, params: Object.fromEntries(p.params.map((q) => [q.name, exe.readParam(q.name)])) });
      }
      const [got, want] = results as [(typeof results)[0], (typeof results)[0]];
      for (const o of Object.keys(want.outputs))
        expect(Array.from(got.outputs[o]!.data), o).toEqual(Array.from(want.outputs[o]!.data));
      for (const p of Object.keys(want.params))
        expect(Array.from(got.params[p]!.data), p).toEqual(Array.from(want.params[p]!.data));
    }, 120_000);
  });
}
