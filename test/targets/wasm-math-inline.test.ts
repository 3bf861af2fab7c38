// The two instantiations of a targets/wasm/math.ts body agree bit for bit: the module function
// (what scalar code and the accuracy tests of wasm-math.test.ts call) and the inline expansion a
// vector loop kernel gets (inlineMath, with fresh locals, nested expansions inlined too), over
// inputs spread across the whole f32 range (both signs, denormals, 0, -0, infinities, NaN), with
// an expansion nested in another's argument, in plain and relaxed SIMD (Node 20 enables relaxed SIMD
// by flag: set below, before anything is compiled).
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { relaxedSimdSupported } from '../../runtime/wasm.ts';
import { assemble } from '../../targets/wasm/index.ts';
import { spread } from './wasm-helpers.ts';
import { inlineMath, mathFunctions, type MathName } from '../../targets/wasm/math.ts';

const N = 1 << 16;
const UNARY: readonly MathName[] = ['exp', 'exp_clamped', 'sigmoid', 'tanh', 'log', 'sin', 'cos'];

const pos = spread(1e-45, 3.4e38, N / 2 - 4);
const XS = Float32Array.from([...pos, ...pos.map((x) => -x), 0, -0, Infinity, -Infinity, NaN, 1, -1, 0.5]);
const YS = Float32Array.from(XS, (_, i) => ((i * 7919) % 2001) / 100 - 10); // pow exponents in [-10, 10]

/** A module exporting, per case, `${name}_call` and `${name}_inline`: out[i] = f(a[i], b[i]) on f32x4 lanes. */
async function build(relaxed: boolean, cases: Record<string, Case>) {
  const fns = Object.entries(cases).flatMap(([name, body]) =>
    [null, 0].map((inline) => {
      const locals: string[] = [];
      const fresh =
        inline === null
          ? null
          : () => {
              const l = `$m${locals.length}`;
              locals.push(l);
              return l;
            };
      const value = body([`(v128.load (local.get $i))`, `(v128.load offset=${4 * N} (local.get $i))`], fresh);
      return `(func (export "${name}_${inline === null ? 'call' : 'inline'}") (local $i i32) ${locals.map((l) => `(local ${l} v128)`).join(' ')}
(loop $L (v128.store offset=${8 * N} (local.get $i) ${value})
(local.set $i (i32.add (local.get $i) (i32.const 16))) (br_if $L (i32.lt_u (local.get $i) (i32.const ${4 * N})))))`;
    }),
  );
  const wat = `(module (memory (export "memory") ${Math.ceil((12 * N) / 65536)}) ${mathFunctions(relaxed)}\n${fns.join('\n')})`;
  const { instance } = await WebAssembly.instantiate((await assemble(wat, relaxed)) as Uint8Array<ArrayBuffer>);
  const mem = new Float32Array((instance.exports['memory'] as WebAssembly.Memory).buffer);
  mem.set(XS, 0);
  mem.set(YS, N);
  return (fn: string): Uint32Array => {
    (instance.exports[fn] as () => void)();
    return new Uint32Array(mem.slice(2 * N, 3 * N).buffer);
  };
}

type Case = (args: string[], fresh: (() => string) | null) => string;

/** The cases for one SIMD flavour: each math function alone, and expansions nested and side by side. */
function cases(relaxed: boolean): Record<string, Case> {
  // a call, or the inline expansion when `fresh` allocates locals
  const apply = (fn: MathName, args: string[], fresh: (() => string) | null): string =>
    fresh ? inlineMath(fn, args, fresh, relaxed) : `(call $${fn} ${args.join(' ')})`;
  return {
    ...Object.fromEntries(UNARY.map((fn): [string, Case] => [fn, ([a], fresh) => apply(fn, [a!], fresh)])),
    pow: ([a, b], fresh) => apply('pow', [a!, b!], fresh),
    // an expansion inside another's argument, and two side by side (fresh locals must not collide)
    nested: ([a, b], fresh) =>
      `(f32x4.add ${apply('sigmoid', [apply('tanh', [a!], fresh)], fresh)} ${apply('exp', [apply('sigmoid', [b!], fresh)], fresh)})`,
  };
}

setFlagsFromString('--experimental-wasm-relaxed-simd');
if (!relaxedSimdSupported())
  throw new Error('this engine cannot run relaxed SIMD even with --experimental-wasm-relaxed-simd');

for (const relaxed of [false, true]) {
  describe(`wasm math inline expansions${relaxed ? ' (relaxed)' : ''}`, async () => {
    const all = cases(relaxed);
    const run = await build(relaxed, all);
    for (const name of Object.keys(all)) {
      it(`${name}: inline expansion = module function, bit for bit`, () => {
        const call = run(`${name}_call`),
          inline = run(`${name}_inline`);
        let differ = 0,
          first = -1;
        for (let i = 0; i < N; i++)
          if (
            call[i] !== inline[i] &&
            !(Number.isNaN(new Float32Array(call.buffer)[i]) && Number.isNaN(new Float32Array(inline.buffer)[i]))
          ) {
            differ++;
            if (first < 0) first = i;
          }
        expect(
          differ,
          first < 0
            ? ''
            : `${name}(${XS[first]}, ${YS[first]}): call ${new Float32Array(call.buffer)[first]}, inline ${new Float32Array(inline.buffer)[first]}`,
        ).toBe(0);
      });
    }
  });
}

describe('wasm math inline expansion errors', () => {
  it('rejects a wrong argument count with a typed error', () => {
    expect(() => inlineMath('pow', ['(local.get $x)'], () => '$t', false)).toThrow(
      /K6001.*pow takes 2 arguments, got 1/,
    );
  });
});
