/// <reference types="@webgpu/types" />
// The WebGPU executor: runs a program's WGSL kernels (targets/wgsl renders them) on a GPUDevice
// from navigator.gpu (browsers), the `webgpu` package (Dawn, in Node) or the app. At load it makes
// the arena's storage buffers, writes constant tables, compiles each distinct shader's module and
// pipeline in parallel (createComputePipelineAsync), writes every kernel's buffer offsets into one
// uniform buffer and makes each kernel's bind group; nothing is allocated on the GPU after that. A
// call writes its inputs, encodes all of the entry's dispatches into one command buffer (plus the
// copies of the outputs asked for) and submits it once. Every GPU
// object is labelled with its kernel's name; shader compile errors, device loss and out-of-memory
// become typed errors (K7006) that name the kernel and, for a compile error, the WGSL line.
import { bad, KilnError } from './errors.ts';
import { formatSpec, sizeOf, type Manifest, type TensorSpec } from './manifest.ts';
import { checkInput, checkInputs, type TensorData, type TensorInput } from './validate.ts';
import type { RuntimeTensor } from './wasm.ts';

const size = (t: TensorSpec): number => sizeOf(t.shape);

function alloc(t: TensorSpec): TensorData {
  const n = size(t);
  return t.dtype === 'f32' ? new Float32Array(n) : t.dtype === 'i32' ? new Int32Array(n) : new Uint8Array(n);
}

/** A GPU failure (no adapter, shader compile error, device lost, out of memory) as a typed error. */
function gpuFail(detail: string): never {
  return bad('K7009', detail);
}

/** What the executor runs (targets/wgsl's renderWgsl returns it; plain JSON, so an artifact can
 *  carry it): the arena's chunks and buffer places, the distinct WGSL texts, and per entry point its
 *  kernels in dispatch order. A kernel's bind group 0 holds its storage chunks (binding i = arena
 *  chunk `chunks[i]`) and, when `offsets` is not empty, a uniform at binding `chunks.length` of
 *  `offsets.length` i32 fields: its buffers' first elements. Kernels with the same shader share its
 *  module and pipeline. */
export interface WebGpuKernels {
  readonly layout: {
    /** Byte size of each arena chunk (one storage buffer each). */
    readonly chunks: readonly number[];
    readonly places: Readonly<Record<string, { readonly chunk: number; readonly offset: number }>>;
  };
  readonly shaders: readonly string[];
  readonly entries: readonly {
    readonly name: string;
    readonly kernels: readonly {
      readonly name: string;
      /** Index into `shaders`. */
      readonly shader: number;
      readonly dispatch: readonly [number, number, number];
      readonly chunks: readonly number[];
      readonly offsets: readonly number[];
    }[];
  }[];
}

// WebGPU's flag values (GPUBufferUsage, GPUMapMode), spelled here so Node needs no globals
const STORAGE = 0x80,
  COPY_SRC = 0x04,
  COPY_DST = 0x08,
  UNIFORM = 0x40,
  MAP_READ = 0x01,
  MAP_MODE_READ = 0x01;

/** Devices from the `webgpu` package: its createComputePipelineAsync and getCompilationInfo
 *  (0.6.2, on SwiftShader) abort the process after a few calls ("The futex facility returned an
 *  unexpected error code"), so their pipelines are made with createComputePipeline, and
 *  getCompilationInfo is asked only after a compile error. */
const DAWN_NODE = new WeakSet<GPUDevice>();

/** A GPUDevice: navigator.gpu where there is one, else the `webgpu` package (Dawn) in Node; with
 *  those of `features` the adapter has (the caller checks device.features). */
