// `kiln inspect`: a model file's graph in the text format, located at the model file's lines.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { inspect, STAGES } from '../../compiler/cli/inspect.ts';
import { KilnError } from '../../compiler/index.ts';

/** The 1-based line of examples/<file> that holds `text`. */
const lineOf = (file: string, text: string): number =>
  readFileSync(`examples/${file}`, 'utf8')
    .split('\n')
    .findIndex((l) => l.includes(text)) + 1;

describe('kiln inspect', () => {
  test('prints the XOR graph with the lines of examples/xor.ts', async () => {
    const text = await inspect('examples/xor.ts');
    const lines = text.trim().split('\n');
    expect(lines[0]).toMatch(/^graph @xor\(%x: f32\[4,2\]\) params\(%dense_\d+\/kernel: f32\[2,4\] = random_uniform\{/);
    expect(
      lines
        .filter((l) => l.includes(`loc("examples/xor.ts":${lineOf('xor.ts', 'nn.dense(4,')}:`))
        .map((l) => l.split(' = ')[1]!.split('(')[0]),
    ).toEqual(['matmul', 'add', 'sigmoid']);
    expect(lines.filter((l) => l.includes(`loc("examples/xor.ts":${lineOf('xor.ts', 'nn.dense(1,')}:`)).length).toBe(3);
    expect(lines.at(-2)).toBe('  return %5 as y');
  });

  test('--batch, --model, no locations', async () => {
    const text = await inspect('examples/gan.ts', { model: 'gan_generator', batch: 2, locations: false });
    expect(text).toMatch(/^graph @gan_generator\(%noise: f32\[2,100\]\)/);
    expect(text).not.toContain('loc(');
    expect(text).toContain('conv2d_input_grad(');
  });

  test('a file with several models needs --model or a default export; unknown names are errors', async () => {
    expect(await inspect('examples/gan.ts')).toMatch(/^graph @dcgan\(%noise: f32\[32,100\]\)/); // the default export: the scheduled GAN, whose infer is the generator
    await expect(inspect('examples/gan.ts', { model: 'nope' })).rejects.toThrow(
      /inspect: examples\/gan.ts has no model 'nope'; it exports .*gan_generator_step/,
    );
    await expect(inspect('examples/xor.ts', { stage: 'fused?' })).rejects.toBeInstanceOf(KilnError);
    expect(Object.keys(STAGES)).toContain('ir');
  });

  test('runs from the command line under tsx', () => {
    const out = execFileSync(process.execPath, ['bin/kiln.js', 'inspect', 'examples/text-gru.ts', '--batch', '1'], {
      encoding: 'utf8',
    });
    expect(out).toMatch(/^graph @text_gru\(%x: i32\[1,50\]\)/);
    // the forward applies its layers in a function, so the gather is located where the embedding is applied
    const embedding = lineOf('text-classifier.ts', 'wordDropout(embed(x');
    expect(embedding).toBeGreaterThan(0);
    expect(out).toMatch(
      new RegExp(
        `gather\\(%word_vectors/embeddings, %x\\) \\{axis=0\\} : f32\\[1,50,64\\]\\s+loc\\("examples/text-classifier.ts":${embedding}:\\d+\\)`,
      ),
    );
  }, 60_000);
});
