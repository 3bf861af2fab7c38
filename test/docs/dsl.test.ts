// docs/dsl.md's examples run: every ```ts example block is written to a module (its `'kiln'` import
// pointed at this checkout), its default export built with inferGraph (and the training step when it
// has one), and checked against the block's `//>` lines:
//   //> y: f32[2,3]                               the output y has this type
//   //> params: dense_1/kernel f32[4,8], ...      the inference graph's params, in order
//   //> run {"x": [[1,2,3]]} -> {"y": [[6,6]]}    the forward value on the reference interpreter (initial params)
//   //> loss: f32[]                               the training step traces, with this loss
//   //> train outputs: y, loss, mae               the traced training step's outputs, in order
//   //> trainable: dense_2/kernel, ...            the params the optimizer updates, in order
//   //> error K2001: dense_2: input               building the model fails with this code and message start
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { finishTraced, inferGraph, isModel, KilnError, trace, type Model } from '../../compiler/index.ts';
import { tensorFromJson } from '../../compiler/cli/eval.ts';
import { initParams } from '../../ir/init.ts';
import { interpret } from '../../ir/interpret.ts';
import { formatType } from '../../ir/types.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const DIR = join(ROOT, '.kiln', `docs-dsl-${process.pid}`);
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

interface Example {
  readonly line: number;
  readonly code: string;
  readonly checks: readonly string[];
}

function examples(file: string): Example[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [...text.matchAll(/```ts example\n([\s\S]*?)```/g)].map((m) => ({
    line: text.slice(0, m.index).split('\n').length,
    code: m[1]!,
    checks: m[1]!
      .split('\n')
      .filter((l) => l.startsWith('//> '))
      .map((l) => l.slice(4).trim()),
  }));
}

const flat = (x: unknown): number[] => (Array.isArray(x) ? x.flatMap(flat) : [Number(x)]);

function build(m: Model, checks: readonly string[]): void {
  const g = inferGraph(m);
  for (const c of checks) {
    const out = /^([\w.]+): (\w+\[[\d,]*\])$/.exec(c);
    if (out && out[1] !== 'loss') {
      const o = g.outputs.find((x) => x.name === out[1]);
      expect(o, `output ${out[1]}`).toBeDefined();
      expect(formatType(o!.value.type)).toBe(out[2]);
    } else if (c.startsWith('params: ')) {
      expect(g.params.map((p) => `${p.name} ${formatType(p.type)}`).join(', ')).toBe(c.slice(8));
    } else if (c.startsWith('run ')) {
      const [, given, want] = /^run (\{.*\}) -> (\{.*\})$/.exec(c) ?? [];
      expect(given, c).toBeDefined();
      const json = JSON.parse(given!) as Record<string, unknown>;
      const inputs = Object.fromEntries(g.inputs.map((i) => [i.name, tensorFromJson(i.name, json[i.name], i)]));
      const { outputs } = interpret(g, inputs, initParams(g));
      for (const [name, values] of Object.entries(JSON.parse(want!) as Record<string, unknown>)) {
        const got = Array.from(outputs[name]!.data),
          w = flat(values);
        expect(got.length, name).toBe(w.length);
        got.forEach((v, i) =>
          expect(Math.abs(v - w[i]!), `${name}[${i}] = ${v}, the docs say ${w[i]}`).toBeLessThanOrEqual(
            1e-4 * (1 + Math.abs(w[i]!)),
          ),
        );
      }
    } else if (c.startsWith('loss: ')) {
      const t = finishTraced(trace(m, { mode: 'train' }));
      const loss = t.outputs.find((o) => o.name === 'loss');
      expect(formatType(loss!.value.type)).toBe(c.slice(6));
    } else if (c.startsWith('train outputs: ')) {
      expect(
        finishTraced(trace(m, { mode: 'train' }))
          .outputs.map((o) => o.name)
          .join(', '),
      ).toBe(c.slice(15));
    } else if (c.startsWith('trainable: ')) {
      expect(
        trace(m, { mode: 'train' })
          .trainable.map((p) => p.name)
          .join(', '),
      ).toBe(c.slice(11));
    } else if (!c.startsWith('error ')) {
      throw new Error(`unknown check '//> ${c}'`);
    }
  }
}

describe('docs/dsl.md examples', () => {
  const all = examples('docs/dsl.md');
  const index = join(ROOT, 'compiler', 'index.ts');
  it('has examples', () => expect(all.length).toBeGreaterThan(10));
  for (const [n, ex] of all.entries()) {
    it(`the example at line ${ex.line}`, async () => {
      mkdirSync(DIR, { recursive: true });
      const file = join(DIR, `example-${n}.ts`);
      writeFileSync(file, ex.code.replaceAll("from 'kiln'", `from '${index}'`));
      const error = ex.checks.find((c) => c.startsWith('error '));
      expect(ex.checks.length, 'an example checks something').toBeGreaterThan(0);
      const run = async (): Promise<void> => {
        const mod = (await import(file)) as { default?: unknown };
        expect(isModel(mod.default), 'the example exports a model by default').toBe(true);
        build(mod.default as Model, ex.checks);
      };
      if (!error) return run();
      const [, code, text] = /^error (K\d{4})(?:: (.*))?$/.exec(error)!;
      const e = await run().then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(e).toBeInstanceOf(KilnError);
      expect((e as KilnError).code).toBe(code);
      if (text) expect((e as KilnError).detail.startsWith(text), (e as KilnError).message).toBe(true);
    });
  }
});