export async function requestDevice(
  limits: Record<string, number> = {},
  features: readonly GPUFeatureName[] = [],
): Promise<GPUDevice> {
  let gpu: GPU | undefined = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  const fromPackage = !gpu;
  if (!gpu) {
    const pkg = 'webgpu'; // a variable, so that bundles for the browser leave it out
    try {
      const m = (await import(pkg)) as { create: (flags: string[]) => GPU; globals: object };
      Object.assign(globalThis, m.globals);
      gpu = m.create([]);
    } catch (e) {
      gpuFail(
        `no WebGPU here: navigator.gpu is missing and the 'webgpu' package does not load (${(e as Error).message})`,
      );
    }
  }
  const adapter = await gpu.requestAdapter();
  if (!adapter)
    gpuFail(
      'no WebGPU adapter: the GPU driver offers none (in Node without a GPU, set VK_ICD_FILENAMES to a SwiftShader or other Vulkan driver)',
    );
  const required: Record<string, number> = {};
  for (const [k, v] of Object.entries(limits)) {
    const have = (adapter.limits as unknown as Record<string, number>)[k] ?? 0;
    if (have < v) gpuFail(`the WebGPU adapter's ${k} is ${have}; the program needs ${v}`);
    required[k] = v;
  }
  const device = await adapter.requestDevice({
    requiredLimits: required,
    requiredFeatures: features.filter((f) => adapter.features.has(f)),
    label: 'kiln',
  });
  if (fromPackage) DAWN_NODE.add(device);
  return device;
}

/** The adapter behind a device, in words ("google swiftshader"). */
export function describeDevice(device: GPUDevice): string {
  const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  return info
    ? [info.vendor, info.architecture, info.device, info.description].filter((x) => x).join(' ')
    : 'unknown adapter';
}

interface Kernel {
  readonly name: string;
  readonly pipeline: GPUComputePipeline;
  readonly bind: GPUBindGroup;
  readonly dispatch: readonly [number, number, number];
}

type KernelCode = WebGpuKernels['entries'][number]['kernels'][number];

/** Per-kernel GPU timestamps, for profiling (kiln inspect --profile): when a call is given one, each
 *  kernel runs in its own compute pass with `writes(i)`, and `resolve` adds its copies to the
 *  call's command encoder before the submit. */
export interface KernelTimer {
  writes(kernel: number): GPUComputePassTimestampWrites;
  resolve(enc: GPUCommandEncoder): void;
}

/** The first WGSL compile error of `module`, naming the kernels that use it and quoting its line. */
async function compileError(code: string, users: string, module: GPUShaderModule): Promise<Error | undefined> {
  const err = (await module.getCompilationInfo()).messages.find((m) => m.type === 'error');
  if (!err) return undefined;
  const line = code.split('\n')[err.lineNum - 1]?.trim() ?? '';
  return new KilnError(
    'K7009',
    `kernel ${users}: WGSL does not compile (a kiln bug): line ${err.lineNum}:${err.linePos}: ${err.message}\n  ${line.slice(0, 400)}`,
  );
}

/** The pipeline of each shader (made in parallel); a compile error names its kernels and WGSL line. */
async function compilePipelines(
  device: GPUDevice,
  shaders: readonly string[],
  kernels: readonly KernelCode[],
): Promise<GPUComputePipeline[]> {
  const users = shaders.map((_, i) => {
    const names = kernels.filter((k) => k.shader === i).map((k) => k.name);
    return names.length > 3 ? `${names.slice(0, 3).join(', ')} (+${names.length - 3})` : names.join(', ');
  });
  device.pushErrorScope('validation');
  const modules = shaders.map((code, i) => device.createShaderModule({ label: users[i], code }));
  const desc = (i: number): GPUComputePipelineDescriptor => ({
    label: users[i],
    layout: 'auto',
    compute: { module: modules[i]!, entryPoint: 'main' },
  });
  let failed: number | undefined;
  const pipelines = DAWN_NODE.has(device)
    ? modules.map((_, i) => device.createComputePipeline(desc(i)))
    : await Promise.all(
        modules.map((_, i) =>
          device.createComputePipelineAsync(desc(i)).catch(() => {
            failed ??= i;
            return undefined;
          }),
        ),
      );
  const err = await device.popErrorScope();
  if (err || failed !== undefined) {
    for (const [i, code] of shaders.entries()) {
      const e = await compileError(code, users[i]!, modules[i]!);
      if (e) throw e;
    }
    gpuFail(
      `kernel ${users[failed ?? 0]}: the compute pipeline is refused: ${err?.message ?? 'createComputePipelineAsync failed'}`,
    );
  }
  return pipelines as GPUComputePipeline[];
}

