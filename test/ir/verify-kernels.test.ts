// The Kernel IR verifier (ir/verify-kernels.ts): every seed model's program passes it; hand-made bad
// kernels fail it with the rule's code, naming the kernel and printing it.
import { describe, expect, it } from 'vitest';
import { KilnError } from '../../ir/errors.ts';
import type { BufferDecl, Kernel, LoopKernel, Program, SExpr } from '../../ir/kernel.ts';
import { ic, iv } from '../../ir/iexpr.ts';
import { verifyProgram } from '../../ir/verify-kernels.ts';
import { compileProgram } from '../../compiler/pipeline.ts';
import { SEED_CASES, seedEntries, seedModel } from '../compiler/seed-cases.ts';

const buf = (name: string, size: number, dtype: BufferDecl['dtype'] = 'f32'): BufferDecl => ({
  name,
  dtype,
  size,
  role: 'temp',
});
const BUFS = [buf('x', 8), buf('y', 8), buf('i', 4, 'i32'), buf('s', 1)];

function program(k: Kernel): Program {
  return {
    name: 'p',
    buffers: BUFS,
    params: [],
    entries: [{ name: 'main', inputs: [], outputs: [], kernels: [k] }],
    memory: { arenaBytes: 0, offsets: {} },
  };
}

const load = (b: string, at = iv(0)): SExpr => ({ k: 'load', buf: b, at });
const copy = (extra: Partial<LoopKernel> = {}): LoopKernel => ({
  kind: 'loop',
  name: 'k0',
  space: [8],
  stores: [{ buf: 'y', at: iv(0), value: load('x') }],
  ...extra,
});

function rejects(k: Kernel, code: string, words: RegExp): void {
  let err: unknown;
  try {
    verifyProgram(program(k));
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(KilnError);
  const e = err as KilnError;
  expect(e.code).toBe(code);
  expect(e.message).toMatch(words);
  expect(e.message).toContain('kernel k0');
  expect(e.message).toMatch(/loop k0 over \[\d+\]/); // the kernel, printed
}

describe('Kernel IR verifier', () => {
  it('accepts a good kernel', () => {
    expect(() => verifyProgram(program(copy()))).not.toThrow();
  });

  it('rejects loads and stores outside their buffer, unless a guard keeps them inside', () => {
    rejects(copy({ space: [9] }), 'K4004', /load of x\): index 0\.\.8 is outside x's 8/);
    const shifted: SExpr = { k: 'load', buf: 'x', at: { k: 'sub', a: iv(0), b: ic(1) } };
    rejects(copy({ stores: [{ buf: 'y', at: iv(0), value: shifted }] }), 'K4004', /load of x.*-1\.\.6/);
    const guarded: SExpr = {
      ...shifted,
      guard: [{ e: { k: 'sub', a: iv(0), b: ic(1) }, lo: 0, hi: 8 }],
      otherwise: 0,
    } as SExpr;
    expect(() => verifyProgram(program(copy({ stores: [{ buf: 'y', at: iv(0), value: guarded }] })))).not.toThrow();
    // a guarded store, its value included, only where its guard holds
    const over: LoopKernel = {
      kind: 'loop',
      name: 'k0',
      space: [10],
      stores: [{ buf: 'y', at: iv(0), value: load('x'), guard: [{ e: iv(0), lo: 0, hi: 8 }] }],
    };
    expect(() => verifyProgram(program(over))).not.toThrow();
    rejects(
      { ...over, stores: [{ ...over.stores[0]!, guard: [{ e: iv(0), lo: 0, hi: 9 }] }] },
      'K4004',
      /0\.\.8 is outside x's 8/,
    );
  });

  it('rejects loop variables and names out of scope', () => {
    rejects(
      copy({ stores: [{ buf: 'y', at: iv(0), value: load('x', iv(1)) }] }),
      'K4005',
      /reads v1, outside its 1 loop variables/,
    );
    rejects(
      copy({ stores: [{ buf: 'y', at: iv(0), value: { k: 'let', name: 's0' } }] }),
      'K4005',
      /reads 's0' before it is computed/,
    );
    const late: LoopKernel = copy({
      lets: [
        { name: 'a', value: { k: 'let', name: 'b' }, dtype: 'f32' },
        { name: 'b', value: load('x'), dtype: 'f32' },
      ],
    });
    rejects(late, 'K4005', /binding a reads 'b'/);
  });

  it('rejects unsafe in-place writes', () => {
    const shifted = load('y', { k: 'sub', a: ic(7), b: iv(0) });
    rejects(copy({ stores: [{ buf: 'y', at: iv(0), value: shifted }] }), 'K4006', /reads y at another point/);
    const sum: LoopKernel = {
      kind: 'loop',
      name: 'k0',
      space: [8],
      reduce: { extents: [8], accs: [{ name: 'a', combine: 'sum', value: load('y', iv(1)), dtype: 'f32' }] },
      stores: [{ buf: 'y', at: iv(0), value: { k: 'acc', name: 'a' } }],
    };
    rejects(sum, 'K4006', /in a reduction/);
    rejects(
      copy({
        stores: [
          {
            buf: 'y',
            at: { k: 'mod', a: iv(0), b: ic(4) },
            value: load('y', { k: 'mod', a: iv(0), b: ic(4) }),
            combine: 'sum',
          },
        ],
      }),
      'K4006',
      /scatters into/,
    );
  });

  it('rejects inconsistent dtypes', () => {
    rejects(
      copy({ stores: [{ buf: 'i', at: { k: 'mod', a: iv(0), b: ic(4) }, value: load('x') }] }),
      'K4007',
      /store to i is f32, declared i32/,
    );
    rejects(
      copy({ stores: [{ buf: 'y', at: iv(0), value: load('x', { k: 'load', buf: 's', at: ic(0) }) }] }),
      'K4007',
      /uses s \(f32\) as an index/,
    );
  });

  it('passes every seed model program', async () => {
    for (const c of SEED_CASES) {
      const entries = seedEntries(await seedModel(c), c);
      expect(() => compileProgram(entries, { verifyEach: true }), c.model).not.toThrow();
    }
  }, 120_000);
});
