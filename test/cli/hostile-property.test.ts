// Random bytes, truncations and mutations fed to the readers of untrusted input: the safetensors
// reader, the text IR parser (with the verifier), the dataset validator and the weights check. Each
// must give a typed error or a correct result, never another exception.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateDataset, type ColumnSpec } from '../../compiler/data/validate.ts';
import { KilnError } from '../../ir/errors.ts';
import { parse } from '../../ir/parse.ts';
import { print } from '../../ir/print.ts';
import { sizeOf } from '../../ir/types.ts';
import { verifyAll } from '../../ir/verify.ts';
import {
  decodeSafetensors,
  encodeSafetensors,
  matchWeights,
  WeightsError,
  WeightsMismatchError,
  type NamedArray,
  type ParamSpec,
} from '../../runtime/safetensors.ts';

const RUNS = 300;

/** Runs f; a thrown error must be one of `types` with a `error Kxxxx:` message, else the property fails. */
function typedOrResult<T>(f: () => T, types: readonly (new (...a: never[]) => Error)[]): T | undefined {
  try {
    return f();
  } catch (e) {
    if (!types.some((t) => e instanceof t)) throw new Error(`untyped ${(e as Error)?.name}: ${(e as Error)?.message}`);
    expect((e as Error).message).toMatch(/(^|: )error K\d{4}: /);
    return undefined;
  }
}

const tensorArb: fc.Arbitrary<NamedArray> = fc.oneof(
  fc
    .array(fc.integer({ min: 1, max: 4 }), { maxLength: 3 })
    .chain((shape) =>
      fc
        .float32Array({ minLength: sizeOf(shape), maxLength: sizeOf(shape) })
        .map((d): NamedArray => ({ dtype: 'F32', shape, data: d })),
    ),
  fc
    .array(fc.integer({ min: 1, max: 4 }), { maxLength: 3 })
    .chain((shape) =>
      fc
        .int32Array({ minLength: sizeOf(shape), maxLength: sizeOf(shape) })
        .map((d): NamedArray => ({ dtype: 'I32', shape, data: d })),
    ),
);
const tensorsArb = fc.dictionary(fc.stringMatching(/^[a-z_][a-z0-9_/]{0,12}$/), tensorArb, { maxKeys: 4 });

/** A decoded file is correct when every tensor's data has exactly the elements its shape says. */
function wellFormed(t: Record<string, NamedArray>): void {
  for (const a of Object.values(t)) expect(a.data.length).toBe(sizeOf(a.shape));
}

describe('safetensors reader', () => {
  it('random bytes: a typed error or a well-formed result', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
        const r = typedOrResult(() => decodeSafetensors(bytes), [WeightsError]);
        if (r) wellFormed(r.tensors);
      }),
      { numRuns: RUNS },
    );
  });

  it('a header length followed by random JSON-ish text', () => {
    fc.assert(
      fc.property(fc.json(), fc.uint8Array({ maxLength: 64 }), (json, tail) => {
        const head = new TextEncoder().encode(json);
        const bytes = new Uint8Array(8 + head.length + tail.length);
        new DataView(bytes.buffer).setBigUint64(0, BigInt(head.length), true);
        bytes.set(head, 8);
        bytes.set(tail, 8 + head.length);
        const r = typedOrResult(() => decodeSafetensors(bytes), [WeightsError]);
        if (r) wellFormed(r.tensors);
      }),
      { numRuns: RUNS },
    );
  });

  it('valid files round-trip; truncations and byte flips give a typed error or a well-formed result', () => {
    fc.assert(
      fc.property(tensorsArb, fc.nat(), fc.nat(), fc.integer({ min: 0, max: 255 }), (tensors, cut, at, byte) => {
        const bytes = encodeSafetensors(tensors);
        const back = decodeSafetensors(bytes).tensors;
        expect(Object.keys(back).sort()).toEqual(Object.keys(tensors).sort());
        for (const [k, t] of Object.entries(tensors)) {
          expect(back[k]!.shape).toEqual(t.shape);
          expect(new Uint8Array(back[k]!.data.buffer)).toEqual(
            new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength),
          );
        }
        const truncated = bytes.subarray(0, cut % Math.max(1, bytes.length));
        const t = typedOrResult(() => decodeSafetensors(truncated), [WeightsError]);
        if (t) wellFormed(t.tensors);
        const flipped = bytes.slice();
        flipped[at % bytes.length] = byte;
        const f = typedOrResult(() => decodeSafetensors(flipped), [WeightsError]);
        if (f) wellFormed(f.tensors);
      }),
      { numRuns: RUNS },
    );
  });

  it('matchWeights: a typed error, or only tensors of exactly the expected dtype and shape are loaded', () => {
    const spec = fc.dictionary(
      fc.constantFrom('a', 'b', 'c', 'd'),
      fc.record({ t: tensorArb, optional: fc.boolean() }),
      { maxKeys: 4 },
    );
    fc.assert(
      fc.property(
        spec,
        fc.dictionary(fc.constantFrom('a', 'b', 'c', 'e'), tensorArb, { maxKeys: 4 }),
        fc.boolean(),
        (exp, saved, partial) => {
          const expected: Record<string, ParamSpec> = Object.fromEntries(
            Object.entries(exp).map(([k, v]) => [k, { dtype: v.t.dtype, shape: v.t.shape, optional: v.optional }]),
          );
          const m = typedOrResult(() => matchWeights(saved, expected, { partial }), [WeightsMismatchError]);
          if (!m) return;
          for (const n of m.loaded) {
            expect(saved[n]!.dtype).toBe(expected[n]!.dtype);
            expect(saved[n]!.shape).toEqual(expected[n]!.shape);
          }
          if (!partial) expect(m.missing.length + m.unexpected.length).toBe(0);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('text IR parser and verifier', () => {
  const example = readFileSync(new URL('../ir/examples/mlp.kir', import.meta.url), 'utf8');

  /** Parsed and verified, the program prints to text that parses back to the same print. */
  function parsesOrTyped(text: string): void {
    const gs = typedOrResult(() => {
      const g = parse(text, 'fuzz.kir');
      verifyAll(g);
      return g;
    }, [KilnError]);
    if (gs) {
      const printed = print(gs);
      expect(print(parse(printed, 'again.kir'))).toBe(printed);
    }
  }

  it('random text', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), parsesOrTyped), { numRuns: RUNS });
  });

  it('random bytes as UTF-8', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => parsesOrTyped(new TextDecoder().decode(b))),
      { numRuns: RUNS },
    );
  });

  it('truncations and character edits of a real program', () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), fc.string({ maxLength: 3 }), (cut, at, ins) => {
        parsesOrTyped(example.slice(0, cut % (example.length + 1)));
        const i = at % example.length;
        parsesOrTyped(example.slice(0, i) + ins + example.slice(i + 1));
      }),
      { numRuns: RUNS },
    );
  });
});

