// The Kernel IR walker and index folder (ir/kernel-walk.ts, ir/iexpr.ts): what an expression reads
// (scalar loads, index loads, guards), bottom-up mapping, folding and interval bounds.
import { describe, expect, it } from 'vitest';
import type { IExpr, LoopKernel, SExpr } from '../../ir/kernel.ts';
import { foldIExpr, ic, iv, linearForm, rangeOf, substitute, varKey } from '../../ir/iexpr.ts';
import { buffersRead, buffersWritten, mapLoop, mapSExpr, readsOf, varsOf } from '../../ir/kernel-walk.ts';

const add = (a: IExpr, b: IExpr): IExpr => ({ k: 'add', a, b });
const mul = (a: IExpr, b: IExpr): IExpr => ({ k: 'mul', a, b });
// table[ind[v0] * 4 + v1] guarded by 0 <= mask[v2] < 3, plus a random draw counted by ctr[0]
const gathered: SExpr = {
  k: 'op',
  op: 'add',
  dtype: 'f32',
  args: [
    {
      k: 'load',
      buf: 'table',
      at: add(mul({ k: 'load', buf: 'ind', at: iv(0) }, ic(4)), iv(1)),
      guard: [{ e: { k: 'load', buf: 'mask', at: iv(2) }, lo: 0, hi: 3 }],
    },
    { k: 'random', dist: 'uniform', seed: 1, counter: { k: 'load', buf: 'ctr', at: ic(0) }, index: iv(3) },
  ],
};

describe('kernel walker', () => {
  it('collects scalar loads, index loads and guard loads alike', () => {
    const reads = readsOf(gathered).map((r) => `${r.buf}:${r.index ? 'index' : 'scalar'}`);
    expect(reads.sort()).toEqual(['ctr:scalar', 'ind:index', 'mask:index', 'table:scalar']);
    expect([...varsOf(gathered)].sort()).toEqual([0, 1, 2, 3]);
  });

  it('reads and writes of a loop kernel include store indices', () => {
    const k: LoopKernel = {
      kind: 'loop',
      name: 'k',
      space: [2],
      stores: [{ buf: 'out', at: { k: 'load', buf: 'perm', at: iv(0) }, value: gathered }],
    };
    expect([...buffersRead(k)].sort()).toEqual(['ctr', 'ind', 'mask', 'perm', 'table']);
    expect([...buffersWritten(k)]).toEqual(['out']);
    const renamed = mapLoop(k, { sexpr: (e) => (e.k === 'load' && e.buf === 'table' ? { ...e, buf: 'other' } : e) });
    expect([...buffersRead(renamed)].sort()).toEqual(['ctr', 'ind', 'mask', 'other', 'perm']);
  });

  it('maps every index, guards included, bottom-up', () => {
    const fixed = mapSExpr(gathered, { iexpr: (x) => (x.k === 'var' ? ic(x.i + 1) : x) });
    expect(varsOf(fixed).size).toBe(0);
    const guard = (fixed as Extract<SExpr, { k: 'op' }>).args[0] as Extract<SExpr, { k: 'load' }>;
    expect(guard.guard![0]!.e).toEqual({ k: 'load', buf: 'mask', at: ic(3) });
  });
});

describe('index folder', () => {
  it('folds constants and identities after a substitution', () => {
    const e = add(mul(iv(0), ic(3)), { k: 'mod', a: iv(1), b: ic(1) });
    expect(substitute(e, (i) => (i === 0 ? ic(2) : iv(i)))).toEqual(ic(6));
    expect(foldIExpr(add(mul(iv(0), ic(1)), ic(0)))).toEqual(iv(0));
  });

  it('bounds an index over the loop ranges', () => {
    // (v0 * 2 - 1 + v1) over v0 < 5, v1 < 3: [-1, 9]; its floor quotient by 2: [-1, 4]; mod 4: [0, 3]
    const e: IExpr = add({ k: 'sub', a: mul(iv(0), ic(2)), b: ic(1) }, iv(1));
    expect(rangeOf(e, [5, 3])).toEqual([-1, 9]);
    expect(rangeOf({ k: 'div', a: e, b: ic(2) }, [5, 3])).toEqual([-1, 4]);
    expect(rangeOf({ k: 'mod', a: e, b: ic(4) }, [5, 3])).toEqual([0, 3]);
    expect(rangeOf({ k: 'min', a: e, b: ic(4) }, [5, 3])).toEqual([-1, 4]);
    expect(rangeOf({ k: 'load', buf: 'i', at: iv(0) }, [5])[1]).toBe(Infinity);
  });

  it('splits an index into linear terms and a constant', () => {
    // ((v0 * 3 + 2) * 4 - v1) + (v2 / 2): 12 v0 - v1 + (v2 / 2) + 8
    const half: IExpr = { k: 'div', a: iv(2), b: ic(2) };
    const l = linearForm(add({ k: 'sub', a: mul(add(mul(iv(0), ic(3)), ic(2)), ic(4)), b: iv(1) }, half));
    expect(l.c).toBe(8);
    expect(l.terms.get(varKey(0))!.coef).toBe(12);
    expect(l.terms.get(varKey(1))!.coef).toBe(-1);
    expect([...l.terms.values()].find((t) => t.e.k === 'div')!.coef).toBe(1);
  });
});
