// The manifest format: a compiled seed model's manifest (wasm and webgpu targets) satisfies the JSON Schema (checked by ajv),
// the runtime's own schema checker agrees with ajv on it and on broken copies of it, and the
// runtime's parseManifest accepts it.
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { fileSpecs, sealManifest, toManifest } from '../../compiler/artifact/manifest.ts';
import { buildArtifact } from '../../compiler/artifact/build.ts';
import { defineModel, loadModels } from '../../compiler/dsl/model.ts';
import { losses, nn, optimizers } from '../../compiler/index.ts';
import type { Tensor } from '../../compiler/dsl/tensor.ts';
import { compileModel } from '../../compiler/pipeline.ts';
import { packWgsl } from '../../compiler/artifact/webgpu.ts';
import { renderWgsl } from '../../targets/wgsl/index.ts';
import SCHEMA from '../../runtime/manifest.schema.json' with { type: 'json' };
import { FORMAT_VERSION, type Manifest } from '../../runtime/manifest.ts';
import { checkSchema, type Schema } from '../../runtime/schema.ts';
import { parseManifest, readManifest } from '../../runtime/validate.ts';

const validate = new Ajv({ allErrors: true }).compile(SCHEMA);

async function xorManifest(): Promise<Manifest> {
  const { xor: model } = await loadModels(new URL('../../examples/xor.ts', import.meta.url).pathname);
  const program = compileModel(model!, { train: true });
  const wgsl = packWgsl(program, renderWgsl(program));
  const files = await fileSpecs({
    'program.wasm': new Uint8Array([1]),
    'weights.safetensors': new Uint8Array([2]),
    'kernels.wgsl': wgsl.bytes,
  });
  return toManifest(program, { files, webgpu: wgsl.target });
}

/** Copies of `m` with one field broken each. */
function broken(m: Manifest): [string, unknown][] {
  const j = (): any => JSON.parse(JSON.stringify(m));
  const cases: [string, (x: any) => void][] = [
    ['no entries', (x) => delete x.entries],
    ['dtype f64', (x) => (x.params[0].dtype = 'f64')],
    ['negative offset', (x) => (x.memory.buffers[0].offset = -16)],
    ['fractional size', (x) => (x.memory.buffers[0].size = 1.5)],
    ['bad hash', (x) => (x.files['program.wasm'].sha256 = 'xyz')],
    ['path in a file name', (x) => (x.weights = '../etc/passwd')],
    ['unknown role', (x) => (x.params[0].role = 'buffer')],
    ['string batch', (x) => (x.model.batch = '4')],
    ['3 workgroups missing', (x) => (x.targets.webgpu.kernels.infer[0].workgroups = [1, 1])],
    ['a module range of 3 numbers', (x) => x.targets.webgpu.modules[0].push(7)],
    ['a negative chunk', (x) => (x.targets.webgpu.chunks[0] = -16)],
    ['a fractional place', (x) => (Object.values<any>(x.targets.webgpu.places)[0].offset = 0.5)],
    ['a binding by name', (x) => (x.targets.webgpu.kernels.infer[0].bindings = ['m0'])],
    ['no modules', (x) => delete x.targets.webgpu.modules],
    ['file name key with a slash', (x) => (x.files['a/b'] = { sha256: '0'.repeat(64), bytes: 1 })],
  ];
  return cases.map(([name, f]) => {
    const x = j();
    f(x);
    return [name, x];
  });
}

describe('artifact manifest', () => {
  it('declared integer ranges land on the inputs (not outputs of the same name); a bad range is K2002 at defineModel', async () => {
    const tokens = defineModel({
      name: 'tokens',
      batch: 2,
      inputs: { x: { dtype: 'i32', shape: [3], range: [0, 5] } },
      targets: { y: { dtype: 'i32', shape: [], range: [0, 2] } },
      forward: nn.sequential([nn.embedding(5, 2), nn.flatten(), nn.dense(2, { activation: 'softmax' })]),
      train: { loss: losses.sparseCategoricalCrossentropy(), optimizer: optimizers.sgd() },
    });
    const { manifest } = await buildArtifact(tokens, { targets: ['wasm'] });
    const step = manifest.entries.find((e) => e.name === 'train_step')!;
    expect(step.inputs.map((i) => [i.name, i.range])).toEqual([
      ['x', [0, 5]],
      ['y', [0, 2]],
    ]);
    expect(manifest.entries.find((e) => e.name === 'infer')!.outputs.every((o) => o.range === undefined)).toBe(true);
    const def = { name: 'm', batch: 1, forward: (i: Record<string, Tensor>) => i.x! };
    expect(() => defineModel({ ...def, inputs: { x: { dtype: 'f32', shape: [2], range: [0, 3] } } })).toThrow(
      /K2002: defineModel\(m\): 'x' has range \[0,3\]; a range is \[lo, hi\) with integers lo < hi, on an i32 value/,
    );
    expect(() => defineModel({ ...def, inputs: { x: { dtype: 'i32', shape: [2], range: [3, 3] } } })).toThrow(/K2002/);
  }, 120_000);

  it("a compiled model's manifest satisfies the JSON Schema and parseManifest", async () => {
    const m = await xorManifest();
    expect(m.version).toBe(FORMAT_VERSION);
    expect(validate(m), JSON.stringify(validate.errors)).toBe(true);
    expect(checkSchema(m, SCHEMA as Schema)).toBeNull();
    expect(parseManifest(JSON.parse(JSON.stringify(m)))).toEqual(m);
    const sealed = await sealManifest(m);
    expect(validate(JSON.parse(sealed))).toBe(true);
    expect(await readManifest(new TextEncoder().encode(sealed))).toEqual(JSON.parse(sealed));
    expect(m.params.map((p) => `${p.name}:${p.role}`)).toContain('optimizer/iterations:step-counter');
    expect(
      m.params
        .filter((p) => p.role === 'weight')
        .map((p) => p.name)
        .sort(),
    ).toEqual(['dense_1/bias', 'dense_1/kernel', 'dense_2/bias', 'dense_2/kernel']);
    expect(Object.keys(m.targets.wasm!.kernels)).toEqual(['infer', 'train_step']);
    expect(m.targets.webgpu!.kernels['infer']!.map((k) => k.name)).toEqual(
      m.targets.wasm!.kernels['infer']!.map((k) => k.name),
    );
  });

  it("the runtime's schema checker and ajv agree on broken manifests", async () => {
    const m = await xorManifest();
    for (const [name, x] of broken(m)) {
      expect(validate(x), name).toBe(false);
      expect(checkSchema(x, SCHEMA as Schema), name).not.toBeNull();
      expect(() => parseManifest(x), name).toThrow(/K7001/);
    }
  });
});
