// loadModel: reads an artifact (manifest first, then each file checked against its hash), picks a
// backend, loads the weights into the params, and gives the app infer / trainStep / params /
// checkpoints. Nothing from an artifact is evaluated as code.
import { bad, KilnError } from './errors.ts';
import { fileReader, writeFileAtomic, type ArtifactSource } from './files.ts';
import type { Manifest } from './manifest.ts';
import { decodeSafetensors, encodeSafetensors, type NamedArray } from './safetensors.ts';
import { checkFile, checkWeights, readManifest, type TensorData, type TensorInput } from './validate.ts';
import type { RuntimeTensor } from './wasm.ts';
import { openExecutor, type Backend, type Executor, type LoadOptions } from './backend.ts';

export type { Backend, Executor, LoadOptions };

export type Outputs = Record<string, TensorData>;

export interface KilnModel {
  readonly manifest: Manifest;
  /** Which backend runs the model. */
  readonly backend: Backend;
  /** Why that backend, e.g. 'wasm (relaxed SIMD, 2 threads): no WebGPU adapter'. */
  readonly backendInfo: string;
  /** Threads each entry runs on (wasm; 1 on WebGPU). */
  readonly threads: number;
  /** Ends the model's worker threads; it may not run after. */
  close(): void;
  infer(inputs: Readonly<Record<string, TensorInput>>): Promise<Outputs>;
  /** One training step (forward, loss, gradients, optimizer update); returns the loss and metrics. */
  trainStep(inputs: Readonly<Record<string, TensorInput>>): Promise<Outputs>;
  /** Runs any entry point by name. */
  run(entry: string, inputs: Readonly<Record<string, TensorInput>>): Promise<Outputs>;
  /** Every param (weights, optimizer slots, step counter, BatchNorm statistics, RNG counters). */
  getParams(): Promise<Record<string, NamedArray>>;
  /** Sets the params given (checked: names, dtypes, shapes). */
  setParams(params: Readonly<Record<string, NamedArray | TensorData>>): Promise<void>;
  /** All params in one safetensors file (written atomically to `path` in Node when given). */
  saveCheckpoint(path?: string): Promise<Uint8Array>;
  /** Restores a checkpoint (bytes, or a path in Node): every param, so training resumes exactly. */
  loadCheckpoint(source: Uint8Array | string): Promise<void>;
}

const asArray = (t: RuntimeTensor): NamedArray => ({
  dtype: t.type.dtype === 'f32' ? 'F32' : t.type.dtype === 'i32' ? 'I32' : 'BOOL',
  shape: [...t.type.shape],
  data: t.data,
});

/** Loads a compiled artifact: a folder path (Node), a URL, or the files by name. */
export async function loadModel(source: ArtifactSource, opts: LoadOptions = {}): Promise<KilnModel> {
  const readAny = fileReader(source);
  const m = await readManifest(await readAny('manifest.json', MAX_MANIFEST_BYTES));
  const read = (name: string): Promise<Uint8Array> => readAny(name, m.files[name]?.bytes ?? 0);
  const weightBytes = await read(m.weights);
  await checkFile(m, m.weights, weightBytes);
  const weights = decodeSafetensors(weightBytes, m.weights).tensors;
  checkWeights(m, weights);
  const { exec, backend, info, threads } = await openExecutor(m, read, opts);
  for (const p of m.params) await exec.writeParam(p.name, weights[p.name]!.data);

  const run = async (entry: string, inputs: Readonly<Record<string, TensorInput>>): Promise<Outputs> => {
    const out = await exec.run(entry, inputs);
    return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, t.data]));
  };
  const getParams = async (): Promise<Record<string, NamedArray>> => {
    const out: Record<string, NamedArray> = {};
    for (const p of m.params) out[p.name] = asArray(await exec.readParam(p.name));
    return out;
  };
  const setParams = async (params: Readonly<Record<string, NamedArray | TensorData>>): Promise<void> => {
    for (const [name, v] of Object.entries(params)) {
      if (ArrayBuffer.isView(v)) await exec.writeParam(name, v);
      else {
        checkWeights({ ...m, params: m.params.filter((p) => p.name === name) }, { [name]: v }, 'setParams');
        await exec.writeParam(name, v.data);
      }
    }
  };
  const entry =
    (name: string): ((i: Readonly<Record<string, TensorInput>>) => Promise<Outputs>) =>
    (inputs) => {
      if (!m.entries.some((e) => e.name === name))
        bad(
          'K7002',
          `model ${m.model.name}: expected an entry '${name}', found only ${m.entries.map((e) => e.name).join(', ')}${name === 'train_step' ? ' (compiled with --no-train?)' : ''}`,
        );
      return run(name, inputs);
    };
  return {
    manifest: m,
    backend,
    backendInfo: info,
    threads,
    close: () => exec.close?.(),
    infer: entry('infer'),
    trainStep: entry('train_step'),
    run,
    getParams,
    setParams,
    async saveCheckpoint(path) {
      const bytes = encodeSafetensors(await getParams(), { format: 'kiln.checkpoint', model: m.model.name });
      if (path !== undefined) await writeFileAtomic(path, bytes);
      return bytes;
    },
    async loadCheckpoint(source) {
      const name = typeof source === 'string' ? source : 'checkpoint';
      const bytes = typeof source === 'string' ? await readPath(source) : source;
      const t = decodeSafetensors(bytes, name).tensors;
      checkWeights(m, t, name);
      for (const p of m.params) await exec.writeParam(p.name, t[p.name]!.data);
    },
  };
}

async function readPath(path: string): Promise<Uint8Array> {
  const cut = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return fileReader(cut < 0 ? '.' : path.slice(0, cut) || '/')(path.slice(cut + 1), 2 ** 32);
}

/** No manifest is larger (a mnist_cnn manifest is about 30 KB). */
const MAX_MANIFEST_BYTES = 64 * 2 ** 20;

export { KilnError };
