// Reproduces the abort of the `webgpu` package (Dawn 0.6.2, node-webgpu) on SwiftShader: the
// isolate that awaits Dawn's promises also collects large amounts of garbage, and within a few
// dozen iterations the process dies ("The futex facility returned an unexpected error code",
// pthread assertions, SIGSEGV). Without the garbage, or with the garbage made in another worker
// thread, it runs to the end; that is why runtime/webgpu-worker.ts hosts the device in a worker.
//   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json node scripts/dawn-gc-crash.mjs
import { create, globals } from 'webgpu';

Object.assign(globalThis, globals);
const adapter = await create([]).requestAdapter();
const device = await adapter.requestDevice();
const module = device.createShaderModule({
  code: '@group(0) @binding(0) var<storage, read_write> a: array<f32>;\n@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) { a[g.x] = f32(g.x); }',
});
const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
const buffer = device.createBuffer({ size: 256, usage: GPUBufferUsage.STORAGE });
const bind = device.createBindGroup({
  layout: pipeline.getBindGroupLayout(0),
  entries: [{ binding: 0, resource: { buffer } }],
});
for (let i = 0; i < 60; i++) {
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bind);
  pass.dispatchWorkgroups(1);
  pass.end();
  device.queue.submit([enc.finish()]);
  await device.queue.onSubmittedWorkDone();
  const garbage = [];
  for (let j = 0; j < 200000; j++) garbage.push({ j });
}
console.log('no crash');
