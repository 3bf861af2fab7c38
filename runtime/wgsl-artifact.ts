// The artifact's WebGPU target, read back: the manifest's webgpu section checked (chunks, places,
// bindings, module ranges, dispatch sizes) when the manifest is parsed, and kernels.wgsl cut into the
// executor's kernels (WebGpuKernels) once its hash is checked, with each module's entry point and
// bindings checked against the manifest: all before any GPU object exists. compiler/artifact/webgpu.ts
// writes what this reads.
import { bad } from './errors.ts';
import { ELEMENT_BYTES, type Manifest, type WebGpuTarget } from './manifest.ts';
import type { WebGpuKernels } from './webgpu.ts';

/** WebGPU's guaranteed maxComputeWorkgroupsPerDimension. */
export const MAX_WORKGROUPS = 65535;
/** WebGPU's guaranteed maxStorageBuffersPerShaderStage. */
export const MAX_BINDINGS = 8;
/** The entry point runtime/webgpu.ts calls in every module. */
export const ENTRY_POINT = 'main';

const where = (entry: string, k: { name: string }): string => `manifest.json: webgpu kernel ${entry}/${k.name}`;

/** The webgpu target against the memory plan: every buffer placed inside its chunk, each chunk a window
 *  of the arena (so buffers share GPU bytes only where they share arena bytes, which checkMemory
 *  vetted), chunks no larger in all than the arena, bindings and modules that exist, dispatch sizes
 *  WebGPU guarantees. */
export function checkWebGpuTarget(m: Manifest, t: WebGpuTarget): void {
  const { chunks, places } = t;
  let total = 0;
  chunks.forEach((bytes, i) => {
    if (bytes < 16 || bytes % 16 !== 0)
      bad('K7015', `manifest.json: webgpu chunk ${i} of ${bytes} bytes, expected a positive multiple of 16`);
    total += bytes;
  });
  const most = m.memory.arenaBytes + 16 * chunks.length;
  if (total > most)
    bad('K7015', `manifest.json: webgpu chunks of ${total} bytes in all, expected at most ${most} for the arena`);
  const bufs = new Map(m.memory.buffers.map((b) => [b.name, b]));
  for (const name of Object.keys(places))
    if (!bufs.has(name))
      bad('K7015', `manifest.json: webgpu places buffer '${name}', which the memory plan does not declare`);
  const start = new Map<number, number>();
  for (const b of m.memory.buffers) {
    const p = Object.hasOwn(places, b.name) ? places[b.name] : undefined;
    if (!p) bad('K7015', `manifest.json: buffer '${b.name}' expected a place on the GPU, found none`);
    const bytes = chunks[p.chunk];
    const last = p.offset + Math.max(1, b.size) * ELEMENT_BYTES;
    if (bytes === undefined || p.offset % 16 !== 0 || last > bytes)
      bad(
        'K7015',
        `manifest.json: buffer '${b.name}' at bytes [${p.offset}, ${last}) of webgpu chunk ${p.chunk}, expected 16-aligned inside one of the ${chunks.length} chunks (${bytes ?? 'none'} bytes)`,
      );
    const s = start.get(p.chunk) ?? b.offset - p.offset;
    if (s < 0 || b.offset - p.offset !== s)
      bad(
        'K7015',
        `manifest.json: buffer '${b.name}' at offset ${p.offset} of webgpu chunk ${p.chunk}, expected ${b.offset - Math.max(0, s)} (its arena offset ${b.offset} minus the chunk's start ${Math.max(0, s)})`,
      );
    start.set(p.chunk, s);
  }
  const size = m.files[t.file]!.bytes;
  t.modules.forEach(([from, to], i) => {
    if (!(from < to && to <= size))
      bad(
        'K7016',
        `manifest.json: webgpu module ${i} at bytes [${from}, ${to}), expected inside ${t.file} (${size} bytes)`,
      );
  });
  for (const [entry, ks] of Object.entries(t.kernels)) {
    for (const k of ks) {
      if (k.module >= t.modules.length)
        bad('K7016', `${where(entry, k)}: module ${k.module}, expected one of the ${t.modules.length} modules`);
      if (k.bindings.length > MAX_BINDINGS || new Set(k.bindings).size !== k.bindings.length)
        bad('K7015', `${where(entry, k)}: bindings [${k.bindings}], expected at most ${MAX_BINDINGS} distinct chunks`);
      for (const c of k.bindings)
        if (c >= chunks.length)
          bad('K7015', `${where(entry, k)}: binds chunk ${c}, expected one of the ${chunks.length} chunks`);
      for (const b of [...k.reads, ...k.writes])
        if (!k.bindings.includes(places[b]!.chunk))
          bad('K7015', `${where(entry, k)}: uses buffer '${b}' in chunk ${places[b]!.chunk}, which it does not bind`);
      if (k.workgroups.some((n) => !(n >= 1 && n <= MAX_WORKGROUPS)))
        bad('K7017', `${where(entry, k)}: workgroups [${k.workgroups}], expected each in [1, ${MAX_WORKGROUPS}]`);
    }
  }
}

const BINDING = /@group\(0\)\s*@binding\((\d+)\)/g;

/** The executor's kernels from a checked manifest and its hash-checked WGSL file: each module UTF-8,
 *  declaring `@compute` entry point `main` and exactly the bindings 0..n-1 its kernels bind. */
export function gpuKernels(m: Manifest, bytes: Uint8Array): WebGpuKernels {
  const t = m.targets.webgpu!;
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const code = t.modules.map(([from, to], i) => {
    try {
      return utf8.decode(bytes.subarray(from, to));
    } catch {
      return bad('K7016', `${t.file}: module ${i} at bytes [${from}, ${to}), expected UTF-8 WGSL`);
    }
  });
  const entries = m.entries.map((e) => ({
    name: e.name,
    kernels: t.kernels[e.name]!.map((k) => {
      const text = code[k.module]!;
      if (k.entryPoint !== ENTRY_POINT || !new RegExp(`@compute\\b[^;{]*\\bfn\\s+${ENTRY_POINT}\\s*\\(`).test(text))
        bad(
          'K7016',
          `${t.file}: kernel ${e.name}/${k.name} expected module ${k.module} with a @compute entry point '${ENTRY_POINT}', found ${k.entryPoint === ENTRY_POINT ? 'none' : `'${k.entryPoint}' named`}`,
        );
      const declared = [...text.matchAll(BINDING)].map((x) => Number(x[1])).sort((a, b) => a - b);
      const n = k.bindings.length + (k.offsets.length ? 1 : 0); // the chunks, then the offsets' uniform
      if (declared.join() !== Array.from({ length: n }, (_, i) => i).join())
        bad(
          'K7016',
          `${t.file}: kernel ${e.name}/${k.name} binds ${k.bindings.length} chunks${k.offsets.length ? ' and its offsets' : ''}, its module ${k.module} declares bindings [${declared}]`,
        );
      return { name: k.name, shader: k.module, dispatch: k.workgroups, chunks: k.bindings, offsets: k.offsets };
    }),
  }));
  return { layout: { chunks: t.chunks, places: t.places }, shaders: code, entries };
}