describe('dataset validator', () => {
  const columns: Record<string, ColumnSpec> = {
    x: { dtype: 'f32', shape: [2] },
    y: { dtype: 'i32', shape: [], range: { max: 3, use: 'one_hot depth 3' } },
  };

  /** A validated dataset really satisfies what the validator promises. */
  function satisfies(d: ReturnType<typeof validateDataset>): void {
    for (const split of [d.train, d.test]) {
      expect(Number.isSafeInteger(split.size) && split.size > 0).toBe(true);
      const x = split.columns.x!;
      const y = split.columns.y!;
      expect(x).toBeInstanceOf(Float32Array);
      expect(y).toBeInstanceOf(Int32Array);
      expect(x.length).toBe(split.size * 2);
      expect(y.length).toBe(split.size);
      expect(Array.from(x).every(Number.isFinite)).toBe(true);
      expect(Array.from(y).every((v) => v >= 0 && v < 3)).toBe(true);
    }
  }

  const column = fc.oneof(
    fc.float32Array({ maxLength: 8 }),
    fc.int32Array({ maxLength: 8 }),
    fc.array(fc.double(), { maxLength: 8 }),
    fc.anything(),
  );
  const split = fc.record(
    {
      size: fc.oneof(fc.integer({ min: -1, max: 5 }), fc.double(), fc.anything()),
      columns: fc.oneof(fc.record({ x: column, y: column }), fc.anything()),
    },
    { requiredKeys: [] },
  );
  const dataset = fc.oneof(
    fc.record({ name: fc.string(), train: split, test: split }, { requiredKeys: [] }),
    fc.anything(),
  );

  it('random structures: a typed K7010 or a dataset that satisfies the model', () => {
    fc.assert(
      fc.property(dataset, (d) => {
        const r = typedOrResult(() => validateDataset(d, columns), [KilnError]);
        if (r) satisfies(r);
      }),
      { numRuns: RUNS },
    );
  });

  it('well-shaped splits with random values', () => {
    const good = fc.integer({ min: 1, max: 4 }).chain((n) =>
      fc.record({
        size: fc.constant(n),
        columns: fc.record({
          x: fc.float32Array({ minLength: 2 * n, maxLength: 2 * n }),
          y: fc.int32Array({ minLength: n, maxLength: n, min: -1, max: 3 }),
        }),
      }),
    );
    fc.assert(
      fc.property(good, good, (train, test) => {
        const r = typedOrResult(() => validateDataset({ name: 'd', train, test }, columns), [KilnError]);
        if (r) satisfies(r);
        else {
          // refused only for a reason the data really has: a non-finite x or a label outside [0, 3)
          const bad = [train, test].some(
            (s) =>
              Array.from(s.columns.x).some((v) => !Number.isFinite(v)) ||
              Array.from(s.columns.y).some((v) => v < 0 || v >= 3),
          );
          expect(bad).toBe(true);
        }
      }),
      { numRuns: RUNS },
    );
  });
});