/** The uniform buffer holding every kernel's offsets (each at a multiple of the device's
 *  minUniformBufferOffsetAlignment) and the kernels' bind groups over it and the arena. */
function bindKernels(
  device: GPUDevice,
  label: string,
  kernels: readonly KernelCode[],
  pipelines: readonly GPUComputePipeline[],
  chunks: readonly GPUBuffer[],
): { uniforms: GPUBuffer; kernels: Kernel[] } {
  const align = device.limits.minUniformBufferOffsetAlignment;
  const slot = (k: KernelCode): number => Math.ceil((4 * k.offsets.length) / align) * align;
  const table = new Int32Array(
    Math.max(
      16,
      kernels.reduce((n, k) => n + slot(k), 0),
    ) / 4,
  );
  const uniforms = device.createBuffer({
    label: `${label} offsets`,
    size: table.byteLength,
    usage: UNIFORM | COPY_DST,
  });
  let at = 0;
  const bound = kernels.map((k): Kernel => {
    const pipeline = pipelines[k.shader]!;
    table.set(k.offsets, at / 4);
    const entries: GPUBindGroupEntry[] = k.chunks.map((c, j) => ({ binding: j, resource: { buffer: chunks[c]! } }));
    if (k.offsets.length)
      entries.push({
        binding: k.chunks.length,
        resource: { buffer: uniforms, offset: at, size: 4 * k.offsets.length },
      });
    at += slot(k);
    const bind = device.createBindGroup({ label: k.name, layout: pipeline.getBindGroupLayout(0), entries });
    return { name: k.name, pipeline, bind, dispatch: k.dispatch };
  });
  device.queue.writeBuffer(uniforms, 0, table);
  return { uniforms, kernels: bound };
}

export class WebGpuExecutor {
  /** Submits and dispatches so far (each call of `run` is one submit). */
  readonly stats = { submits: 0, dispatches: 0 };
  private lost: string | undefined;
  private readonly pending: Promise<GPUError | null>[] = [];

  private constructor(
    readonly manifest: Manifest,
    readonly device: GPUDevice,
    private readonly layout: WebGpuKernels['layout'],
    private readonly chunks: readonly GPUBuffer[],
    private readonly staging: GPUBuffer,
    private readonly uniforms: GPUBuffer,
    private readonly entries: ReadonlyMap<string, readonly Kernel[]>,
  ) {
    void device.lost.then((i) => {
      this.lost = `${i.reason}: ${i.message}`;
    });
  }

