// Variants of the DCGAN of examples/gan.ts, each judged after every epoch as `npm run e2e -- --judge`
// judges a saved run (the MNIST CNN of out/e2e/mnist_cnn, 1,000 samples, noise seed 2024). One JSON
// line per epoch; weights and sample grids go to /tmp/gan2-<tag>/. Used for the README's "Tried" table:
//   npx tsx scripts/gan-variants.ts '{"tag":"A","wide":true,"d2":true,"epochs":8}'
// wide: generator Dense 7*7*256 -> ConvT 128 (stride 1) -> ConvT 64 -> ConvT 1 (else Dense 7*7*128 ->
// ConvT 64 -> ConvT 1); d2: discriminator 64/128 (else 32/64); batch (default 64); lrd, lrg: Adam
// rates (default 2e-4, constant unless cosine); d3, d4: discriminator 64/128/256, 64/128/256/512;
// loss "ls": least squares; ema: the generator's moving average (judged beside the trained weights).
// examples/gan.ts is
//   '{"tag":"D3","wide":true,"d3":true,"batch":32,"epochs":30,"cosine":0.05,"ema":0.999}'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { judgeDcgan, JUDGE_NOISE_SEED } from './e2e.ts';
import { createSession } from '../compiler/train/session.ts';
import { programSession, trainScheduled, previewImages } from '../compiler/train/schedule.ts';
import { pngGrid } from '../compiler/train/png-grid.ts';
import { decodeSafetensors, encodeSafetensors } from '../runtime/safetensors.ts';
import mnistCnn from '../examples/mnist-cnn.ts';
import { buildDcgan, mnistReal } from '../examples/gan.ts';
import { cosineDecay, type LearningRate } from '../compiler/dsl/schedules.ts';

const v = JSON.parse(process.argv[2] ?? '{}') as {
  tag: string;
  wide?: boolean;
  ks1?: number;
  d2?: boolean;
  batch?: number;
  epochs?: number;
  lrd?: number;
  lrg?: number;
  /** Cosine decay of both rates over the run's updates down to this fraction of them. */
  cosine?: number;
  /** The epochs the cosine spans (default: the run's). */
  decayEpochs?: number;
  /** A third discriminator convolution of 256. */
  d3?: boolean;
  /** A third and a fourth of 256 and 512. */
  d4?: boolean;
  loss?: 'bce' | 'ls';
  ema?: number;
};
const B = v.batch ?? 64;
/** The training digits' turns over the run (8,000 digits, one turn per batch). */
const updates = Math.floor(8000 / B) * (v.decayEpochs ?? v.epochs ?? 8);
const rate = (initial: number): LearningRate =>
  v.cosine === undefined ? initial : cosineDecay({ initial, decaySteps: updates, alpha: v.cosine });
const { dcgan: gan } = buildDcgan({
  wide: v.wide ?? false,
  wideKernel: v.ks1,
  discriminatorWidths: v.d4 ? [64, 128, 256, 512] : v.d3 ? [64, 128, 256] : v.d2 ? [64, 128] : [32, 64],
  loss: v.loss,
  ema: v.ema,
  batch: B,
  lrDiscriminator: rate(v.lrd ?? 2e-4),
  lrGenerator: rate(v.lrg ?? 2e-4),
});

const session = await programSession(gan);
const cnn = await createSession(mnistCnn, { target: 'wasm' });
cnn.load(decodeSafetensors(readFileSync('out/e2e/mnist_cnn/weights.safetensors')).tensors);
const dir = `/tmp/gan2-${v.tag}`;
mkdirSync(dir, { recursive: true });
const t0 = performance.now();
trainScheduled(session, gan, mnistReal(), {
  epochs: v.epochs ?? 8,
  seed: 1,
  onEpoch: (r) => {
    const tj = performance.now();
    const j = judgeDcgan(cnn, session, gan, JUDGE_NOISE_SEED, false);
    const a = v.ema === undefined ? undefined : judgeDcgan(cnn, session, gan);
    const { data: d, shape } = previewImages(session, gan, 1);
    writeFileSync(
      `${dir}/weights-${r.epoch}.safetensors`,
      encodeSafetensors(session.params(), { model: 'dcgan', epochs: String(r.epoch) }),
    );
    writeFileSync(
      `${dir}/samples-${String(r.epoch).padStart(3, '0')}.png`,
      pngGrid(d, shape, { rows: B / 8, cols: 8, range: [-1, 1] }),
    );
    console.log(
      JSON.stringify({
        tag: v.tag,
        epoch: r.epoch,
        losses: r.losses,
        train_s: +r.seconds.toFixed(1),
        conf: j.confident,
        largest: j.largestClass,
        ...(a && { ema_conf: a.confident, ema_largest: a.largestClass }),
        spread: j.spread.map((x) => +x.toFixed(3)),
        judge_s: +((performance.now() - tj) / 1000).toFixed(1),
        s: Math.round((performance.now() - t0) / 1000),
      }),
    );
  },
});
