// A grid of images as a PNG (pngjs): a batch [n, height, width, 1 | 3] with values in `range`, laid
// out rows x cols with a one-pixel border, for a generative model's samples after each epoch.
import { PNG } from 'pngjs';
import type { Column } from '../data/dataset.ts';

export interface Grid {
  readonly rows: number;
  readonly cols: number;
  readonly range: readonly [number, number];
}

export function pngGrid(data: Column, shape: readonly number[], grid: Grid): Buffer {
  const [n, h, w, c] = shape as [number, number, number, number];
  if (shape.length !== 4 || (c !== 1 && c !== 3))
    throw new Error(`png grid: images must be [batch, height, width, 1 | 3], got [${shape.join(', ')}]`);
  if (grid.rows * grid.cols > n)
    throw new Error(`png grid: ${grid.rows}x${grid.cols} needs ${grid.rows * grid.cols} images, the batch has ${n}`);
  const png = new PNG({ width: grid.cols * (w + 1) + 1, height: grid.rows * (h + 1) + 1 });
  png.data.fill(255);
  const [lo, hi] = grid.range;
  const byte = (v: number): number => Math.max(0, Math.min(255, Math.round((255 * (v - lo)) / (hi - lo))));
  for (let i = 0; i < grid.rows * grid.cols; i++) {
    const x0 = (i % grid.cols) * (w + 1) + 1;
    const y0 = Math.floor(i / grid.cols) * (h + 1) + 1;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const src = ((i * h + y) * w + x) * c;
        const dst = ((y0 + y) * png.width + x0 + x) * 4;
        for (let k = 0; k < 3; k++) png.data[dst + k] = byte(data[src + (c === 3 ? k : 0)]!);
      }
    }
  }
  return PNG.sync.write(png);
}
