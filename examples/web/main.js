// The web app: loads the compiled MNIST CNN (./model/, every file checked against its hash) with
// kiln's runtime, on WebGPU when the browser has it and the artifact a webgpu target, else on wasm;
// classifies the sample digits and what is drawn on the canvas, and trains a few steps in the page
// with a live loss readout. `window.kiln` exposes the results for the browser test.
import { loadModel } from 'kiln/runtime';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);

async function main() {
  const model = await loadModel(new URL('./model/', location.href), {
    backend: params.get('backend') ?? 'auto', // ?backend=webgpu also takes a software adapter (SwiftShader)
    relaxedSimd: params.get('simd') !== 'plain',
  });
  const batch = model.manifest.model.batch;
  const classes = model.manifest.entries.find((e) => e.name === 'infer').outputs[0].shape[1];
  $('status').textContent = `model ${model.manifest.model.name} (batch ${batch}) on ${model.backendInfo}`;
  const samples = await (await fetch('./samples.json')).json(); // { x: number[], y: number[] }: `batch` digits

  const argmax = (p, row) => {
    let best = 0;
    for (let j = 1; j < classes; j++) if (p[row * classes + j] > p[row * classes + best]) best = j;
    return best;
  };
  const classify = async (x) => {
    const t = performance.now();
    const { y } = await model.infer({ x });
    return { probs: y, ms: performance.now() - t };
  };

  // the sample digits
  const sx = Float32Array.from(samples.x);
  const { probs, ms } = await classify(sx);
  const predictions = Array.from({ length: batch }, (_, r) => argmax(probs, r));
  const correct = predictions.filter((p, r) => p === samples.y[r]).length;
  $('accuracy').textContent = `${correct}/${batch} correct in ${ms.toFixed(1)} ms`;
  for (let r = 0; r < batch; r++) {
    const c = document.createElement('canvas');
    c.width = c.height = 28;
    const img = c.getContext('2d').createImageData(28, 28);
    for (let i = 0; i < 784; i++)
      img.data.set([255 * sx[r * 784 + i], 255 * sx[r * 784 + i], 255 * sx[r * 784 + i], 255], 4 * i);
    c.getContext('2d').putImageData(img, 0, 0);
    const f = document.createElement('figure');
    if (predictions[r] !== samples.y[r]) f.className = 'wrong';
    const cap = document.createElement('figcaption');
    cap.textContent = String(predictions[r]);
    f.append(c, cap);
    $('samples').append(f);
  }
  window.kiln = {
    backend: model.backend,
    backendInfo: model.backendInfo,
    predictions,
    probs: Array.from(probs),
    latencyMs: ms,
    losses: [],
  };

  // drawing: 280x280 strokes, averaged down to 28x28 and centred like MNIST's digits
  const pad = $('pad');
  const ctx = pad.getContext('2d');
  ctx.lineWidth = 22;
  ctx.lineCap = 'round';
  ctx.strokeStyle = '#fff';
  let drawing = false;
  const at = (e) => [e.offsetX, e.offsetY];
  pad.addEventListener('pointerdown', (e) => {
    drawing = true;
    ctx.beginPath();
    ctx.moveTo(...at(e));
  });
  pad.addEventListener('pointermove', (e) => {
    if (drawing) {
      ctx.lineTo(...at(e));
      ctx.stroke();
    }
  });
  pad.addEventListener('pointerup', async () => {
    drawing = false;
    await guess();
  });
  $('clear').addEventListener('click', () => {
    ctx.clearRect(0, 0, 280, 280);
    $('guess').textContent = '-';
  });
  async function guess() {
    const px = ctx.getImageData(0, 0, 280, 280).data;
    const x = new Float32Array(batch * 784);
    for (let i = 0; i < 28; i++) {
      for (let j = 0; j < 28; j++) {
        let s = 0;
        for (let di = 0; di < 10; di++)
          for (let dj = 0; dj < 10; dj++) s += px[4 * ((10 * i + di) * 280 + 10 * j + dj)];
        x[i * 28 + j] = s / (100 * 255);
      }
    }
    const { probs, ms } = await classify(x); // row 0 is the drawing; the rest of the batch is blank
    $('guess').textContent = String(argmax(probs, 0));
    $('latency').textContent = `${ms.toFixed(1)} ms on ${model.backend}`;
  }

  // training: steps over the samples, the loss shown as it goes
  $('train').addEventListener('click', async () => {
    const y = Int32Array.from(samples.y);
    for (let s = 0; s < Number(params.get('steps') ?? 20); s++) {
      const { loss } = await model.trainStep({ x: sx, y });
      window.kiln.losses.push(loss[0]);
      $('loss').textContent = `step ${s + 1}: loss ${loss[0].toFixed(4)}`;
      await new Promise((r) => setTimeout(r, 0));
    }
  });
  $('status').dataset.ready = 'true';
}

main().catch((e) => {
  $('status').textContent = `error: ${e.message}`;
  console.error(e);
});
