/// <reference types="@webgpu/types" />
// The device side of `kiln inspect --profile --target webgpu`: runs where the GPUDevice lives (a
// Node worker thread, webgpu-profile-worker.ts, or a browser page). It asks for a device with
// `timestamp-query`, loads the program in the runtime's WebGpuExecutor, and runs each entry with a
// KernelTimer (each kernel in its own compute pass, timestamps written at the pass's start and end,
// resolved after the calls and read back once). Peaks come from two shaders of its own timed the same way:
// a compute-bound chain of vec4 FMAs and a bandwidth-bound vec4 copy.
import { KilnError } from '../../ir/errors.ts';
import type { Manifest } from '../../runtime/manifest.ts';
import type { TensorData } from '../../runtime/validate.ts';
import {
  describeDevice,
  loadWebGpu,
  requestDevice,
  type KernelTimer,
  type WebGpuExecutor,
  type WebGpuKernels,
} from '../../runtime/webgpu.ts';

export interface GpuTimingRequest {
  readonly kernels: WebGpuKernels;
  readonly manifest: Manifest;
  /** Initial values of the params. */
  readonly params: Readonly<Record<string, TensorData>>;
  /** Inputs of each entry. */
  readonly feeds: Readonly<Record<string, Readonly<Record<string, TensorData>>>>;
  /** Timed calls of each entry, after 2 warm-up calls. */
  readonly reps: number;
}

export interface GpuTimings {
  /** The adapter in words. */
  readonly adapter: string;
  /** ms of each kernel in each timed call (GPU timestamps). */
  readonly kernelMs: Readonly<Record<string, number[]>>;
  /** ms per call of each entry, as shipped (one pass, no timestamps): the wall clock of `reps`
   *  calls queued back to back until the queue has done their work, over `reps`. */
  readonly entryMs: Readonly<Record<string, number[]>>;
  /** ms of each timed dispatch of the peak shaders, with the work each does. */
  readonly fma: { readonly flops: number; readonly ms: number[] };
  readonly copy: { readonly bytes: number; readonly ms: number[] };
}

// WebGPU's flag values, spelled here so Node needs no globals
const QUERY_RESOLVE = 0x200,
  COPY_SRC = 0x04,
  COPY_DST = 0x08,
  MAP_READ = 0x01,
  STORAGE = 0x80;

/** The K8007 error of an adapter without timestamp queries. */
export function noTimestamps(adapter: string): KilnError {
  return new KilnError(
    'K8007',
    `inspect: --profile --target webgpu: the WebGPU adapter (${adapter}) has no 'timestamp-query' feature, so its kernels cannot be timed; profile --target wasm, or on an adapter with timestamp queries (Dawn in Node on SwiftShader or a GPU has them)`,
  );
}

/** A query set with two timestamps per kernel per call, for `calls` calls of `kernels` kernels
 *  queued back to back; the last call's command buffer resolves them all into one read-back. */
class Timer implements KernelTimer {
  private readonly set: GPUQuerySet;
  private readonly resolved: GPUBuffer;
  private readonly read: GPUBuffer;
  private call = 0;

  constructor(
    device: GPUDevice,
    private readonly kernels: number,
    private readonly calls: number,
  ) {
    const n = kernels * calls;
    this.set = device.createQuerySet({ label: 'kiln profile', type: 'timestamp', count: 2 * n });
    this.resolved = device.createBuffer({ label: 'kiln profile', size: 16 * n, usage: QUERY_RESOLVE | COPY_SRC });
    this.read = device.createBuffer({ label: 'kiln profile read-back', size: 16 * n, usage: MAP_READ | COPY_DST });
  }

  writes(i: number): GPUComputePassTimestampWrites {
    const q = 2 * (this.call * this.kernels + i);
    return { querySet: this.set, beginningOfPassWriteIndex: q, endOfPassWriteIndex: q + 1 };
  }

  resolve(enc: GPUCommandEncoder): void {
    if (++this.call < this.calls) return;
    const n = this.kernels * this.calls;
    enc.resolveQuerySet(this.set, 0, 2 * n, this.resolved, 0);
    enc.copyBufferToBuffer(this.resolved, 0, this.read, 0, 16 * n);
  }

  /** ms of each kernel in each call (waits for the last call), then frees the GPU objects. */
  async ms(): Promise<number[][]> {
    await this.read.mapAsync(1);
    const t = new BigUint64Array(this.read.getMappedRange().slice(0));
    this.read.unmap();
    for (const b of [this.set, this.resolved, this.read]) b.destroy();
    return Array.from({ length: this.calls }, (_, c) =>
      Array.from({ length: this.kernels }, (_, i) => {
        const q = 2 * (c * this.kernels + i);
        return Number(t[q + 1]! - t[q]!) / 1e6;
      }),
    );
  }
}

/** `workgroups` x 64 threads, each `iters` rounds of `CHAINS` independent vec4 FMA chains. */
const CHAINS = 4; // 8 chains ran about 40% slower on SwiftShader (more registers than it has)
const fmaShader = (iters: number): string => {
  const a = Array.from({ length: CHAINS }, (_, i) => i);
  return `@group(0) @binding(0) var<storage, read_write> out: array<vec4f>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) {
  let s = vec4f(f32(g.x) * 1e-6);
  ${a.map((i) => `var a${i} = s + ${i}.0;`).join(' ')}
  let m = vec4f(0.9999);
  let c = vec4f(1e-4);
  for (var i = 0u; i < ${iters}u; i++) {
    ${a.map((i) => `a${i} = fma(a${i}, m, c);`).join(' ')}
  }
  out[g.x] = ${a.map((i) => `a${i}`).join(' + ')};
}`;
};

