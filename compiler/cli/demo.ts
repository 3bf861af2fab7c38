// `kiln demo` (`npm run demo`): the first thing to run on a fresh clone. Compiles the MNIST CNN's
// training step to WebAssembly, trains it for an epoch on real digits, evaluates it, and shows a few
// test digits with their predictions.
import { fileURLToPath } from 'node:url';
import { gatherBatch, type Column } from '../data/dataset.ts';
import { train } from '../train/loop.ts';
import { createSession } from '../train/session.ts';
import { pickModel } from '../dsl/model.ts';
import { defineCommand, int } from './command.ts';
import { progress } from './progress.ts';

const SHADES = ' .:-=+*#%@';

/** A 28x28 digit as text: one character per pixel column, one line per two pixel rows (28 x 14). */
function asciiDigit(px: ArrayLike<number>): string[] {
  const rows: string[] = [];
  for (let y = 0; y < 28; y += 2) {
    let line = '';
    for (let x = 0; x < 28; x += 1) {
      const v = (px[y * 28 + x]! + px[(y + 1) * 28 + x]!) / 2;
      line += SHADES[Math.min(SHADES.length - 1, Math.floor(v * SHADES.length))];
    }
    rows.push(line);
  }
  return rows;
}

export default defineCommand({
  name: 'demo',
  summary: 'train the MNIST CNN on WebAssembly for an epoch and show predictions',
  options: {
    epochs: int('epochs to train', { default: 1 }),
    show: int('test digits to show', { default: 4, min: 0 }),
  },
  run: async (_args, { epochs, show }) => {
    const file = fileURLToPath(new URL('../../examples/mnist-cnn.ts', import.meta.url));
    const model = await pickModel(file, undefined, 'demo');
    const t0 = performance.now();
    const session = await createSession(model, { target: 'wasm' });
    process.stdout.write(
      `kiln demo: ${model.name} (examples/mnist-cnn.ts), training step compiled to WebAssembly in ${((performance.now() - t0) / 1000).toFixed(2)} s\n`,
    );
    const data = await model.def.dataset!();
    process.stdout.write(
      `data: ${data.train.size} training and ${data.test.size} test digits from the 'mnist' package, batch ${session.batch}\n`,
    );
    const bar = progress(process.stdout, true);
    const { history } = train(session, data, {
      epochs,
      seed: 1,
      onStep: bar.step,
      onEpoch: (r) => {
        bar.endEpoch();
        process.stdout.write(
          `epoch ${r.epoch}: loss ${r.loss.toFixed(4)}, test accuracy ${(100 * r.test.accuracy!).toFixed(2)}%, ${r.seconds.toFixed(1)} s\n`,
        );
      },
    });
    const last = history[history.length - 1]!;
    process.stdout.write(
      `\ntest accuracy ${(100 * last.test.accuracy!).toFixed(2)}% after ${epochs} epoch${epochs === 1 ? '' : 's'}\n\n`,
    );

    const idx = Int32Array.from({ length: session.batch }, (_, b) => b % data.test.size);
    const batch = gatherBatch(data.test, idx, 0, session.batch);
    const probs = session.predict(batch).y as Column;
    const x = batch.x as Float32Array;
    const y = batch.y as Int32Array;
    const pictures: string[][] = [];
    const captions: string[] = [];
    for (let i = 0; i < Math.min(show, session.batch); i++) {
      const p = probs.subarray(i * 10, i * 10 + 10);
      let best = 0;
      for (let j = 1; j < 10; j++) if (p[j]! > p[best]!) best = j;
      pictures.push(asciiDigit(x.subarray(i * 784, (i + 1) * 784)));
      captions.push(`predicted ${best} (${(100 * p[best]!).toFixed(0)}%), label ${y[i]}`.padEnd(28));
    }
    for (let r = 0; r < 14; r++) process.stdout.write(pictures.map((p) => p[r]!).join('   ') + '\n');
    process.stdout.write(captions.join('   ') + '\n');
    return 0;
  },
});