  /** Makes the buffers, pipelines and bind groups of `kernels` on `device` (default: requestDevice()). */
  static async load(
    kernels: WebGpuKernels,
    manifest: Manifest,
    opts: { device?: GPUDevice } = {},
  ): Promise<WebGpuExecutor> {
    const biggest = Math.max(...kernels.layout.chunks);
    const device =
      opts.device ??
      (await requestDevice({
        maxStorageBufferBindingSize: Math.max(biggest, 128 << 20),
        maxBufferSize: Math.max(biggest, 256 << 20),
      }));
    if (device.limits.maxStorageBufferBindingSize < biggest) {
      gpuFail(
        `program @${manifest.model.name}: an arena chunk of ${biggest} bytes exceeds the device's maxStorageBufferBindingSize ${device.limits.maxStorageBufferBindingSize}; render with maxBinding set to it`,
      );
    }
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    const chunks = kernels.layout.chunks.map((bytes, i) =>
      device.createBuffer({
        label: `${manifest.model.name} arena ${i}`,
        size: bytes,
        usage: STORAGE | COPY_SRC | COPY_DST,
      }),
    );
    const outBytes = Math.max(
      16,
      ...manifest.entries.map((e) => e.outputs.reduce((n, o) => n + 4 * size(o), 0)),
      ...manifest.params.map((p) => 4 * size(p)),
    );
    const staging = device.createBuffer({
      label: `${manifest.model.name} read-back`,
      size: Math.ceil(outBytes / 16) * 16,
      usage: MAP_READ | COPY_DST,
    });
    const entries = new Map<string, Kernel[]>();
    const all = kernels.entries.flatMap((e) => e.kernels);
    const pipelines = await compilePipelines(device, kernels.shaders, all);
    const { uniforms, kernels: compiled } = bindKernels(device, manifest.model.name, all, pipelines, chunks);
    let at = 0;
    for (const e of kernels.entries) entries.set(e.name, compiled.slice(at, (at += e.kernels.length)));
    const validation = await device.popErrorScope();
    const oom = await device.popErrorScope();
    if (oom)
      gpuFail(
        `program @${manifest.model.name}: out of GPU memory making its ${kernels.layout.chunks.length} arena buffers (${kernels.layout.chunks.reduce((a, b) => a + b, 0)} bytes): ${oom.message}`,
      );
    if (validation) gpuFail(`program @${manifest.model.name}: WebGPU refused it at load: ${validation.message}`);
    for (const e of manifest.entries)
      if (!entries.has(e.name)) bad('K7001', `program @${manifest.model.name}: no WGSL kernels for entry '${e.name}'`);
    const exe = new WebGpuExecutor(manifest, device, kernels.layout, chunks, staging, uniforms, entries);
    for (const b of manifest.memory.buffers) if (b.init) exe.put(b.name, b.dtype, b.init);
    return exe;
  }

  private place(buf: string): { buffer: GPUBuffer; offset: number } {
    const p = this.layout.places[buf];
    if (!p || !this.chunks[p.chunk])
      bad('K7001', `program @${this.manifest.model.name}: buffer '${buf}' has no place in the GPU arena`);
    return { buffer: this.chunks[p.chunk]!, offset: p.offset };
  }

  private put(buf: string, dtype: TensorSpec['dtype'], data: ArrayLike<number>): void {
    const { buffer, offset } = this.place(buf);
    const words = dtype === 'f32' ? Float32Array.from(data) : Int32Array.from(data);
    this.device.queue.writeBuffer(buffer, offset, words.buffer, words.byteOffset, words.byteLength);
  }

  private alive(what: string): void {
    if (this.lost !== undefined)
      gpuFail(`program @${this.manifest.model.name}: ${what}: the GPU device was lost (${this.lost})`);
  }

  /** Errors WebGPU reported for earlier calls (validation, out of memory), thrown as typed errors. */
  private async settle(what: string): Promise<void> {
    const errs = await Promise.all(this.pending.splice(0));
    const e = errs.find((x) => x);
    if (e) gpuFail(`program @${this.manifest.model.name}: ${what}: WebGPU reported: ${e.message}`);
    this.alive(what);
  }

  /** Copies `bufs` (with their types) out through the staging buffer; `enc` holds work still to submit. */
  private async readBack(
    enc: GPUCommandEncoder,
    bufs: readonly { buffer: string; dtype: TensorSpec['dtype']; shape: readonly number[] }[],
  ): Promise<TensorData[]> {
    let at = 0;
    const spans = bufs.map((spec) => {
      const { buffer, offset } = this.place(spec.buffer);
      const bytes = 4 * size(spec);
      if (bytes) enc.copyBufferToBuffer(buffer, offset, this.staging, at, bytes);
      const span = { at, bytes, type: spec };
      at += bytes;
      return span;
    });
    this.device.queue.submit([enc.finish()]);
    this.stats.submits++;
    await this.staging.mapAsync(MAP_MODE_READ, 0, Math.max(16, Math.ceil(at / 16) * 16));
    try {
      const mapped = this.staging.getMappedRange(0, Math.max(16, Math.ceil(at / 16) * 16));
      return spans.map(({ at: from, bytes, type }) => {
        const out = alloc(type);
        const words =
          type.dtype === 'f32' ? new Float32Array(mapped, from, bytes / 4) : new Int32Array(mapped, from, bytes / 4);
        out.set(words);
        return out;
      });
    } finally {
      this.staging.unmap();
    }
  }

