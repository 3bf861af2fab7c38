// The memory plan (compiler/passes/memory.ts): every buffer at a 16-byte aligned offset inside the
// arena; buffers alive at the same time in an entry never overlap; params (weights, optimizer
// slots, counters, constant tables) own their bytes; temps whose lifetimes do not overlap share
// bytes, so a real model's arena is smaller than the sum of its buffers.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../ir/builder.ts';
import type { Program } from '../../ir/kernel.ts';
import { loadModels } from '../../compiler/dsl/model.ts';
import { compileProgram, modelEntries } from '../../compiler/pipeline.ts';
import { ALIGN, ELEMENT_BYTES } from '../../compiler/passes/memory.ts';
import { buffersRead, buffersWritten } from '../../ir/kernel-walk.ts';

interface Range {
  readonly name: string;
  readonly from: number;
  readonly to: number;
}

const sizes = new WeakMap<Program, Map<string, number>>();
function bytesOf(p: Program, name: string): number {
  if (!sizes.has(p)) sizes.set(p, new Map(p.buffers.map((b) => [b.name, b.size])));
  return Math.max(1, sizes.get(p)!.get(name)!) * ELEMENT_BYTES;
}
const range = (p: Program, name: string): Range => ({
  name,
  from: p.memory.offsets[name]!,
  to: p.memory.offsets[name]! + bytesOf(p, name),
});
const overlap = (a: Range, b: Range): boolean => a.from < b.to && b.from < a.to;

/** For each entry, the kernel-index interval each non-param buffer is alive in (inputs and outputs
 *  the whole call), derived here from the kernels independently of the planner. */
function lifetimes(p: Program): Map<string, [number, number]>[] {
  const params = new Set(p.buffers.filter((b) => b.role === 'param').map((b) => b.name));
  return p.entries.map((e) => {
    const life = new Map<string, [number, number]>();
    const end = e.kernels.length;
    for (const io of [...e.inputs, ...e.outputs]) if (!params.has(io.buf)) life.set(io.buf, [-1, end]);
    e.kernels.forEach((k, i) => {
      for (const b of [...buffersRead(k), ...buffersWritten(k)]) {
        if (params.has(b)) continue;
        const l = life.get(b);
        life.set(b, l ? [Math.min(l[0], i), Math.max(l[1], i)] : [i, i]);
      }
    });
    return life;
  });
}

/** Asserts the plan's invariants; returns the number of temp pairs that share bytes. */
function checkPlan(p: Program): number {
  const { arenaBytes, offsets } = p.memory;
  expect(arenaBytes % ALIGN).toBe(0);
  for (const b of p.buffers) {
    const off = offsets[b.name];
    expect(off, `${b.name} has an offset`).toBeTypeOf('number');
    expect(off! % ALIGN, `${b.name} at ${off} is 16-byte aligned`).toBe(0);
    expect(off! + bytesOf(p, b.name), `${b.name} ends inside the arena`).toBeLessThanOrEqual(arenaBytes);
  }
  const params = p.buffers.filter((b) => b.role === 'param').map((b) => range(p, b.name));
  const used = new Set(
    p.entries.flatMap((e) =>
      [...e.inputs, ...e.outputs]
        .map((io) => io.buf)
        .concat(e.kernels.flatMap((k) => [...buffersRead(k), ...buffersWritten(k)])),
    ),
  );
  for (const q of params) {
    for (const b of p.buffers) {
      if (b.name !== q.name && used.has(b.name))
        expect(overlap(q, range(p, b.name)), `param ${q.name} and ${b.name} share bytes`).toBe(false);
    }
  }
  let shared = 0;
  for (const life of lifetimes(p)) {
    // pairs whose bytes overlap (a sweep by offset) must not be alive together
    const live = [...life]
      .map(([name, [first, last]]) => ({ ...range(p, name), first, last }))
      .sort((a, b) => a.from - b.from);
    for (let i = 0; i < live.length; i++) {
      const a = live[i]!;
      for (let j = i + 1; j < live.length && live[j]!.from < a.to; j++) {
        const b = live[j]!;
        const together = a.first <= b.last && b.first <= a.last;
        expect(
          together,
          `${a.name} [${a.first},${a.last}] and ${b.name} [${b.first},${b.last}] are alive together and share bytes`,
        ).toBe(false);
        shared++;
      }
    }
  }
  return shared;
}

