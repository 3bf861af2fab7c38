// A model -> the files of its artifact: manifest.json, program.wasm (+ relaxed SIMD), kernels.wgsl, the weights,
// the typed API (index.ts/.js/.d.ts). Pure apart from the progress callback; writing the folder is
// compiler/artifact/write.ts's job.
import { fail } from '../../ir/errors.ts';
import type { Graph } from '../../ir/graph.ts';
import type { Program } from '../../ir/kernel.ts';
import { initParams } from '../../ir/init.ts';
import type { Manifest } from '../../runtime/manifest.ts';
import { encodeSafetensors, type NamedArray } from '../../runtime/safetensors.ts';
import { checkWeights } from '../../runtime/validate.ts';
import { renderWasm } from '../../targets/wasm/index.ts';
import { renderWgsl } from '../../targets/wgsl/index.ts';
import { trace, type Model } from '../dsl/model.ts';
import { compileProgram, modelEntries } from '../pipeline.ts';
import { namedArray } from '../train/interp-session.ts';
import { INSPECT_FILE, inspectFile } from '../inspect/section.ts';
import { generateApi } from './api.ts';
import { packWgsl, WGSL_FILE } from './webgpu.ts';
import { fileSpecs, paramInfo, sealManifest, toManifest, type ParamInfo } from './manifest.ts';

export const TARGET_NAMES = ['wasm', 'webgpu'] as const;
export type TargetName = (typeof TARGET_NAMES)[number];

export interface BuildOptions {
  readonly targets: readonly TargetName[];
  /** Compile `train_step` too (default: when the model has a train setup). */
  readonly train?: boolean;
  readonly batch?: number;
  /** Param values to start from (e.g. `kiln train --save`); params it lacks keep their initial values. */
  readonly weights?: Readonly<Record<string, NamedArray>>;
  /** Where `weights` came from, for errors. */
  readonly weightsFile?: string;
  /** Add inspect.json (compiler/inspect/section.ts): every stage's text, kernels' source maps, Kernel
   *  IR and WAT, so `kiln inspect <folder>` works without the model's source. */
  readonly inspect?: boolean;
  /** false: every convolution direct (CompileOptions.winograd). */
  readonly winograd?: false;
  /** Called as each stage starts. */
  readonly onStage?: (stage: string, index: number, count: number) => void;
}

export const STAGES = ['compile', 'wasm', 'wgsl', 'weights', 'api', 'manifest'] as const;

/** Roles of a model's params, from its trace: trained weights, optimizer slots, the step counter,
 *  and state written in place (BatchNorm statistics, RNG counters). */
function modelParamInfo(
  model: Model,
  train: boolean,
  batch: number,
  names: ReadonlySet<string>,
): (name: string) => ParamInfo {
  const t = trace(model, { mode: train ? 'train' : 'infer', batch });
  const trainable = new Set(t.trainable.map((p) => p.name));
  const all = t.builder.finish().params.map((p) => p.name);
  const stateful = new Set(train ? t.stateUpdates.map((a) => a.param.name) : all.filter((n) => !trainable.has(n)));
  return (name) => paramInfo(name, names, stateful);
}

function initialWeights(graphs: readonly Graph[]): Record<string, NamedArray> {
  const init = initParams({ params: graphs.flatMap((g) => g.params) });
  return Object.fromEntries(Object.entries(init).map(([k, t]) => [k, namedArray(t)]));
}

/** The artifact's files and manifest, and the Program they were made from. */
export async function buildArtifact(
  model: Model,
  opts: BuildOptions,
): Promise<{ manifest: Manifest; files: Record<string, Uint8Array>; program: Program }> {
  const stage = (s: (typeof STAGES)[number]): void => opts.onStage?.(s, STAGES.indexOf(s), STAGES.length);
  const train = opts.train ?? model.def.train !== undefined;
  if (train && !model.def.train)
    fail(
      'K8001',
      `compile: model '${model.name}' has no train setup; compile with --no-train or give defineModel a train: { loss, optimizer }`,
    );
  const batch = opts.batch ?? model.def.batch;

  stage('compile');
  const entries = modelEntries(model, { train, batch });
  const program = compileProgram(entries, { winograd: opts.winograd });
  stage('wasm');
  const wasmBins = opts.targets.includes('wasm')
    ? await renderWasm(program, { relaxed: true, threads: true })
    : undefined;
  stage('wgsl');
  const wgsl = opts.targets.includes('webgpu') ? packWgsl(program, renderWgsl(program)) : undefined;

  stage('weights');
  const names = new Set(program.params.map((p) => p.name));
  const info = modelParamInfo(model, train, batch, names);
  const ranges = Object.fromEntries(
    Object.entries({ ...model.def.inputs, ...model.def.targets }).flatMap(([k, s]) => (s.range ? [[k, s.range]] : [])),
  );
  const draft = toManifest(program, { batch, params: info, ranges });
  const weights = initialWeights(entries.map((e) => e.graph));
  if (opts.weights) {
    const given = Object.fromEntries(
      Object.entries(opts.weights).filter(
        ([k]) =>
          names.has(k) ||
          fail('K7006', `${opts.weightsFile ?? 'weights'}: tensor '${k}' is not a param of model ${model.name}`),
      ),
    );
    checkWeights({ ...draft, params: draft.params.filter((p) => p.name in given) }, given, opts.weightsFile);
    Object.assign(weights, given);
  }
  const weightBytes = encodeSafetensors(Object.fromEntries(program.params.map((p) => [p.name, weights[p.name]!])), {
    format: 'kiln.weights',
    model: model.name,
  });

  const relaxed = wasmBins?.relaxed;
  const threads = wasmBins?.threads;
  const wasm = !wasmBins
    ? null
    : {
        simd: 'program.wasm',
        ...(relaxed ? { relaxed: 'program.relaxed.wasm' } : {}),
        ...(threads ? { threads: 'program.threads.wasm' } : {}),
        ...(threads?.relaxed ? { threadsRelaxed: 'program.threads.relaxed.wasm' } : {}),
      };
  stage('api');
  const files: Record<string, Uint8Array> = {
    ...(wasmBins && { 'program.wasm': wasmBins.binary }),
    'weights.safetensors': weightBytes,
    ...generateApi(draft),
  };
  if (relaxed) files['program.relaxed.wasm'] = relaxed;
  if (threads) files['program.threads.wasm'] = threads.simd;
  if (threads?.relaxed) files['program.threads.relaxed.wasm'] = threads.relaxed;
  if (wgsl) files[WGSL_FILE] = wgsl.bytes;
  if (opts.inspect) files[INSPECT_FILE] = inspectFile(model, { train, batch });
  stage('manifest');
  const manifest = toManifest(program, {
    batch,
    params: info,
    ranges,
    files: await fileSpecs(files),
    wasm,
    webgpu: wgsl?.target,
  });
  files['manifest.json'] = new TextEncoder().encode(await sealManifest(manifest));
  return { manifest, files, program };
}
