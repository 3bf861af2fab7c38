// End to end: models trained through their compiled WebAssembly training steps on real data.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { batches } from '../../compiler/data/dataset.ts';
import { evaluate, train, type Session } from '../../compiler/train/loop.ts';
import { createSession } from '../../compiler/train/session.ts';
import { decodeSafetensors } from '../../runtime/safetensors.ts';
import mnist from '../../examples/mnist-cnn.ts';
import xor from '../../examples/xor.ts';

const KILN = join(import.meta.dirname, '../../bin/kiln.js');

interface EpochLine {
  epoch: number;
  loss: number;
  test_loss: number;
  test_accuracy: number;
  seconds: number;
  steps: number;
}

/** Records the loss of every step. */
function recording(s: Session, losses: number[]): Session {
  return {
    ...s,
    step: (b) => {
      const l = s.step(b);
      losses.push(l);
      return l;
    },
  };
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('training on WebAssembly', () => {
  it('XOR reaches outputs within 0.1 of its targets', async () => {
    const s = await createSession(xor, { target: 'wasm' });
    const data = await xor.def.dataset!();
    train(s, data, { epochs: 3000, seed: 1 });
    const out = s.predict(data.test.columns).y!;
    const want = data.test.columns.y!;
    for (let i = 0; i < 4; i++) expect(Math.abs(out[i]! - want[i]!)).toBeLessThan(0.1);
  });

  it('MNIST CNN: 200 steps on real digits cut the loss by 3x and reach well above chance', async () => {
    const losses: number[] = [];
    const s = recording(await createSession(mnist, { target: 'wasm', batch: 32 }), losses);
    const data = await mnist.def.dataset!();
    const [r] = train(s, data, { epochs: 1, seed: 7, maxSteps: 200 }).history;
    expect(losses).toHaveLength(200);
    const first = mean(losses.slice(0, 10));
    const last = mean(losses.slice(-20));
    expect(first).toBeGreaterThan(2); // about ln(10) at the start
    expect(last).toBeLessThan(first / 3);
    expect(r!.test.accuracy).toBeGreaterThan(0.8); // chance is 0.1; 2,000 held-out digits
  });

  it('a run is reproducible: the same seed gives bitwise the same params', async () => {
    const data = await mnist.def.dataset!();
    const run = async (): Promise<Record<string, Uint8Array>> => {
      const s = await createSession(mnist, { target: 'wasm', batch: 16 });
      let n = 0;
      for (const b of batches(data.train, 16, 3, 1)) {
        if (n++ === 4) break;
        s.step(b);
      }
      return Object.fromEntries(
        Object.entries(s.params()).map(([k, a]) => [k, new Uint8Array(a.data.buffer.slice(0))]),
      );
    };
    const a = await run();
    const b = await run();
    expect(Object.keys(a).length).toBeGreaterThan(10); // weights, Adam slots, the step counter
    expect(Object.keys(b)).toEqual(Object.keys(a));
    for (const k of Object.keys(a)) expect(b[k], k).toEqual(a[k]);
    expect(Array.from(decodeInt(a['optimizer/iterations']!))).toEqual([4]);
  });

  it('compiled training matches the interpreter step for step (XOR)', async () => {
    const data = await xor.def.dataset!();
    const w = await createSession(xor, { target: 'wasm' });
    const i = await createSession(xor, { target: 'interp' });
    for (let step = 0; step < 20; step++) {
      const lw = w.step(data.train.columns);
      const li = i.step(data.train.columns);
      expect(Math.abs(lw - li)).toBeLessThan(1e-5);
    }
    const [ew, ei] = [evaluate(w, data.test), evaluate(i, data.test)];
    expect(ew.accuracy).toBe(ei.accuracy);
    expect(Math.abs(ew.loss! - ei.loss!)).toBeLessThan(1e-5);
  });
});

function decodeInt(bytes: Uint8Array): Int32Array {
  return new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

describe('kiln train (CLI)', () => {
  it('prints one JSON line per epoch, saves the params, and reloads them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-train-'));
    const out = execFileSync('node', [KILN, 'train', 'examples/xor.ts', '--epochs', '2500', '--json', '--save', dir], {
      encoding: 'utf8',
    });
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as EpochLine);
    expect(lines).toHaveLength(2500);
    expect(Object.keys(lines[0]!).sort()).toEqual(['epoch', 'loss', 'seconds', 'steps', 'test_accuracy', 'test_loss']);
    expect(lines[2499]!.loss).toBeLessThan(lines[0]!.loss / 5);
    expect(lines[2499]!.test_accuracy).toBe(1);
    const saved = decodeSafetensors(readFileSync(join(dir, 'weights.safetensors')));
    expect(saved.tensors['dense_1/kernel']!.shape).toEqual([2, 4]);
    expect(Array.from(saved.tensors['optimizer/iterations']!.data)).toEqual([2500]);
    // Starting from the saved weights, one more step begins where the last run ended.
    const again = execFileSync(
      'node',
      [KILN, 'train', 'examples/xor.ts', '--epochs', '1', '--json', '--init', join(dir, 'weights.safetensors')],
      { encoding: 'utf8' },
    );
    const first = JSON.parse(again.trim()) as EpochLine;
    expect(first.test_accuracy).toBe(1);
    expect(first.loss).toBeLessThan(lines[0]!.loss / 5);
  });

  it('refuses bad flag values with clear errors', () => {
    const run = (args: string[]): string => {
      try {
        execFileSync('node', [KILN, 'train', ...args], { encoding: 'utf8', stdio: 'pipe' });
        return '';
      } catch (e) {
        return String((e as { stderr: string }).stderr);
      }
    };
    expect(run(['examples/xor.ts', '--epochs', 'zero'])).toMatch(/--epochs must be an integer/);
    expect(run(['examples/xor.ts', '--target', 'gpu'])).toMatch(/--target 'gpu' is not one of wasm, webgpu, interp/);
    expect(run(['examples/xor.ts', '--no-typecheck', '--validation-split', '1.5'])).toMatch(
      /--validation-split must be a fraction between 0 and 1, got '1.5'/,
    );
    expect(run(['examples/xor.ts', '--no-typecheck', '--lr-schedule', 'exponential:decayRate=0.5'])).toMatch(
      /error K8001: learning-rate schedule 'exponential:decayRate=0.5': exponential needs decaySteps=<number>/,
    );
    expect(run(['examples/xor.ts', '--no-typecheck', '--plot', 'curves.png'])).toMatch(
      /--plot 'curves.png': kiln draws the curves as SVG; name a .svg file/,
    );
  });

  it('--checkpoint then --resume through the command line: the same weights file as one run', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-resume-'));
    // (The model file is type-checked by the other CLI tests; here four runs skip it to stay quick.)
    const kiln = (...args: string[]): string =>
      execFileSync('node', [KILN, 'train', 'examples/xor.ts', '--no-typecheck', '--json', '--lr', '0.3', ...args], {
        encoding: 'utf8',
      });
    kiln('--epochs', '20', '--checkpoint', join(dir, 'c'));
    const resumed = kiln('--epochs', '30', '--resume', join(dir, 'c'), '--save', join(dir, 'a'));
    expect(
      resumed
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as EpochLine).epoch),
    ).toEqual(Array.from({ length: 10 }, (_, i) => 21 + i));
    kiln('--epochs', '30', '--save', join(dir, 'b'));
    expect(readFileSync(join(dir, 'a', 'weights.safetensors'))).toEqual(
      readFileSync(join(dir, 'b', 'weights.safetensors')),
    );
    expect(() =>
      execFileSync(
        'node',
        [
          KILN,
          'train',
          'examples/xor.ts',
          '--no-typecheck',
          '--lr',
          '0.4',
          '--epochs',
          '30',
          '--resume',
          join(dir, 'c'),
        ],
        { stdio: 'pipe' },
      ),
    ).toThrow(/--lr 0.4 differs from the checkpoint's 0.3/);
  });
});