const sumOfBuffers = (p: Program): number =>
  p.buffers.reduce((s, b) => s + Math.ceil(bytesOf(p, b.name) / ALIGN) * ALIGN, 0);

describe('memory plan', () => {
  it('a chain of four matmuls: the first and third temps share bytes, the arena is exact', () => {
    const b = new GraphBuilder('chain');
    const zeros = { name: 'zeros', attrs: {} };
    let h = b.op('relu', [b.input('x', 'f32', [4, 8])]);
    for (let i = 1; i <= 4; i++) {
      const m = b.op('matmul', [h, b.param(`w${i}`, 'f32', [8, 8], zeros)]);
      h = i < 4 ? b.op('relu', [m]) : m;
    }
    b.output('y', h);
    const p = compileProgram([{ name: 'main', graph: b.finish() }]);
    const temps = p.buffers.filter((x) => x.role === 'temp').map((x) => x.name);
    // relu(x) and the three hidden activations
    expect(temps.length).toBe(4);
    expect(checkPlan(p)).toBeGreaterThan(0);
    // params 4 x 256 bytes; then x, y (128 each, alive the whole call) and two temp slots of 128
    expect(p.memory.arenaBytes).toBe(4 * 256 + 2 * 128 + 2 * 128);
    expect(sumOfBuffers(p)).toBe(4 * 256 + 2 * 128 + 4 * 128);
    for (const w of ['w1', 'w2', 'w3', 'w4'])
      expect(p.memory.offsets[p.params.find((q) => q.name === w)!.buf]).toBeLessThan(4 * 256);
  });

  it('a constant table is a param: its own bytes, written once at load', () => {
    const b = new GraphBuilder('table');
    const x = b.input('x', 'f32', [2, 3]);
    const c = b.op('constant', [], { value: [1, 2, 3, 4, 5, 6], shape: [2, 3], dtype: 'f32' });
    b.output('y', b.op('exp', [b.op('mul', [b.op('sum', [b.op('add', [x, c])], { axes: [1], keepdims: true }), c])]));
    const p = compileProgram([{ name: 'main', graph: b.finish() }]);
    const tables = p.buffers.filter((t) => t.init);
    expect(tables.map((t) => [t.role, t.init])).toEqual([['param', [1, 2, 3, 4, 5, 6]]]);
    checkPlan(p);
  });

  describe('seed models: invariants hold and temps share bytes', async () => {
    const load = async (file: string, name: string) =>
      (await loadModels(new URL(`../../examples/${file}`, import.meta.url).pathname))[name]!;
    const cases = [
      {
        label: 'examples/mnist-cnn.ts infer + train_step, batch 64',
        model: await load('mnist-cnn.ts', 'mnist_cnn'),
        batch: undefined,
      },
      {
        label: 'examples/text-gru.ts infer + train_step, batch 4',
        model: await load('text-gru.ts', 'text_gru'),
        batch: 4,
      },
      {
        label: 'examples/gan.ts discriminator step, batch 8',
        model: await load('gan.ts', 'gan_discriminator_step'),
        batch: 8,
      },
    ];
    for (const c of cases) {
      it(c.label, () => {
        const p = compileProgram(modelEntries(c.model, { train: true, ...(c.batch ? { batch: c.batch } : {}) }));
        expect(checkPlan(p)).toBeGreaterThan(0);
        expect(p.memory.arenaBytes).toBeLessThan(sumOfBuffers(p));
        // the persistent part (params) is laid out first, once
        const paramBytes = p.buffers
          .filter((x) => x.role === 'param')
          .reduce((s, x) => s + Math.ceil(bytesOf(p, x.name) / ALIGN) * ALIGN, 0);
        const lastEnd = Math.max(...p.buffers.filter((x) => x.role === 'param').map((x) => range(p, x.name).to));
        expect(Math.ceil(lastEnd / ALIGN) * ALIGN).toBe(paramBytes);
      }, 60_000);
    }
  });
});
