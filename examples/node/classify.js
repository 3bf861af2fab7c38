#!/usr/bin/env node
// A plain-JavaScript Node app embedding a compiled MNIST CNN: no compiler, no TypeScript loader, only
// the published runtime (kiln/runtime). It loads the artifact (every file checked against its
// hash), optionally trains it for a few steps on digits of the `mnist` package, classifies sample
// digits it did not train on, and prints the predictions, the backend and the latency.
//
//   npx kiln compile examples/mnist-cnn.ts --target all --out /tmp/m
//   node examples/node/classify.js /tmp/m [--backend auto|wasm|webgpu] [--train STEPS] [--json]
// (WebGPU in Node is the `webgpu` package, Dawn; without a GPU, SwiftShader's Vulkan driver serves it:
//  VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json ... --backend webgpu)
import { createRequire } from 'node:module';
import { KilnError, loadModel } from 'kiln/runtime';

const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const valueOf = (flag, otherwise) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : otherwise);
const dir = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--train' && args[i - 1] !== '--backend');
const trainSteps = Number(valueOf('--train', 0));
const backend = valueOf('--backend', 'auto');
const json = args.includes('--json');
if (!dir || !Number.isInteger(trainSteps) || trainSteps < 0 || !['auto', 'wasm', 'webgpu'].includes(backend)) {
  console.error(
    'usage: node examples/node/classify.js <artifact-dir> [--backend auto|wasm|webgpu] [--train STEPS] [--json]',
  );
  process.exit(2);
}

/** The mnist package's digits: ~1,000 per class, pixels in [0, 1]. */
const DIGITS = Array.from({ length: 10 }, (_, d) => require(`mnist/src/digits/${d}.json`).data);
const perClass = (d) => DIGITS[d].length / 784;

/** `count` digits cycling through the classes: sample k is digit k % 10, taken `from` the start or the end of its class. */
function digits(count, offset, fromEnd) {
  const x = new Float32Array(count * 784);
  const y = new Int32Array(count);
  for (let k = 0; k < count; k++) {
    const d = k % 10;
    const i = (offset + Math.floor(k / 10)) % perClass(d);
    const at = (fromEnd ? perClass(d) - 1 - i : i) * 784;
    x.set(DIGITS[d].subarray ? DIGITS[d].subarray(at, at + 784) : DIGITS[d].slice(at, at + 784), k * 784);
    y[k] = d;
  }
  return { x, y };
}

const argmax = (p, row, n) => {
  let best = 0;
  for (let j = 1; j < n; j++) if (p[row * n + j] > p[row * n + best]) best = j;
  return best;
};

try {
  const t0 = performance.now();
  const model = await loadModel(dir, { backend });
  const loadMs = performance.now() - t0;
  const batch = model.manifest.model.batch;
  const classes = model.manifest.entries.find((e) => e.name === 'infer').outputs[0].shape[1];
  let loss;
  for (let s = 0; s < trainSteps; s++)
    ({ loss } = await model.trainStep(digits(batch, s * Math.ceil(batch / 10), false)));

  const sample = digits(batch, 0, true); // the last digits of each class: never trained on here
  const { y: probs } = await model.infer({ x: sample.x });
  const times = [];
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    await model.infer({ x: sample.x });
    times.push(performance.now() - t);
  }
  const latency = times.sort((a, b) => a - b)[2];
  const predictions = Array.from({ length: batch }, (_, r) => argmax(probs, r, classes));
  const correct = predictions.filter((p, r) => p === sample.y[r]).length;
  if (json) {
    console.log(
      JSON.stringify({
        backend: model.backend,
        backendInfo: model.backendInfo,
        predictions,
        labels: Array.from(sample.y),
        accuracy: correct / batch,
        latencyMs: latency,
      }),
    );
  } else {
    console.log(
      `model ${model.manifest.model.name} loaded from ${dir} in ${loadMs.toFixed(0)} ms; backend: ${model.backendInfo}`,
    );
    if (trainSteps) console.log(`trained ${trainSteps} steps in the app, last loss ${loss[0].toFixed(4)}`);
    console.log(`labels:      ${Array.from(sample.y).join(' ')}`);
    console.log(`predictions: ${predictions.join(' ')}`);
    console.log(
      `${correct}/${batch} correct; infer latency ${latency.toFixed(2)} ms for a batch of ${batch} (median of 5)`,
    );
  }
} catch (e) {
  if (!(e instanceof KilnError)) throw e;
  console.error(`classify: ${e.message}`);
  process.exit(1);
}