  /** Runs an entry point: writes its inputs, submits all its dispatches at once, and reads back
   *  the outputs named in `read` (default: all; [] reads none and does not wait for the GPU).
   *  `timer` (profiling only) gives each kernel its own timed pass. */
  async run(
    entry: string,
    inputs: Readonly<Record<string, TensorInput>> = {},
    read?: readonly string[],
    timer?: KernelTimer,
  ): Promise<Record<string, RuntimeTensor>> {
    const e = this.manifest.entries.find((x) => x.name === entry);
    const kernels = this.entries.get(entry);
    if (!e || !kernels)
      bad(
        'K7002',
        `no entry point '${entry}' in program @${this.manifest.model.name}; it has ${this.manifest.entries.map((x) => x.name).join(', ')}`,
      );
    const outs =
      read === undefined
        ? e.outputs
        : read.map(
            (n) =>
              e.outputs.find((o) => o.name === n) ??
              (() => {
                bad('K7002', `${entry}: no output '${n}'; outputs are ${e.outputs.map((o) => o.name).join(', ')}`);
              })(),
          );
    await this.settle(entry);
    const data = checkInputs(e, inputs);
    e.inputs.forEach((i, j) => this.put(i.buffer, i.dtype, data[j]!));
    this.device.pushErrorScope('out-of-memory');
    this.device.pushErrorScope('validation');
    const enc = this.device.createCommandEncoder({ label: entry });
    const one = timer ? undefined : enc.beginComputePass({ label: entry });
    for (const [i, k] of kernels.entries()) {
      const pass = one ?? enc.beginComputePass({ label: k.name, timestampWrites: timer!.writes(i) });
      pass.setPipeline(k.pipeline);
      pass.setBindGroup(0, k.bind);
      pass.dispatchWorkgroups(k.dispatch[0], k.dispatch[1], k.dispatch[2]);
      if (!one) pass.end();
    }
    one?.end();
    timer?.resolve(enc);
    this.stats.dispatches += kernels.length;
    const result: Record<string, RuntimeTensor> = {};
    if (outs.length) {
      const got = await this.readBack(enc, outs);
      outs.forEach((o, i) => {
        result[o.name] = { type: { dtype: o.dtype, shape: o.shape }, data: got[i]! };
      });
    } else {
      this.device.queue.submit([enc.finish()]);
      this.stats.submits++;
    }
    this.pending.push(this.device.popErrorScope(), this.device.popErrorScope());
    if (outs.length) await this.settle(entry);
    return result;
  }

  private param(name: string): Manifest['params'][number] {
    const p = this.manifest.params.find((x) => x.name === name);
    if (!p) bad('K7002', `no param '${name}' in program @${this.manifest.model.name}`);
    return p;
  }

  async readParam(name: string): Promise<RuntimeTensor> {
    const p = this.param(name);
    await this.settle(`reading param ${name}`);
    const [data] = await this.readBack(this.device.createCommandEncoder({ label: `read ${name}` }), [p]);
    return { type: { dtype: p.dtype, shape: p.shape }, data: data! };
  }

  writeParam(name: string, value: TensorInput): void {
    const p = this.param(name);
    this.alive(`writing param ${name}`);
    this.put(p.buffer, p.dtype, checkInput('param', { name, dtype: p.dtype, shape: p.shape, buffer: p.buffer }, value));
  }

  /** Frees the GPU buffers (the device stays the caller's when it was given). */
  destroy(): void {
    for (const b of this.chunks) b.destroy();
    this.staging.destroy();
    this.uniforms.destroy();
  }
}

/** Loads WGSL kernels with their program's manifest (the same manifest loadWasm takes). */
export function loadWebGpu(
  kernels: WebGpuKernels,
  manifest: Manifest,
  opts: { device?: GPUDevice } = {},
): Promise<WebGpuExecutor> {
  return WebGpuExecutor.load(kernels, manifest, opts);
}
