// compile -> load -> run: every seed model's artifact, loaded through the runtime's loadModel from its
// files, gives bitwise the results of the same program run in process (rendered again + loadWasm
// with initParams), over several calls of every entry; its weights file holds the initial params.
// Checkpoints: save -> load into a fresh model -> continue training gives bit-identical params to an
// uninterrupted run (a model with Adam slots, BatchNorm statistics, dropout RNG counters).
import { describe, expect, it } from 'vitest';
import { buildArtifact } from '../../compiler/artifact/build.ts';
import { toManifest } from '../../compiler/artifact/manifest.ts';
import { namedArray } from '../../compiler/train/interp-session.ts';
import { loadModel, loadWasm, type KilnModel, type TensorData } from '../../runtime/index.ts';
import { renderWasm } from '../../targets/wasm/index.ts';
import { SEED_CASES, seedBatch, seedEntries, seedModel, seedParams } from '../compiler/seed-cases.ts';

const bits = (a: TensorData): number[] => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.byteLength / 4));

describe('compile -> load -> run', () => {
  for (const c of SEED_CASES) {
    it(`${c.model}: the loaded artifact equals the in-process program bit for bit`, async () => {
      const entries = seedEntries(await seedModel(c), c);
      const { files, program } = await buildArtifact(await seedModel(c), { targets: ['wasm'], batch: c.batch });
      const inProcess = await loadWasm((await renderWasm(program, { relaxed: false })).binary, toManifest(program));
      const init = seedParams(entries);
      for (const [name, t] of Object.entries(init)) inProcess.writeParam(name, namedArray(t).data);
      const loaded = await loadModel(files, { backend: 'wasm', relaxedSimd: false });
      expect(loaded.backend).toBe('wasm');
      const params = await loaded.getParams();
      expect(Object.keys(params).sort()).toEqual(Object.keys(init).sort());
      for (const [name, t] of Object.entries(init))
        expect(bits(params[name]!.data), name).toEqual(bits(namedArray(t).data));
      for (let step = 0; step < Math.min(c.steps, 2); step++) {
        for (const e of entries) {
          const batch = seedBatch(e.graph, c, 100 * step + e.name.length);
          const inputs = Object.fromEntries(Object.entries(batch).map(([k, t]) => [k, t.data as TensorData]));
          const want = inProcess.run(e.name, inputs);
          const got = await loaded.run(e.name, inputs);
          expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
          for (const k of Object.keys(want))
            expect(bits(got[k]!), `${e.name} ${k} call ${step}`).toEqual(bits(want[k]!.data));
        }
      }
      for (const p of program.params)
        expect(bits((await loaded.getParams())[p.name]!.data), p.name).toEqual(bits(inProcess.readParam(p.name).data));
    });
  }

  it('a checkpoint resumes training exactly: params, optimizer slots, step counter, BatchNorm statistics, RNG counters', async () => {
    const c = SEED_CASES.find((x) => x.model === 'mnist_mlp_adam')!; // BatchNorm and Dropout: every role of param
    const model = await seedModel(c);
    const g = seedEntries(model, c).find((e) => e.name === 'train_step')!.graph;
    const batches = [0, 1, 2, 3].map((s) =>
      Object.fromEntries(Object.entries(seedBatch(g, c, s)).map(([k, t]) => [k, t.data as TensorData])),
    );
    const { files, manifest } = await buildArtifact(model, { targets: ['wasm'], batch: c.batch });
    expect(new Set(manifest.params.map((p) => p.role))).toEqual(
      new Set(['weight', 'optimizer-slot', 'step-counter', 'batchnorm-statistic', 'rng-counter']),
    );
    const open = (): Promise<KilnModel> => loadModel(files, { backend: 'wasm', relaxedSimd: false });

    const straight = await open();
    for (const b of batches) await straight.trainStep(b);
    const first = await open();
    for (const b of batches.slice(0, 2)) await first.trainStep(b);
    const ckpt = await first.saveCheckpoint();
    const resumed = await open();
    await resumed.loadCheckpoint(ckpt);
    for (const b of batches.slice(2)) await resumed.trainStep(b);

    const [want, got] = [await straight.getParams(), await resumed.getParams()];
    expect(Array.from(got['optimizer/iterations']!.data)).toEqual([4]);
    for (const p of manifest.params)
      expect(bits(got[p.name]!.data), `${p.name} (${p.role})`).toEqual(bits(want[p.name]!.data));
    // and the checkpoint really carried the state: a fresh model without it diverges
    const fresh = await open();
    for (const b of batches.slice(2)) await fresh.trainStep(b);
    const freshParams = await fresh.getParams();
    expect(
      manifest.params.some((p) => bits(freshParams[p.name]!.data).join() !== bits(want[p.name]!.data).join()),
    ).toBe(true);
  });
});