const COPY_SHADER = `@group(0) @binding(0) var<storage, read> src: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4f>;
@compute @workgroup_size(256) fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) {
  let i = g.x + g.y * n.x * 256u;
  if (i < arrayLength(&dst)) { dst[i] = src[i]; }
}`;

/** ms of `reps` dispatches of `code` over `buffers` (after 2 warm-up dispatches), each in its own
 *  pass and submit, read back once. */
async function timeShader(
  device: GPUDevice,
  label: string,
  code: string,
  buffers: readonly GPUBuffer[],
  dispatch: readonly [number, number],
  reps: number,
): Promise<number[]> {
  const pipeline = device.createComputePipeline({
    label,
    layout: 'auto',
    compute: { module: device.createShaderModule({ label, code }), entryPoint: 'main' },
  });
  const bind = device.createBindGroup({
    label,
    layout: pipeline.getBindGroupLayout(0),
    entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  const timer = new Timer(device, 1, reps + 2);
  for (let r = 0; r < reps + 2; r++) {
    const enc = device.createCommandEncoder({ label });
    const pass = enc.beginComputePass({ label, timestampWrites: timer.writes(0) });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bind);
    pass.dispatchWorkgroups(dispatch[0], dispatch[1]);
    pass.end();
    timer.resolve(enc);
    device.queue.submit([enc.finish()]);
  }
  return (await timer.ms()).slice(2).map(([ms]) => ms!);
}

/** The peak shaders' timings on `device`. */
async function peaks(device: GPUDevice, reps: number): Promise<Pick<GpuTimings, 'fma' | 'copy'>> {
  const groups = 256,
    iters = 4096;
  const fmaOut = device.createBuffer({ label: 'kiln peak fma', size: groups * 64 * 16, usage: STORAGE });
  const fma = await timeShader(device, 'kiln peak fma', fmaShader(iters), [fmaOut], [groups, 1], reps);
  fmaOut.destroy();
  const bytes = 32 << 20; // 32 MiB each way, larger than a CPU's caches
  const [src, dst] = ['src', 'dst'].map((n) =>
    device.createBuffer({ label: `kiln peak copy ${n}`, size: bytes, usage: STORAGE }),
  );
  const copy = await timeShader(
    device,
    'kiln peak copy',
    COPY_SHADER,
    [src!, dst!],
    [256, bytes / 16 / 256 / 256],
    reps,
  );
  src!.destroy();
  dst!.destroy();
  return { fma: { flops: groups * 64 * iters * CHAINS * 4 * 2, ms: fma }, copy: { bytes: 2 * bytes, ms: copy } };
}

/** Times `exe`'s kernels and calls of each entry: `reps` + 2 calls queued back to back (the first
 *  2 warm up) and read back once, for the kernels with a timer and for the entry without one. */
async function timeEntries(
  device: GPUDevice,
  exe: WebGpuExecutor,
  req: GpuTimingRequest,
): Promise<Pick<GpuTimings, 'kernelMs' | 'entryMs'>> {
  const kernelMs: Record<string, number[]> = {};
  const entryMs: Record<string, number[]> = {};
  for (const e of req.kernels.entries) {
    const ins = req.feeds[e.name] ?? {};
    const timer = new Timer(device, e.kernels.length, req.reps + 2);
    for (let r = 0; r < req.reps + 2; r++) await exe.run(e.name, ins, [], timer);
    const calls = (await timer.ms()).slice(2);
    e.kernels.forEach((k, i) => (kernelMs[k.name] = calls.map((ms) => ms[i]!)));
    for (let r = 0; r < 2; r++) await exe.run(e.name, ins, []);
    await device.queue.onSubmittedWorkDone();
    const t = performance.now();
    for (let r = 0; r < req.reps; r++) await exe.run(e.name, ins, []);
    await device.queue.onSubmittedWorkDone();
    entryMs[e.name] = [(performance.now() - t) / req.reps];
  }
  return { kernelMs, entryMs };
}

/** Times the request's program and the adapter's peaks; K8007 when the adapter has no timestamps. */
export async function timeOnGpu(req: GpuTimingRequest, device?: GPUDevice): Promise<GpuTimings> {
  const biggest = Math.max(...req.kernels.layout.chunks);
  const d =
    device ??
    (await requestDevice(
      { maxStorageBufferBindingSize: Math.max(biggest, 128 << 20), maxBufferSize: Math.max(biggest, 256 << 20) },
      ['timestamp-query'],
    ));
  const adapter = describeDevice(d);
  if (!d.features.has('timestamp-query')) throw noTimestamps(adapter);
  const exe = await loadWebGpu(req.kernels, req.manifest, { device: d });
  try {
    for (const [name, data] of Object.entries(req.params)) exe.writeParam(name, data);
    return { adapter, ...(await timeEntries(d, exe, req)), ...(await peaks(d, req.reps)) };
  } finally {
    exe.destroy();
  }
}
