// `kiln train <model.ts>`: the flags of a training run, mapped onto compiler/train/run.ts, which
// checks every path and the data first, compiles the model's training step, streams its dataset
// through it and writes what was asked. Settings a checkpoint records (seed, batch, ...) have no
// default here: a resumed run takes them from its checkpoint, a new one from the model and run.ts.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { runTraining } from '../train/run.ts';
import { TARGETS } from '../train/session.ts';
import { decodeSafetensors } from '../../runtime/safetensors.ts';
import { choice, defineCommand, flag, int, text, usageError, type OptionDecl } from './command.ts';
import { checkOutputPath, readFileBytes } from './files.ts';
import { catchInterrupt } from './interrupt.ts';
import { loadModel } from './model-file.ts';
import { progress } from './progress.ts';
import { EXIT } from './report.ts';
import { runScheduled } from './train-schedule.ts';

/** A number `--name <x>` that `ok` accepts (`what` says which). */
function num(help: string, ok: (x: number) => boolean, what: string): OptionDecl<number> {
  const parse = (raw: string): number => {
    const n = raw.trim() === '' ? NaN : Number(raw);
    if (!Number.isFinite(n) || !ok(n)) throw new Error(`must be ${what}, got '${raw}'`);
    return n;
  };
  return { help, value: 'x', parse };
}

export default defineCommand({
  name: 'train',
  summary: 'train a model on its dataset',
  args: ['<model.ts>'],
  options: {
    model: text('which exported model (default: the only one, or the default export)', { value: 'name' }),
    target: choice('where the step runs', TARGETS, { default: 'wasm' }),
    threads: int('threads the wasm step runs on (default: the core count)', { min: 1 }),
    epochs: int('number of epochs', { default: 1 }),
    batch: int("batch size (default: the model's)"),
    seed: int('shuffling seed (default 1)', { min: 0 }),
    steps: int('at most this many steps per epoch'),
    validationSplit: num(
      "hold out this fraction of the training split for validation (default: the model's)",
      (x) => x > 0 && x < 1,
      'a fraction between 0 and 1',
    ),
    earlyStopping: int('stop after this many epochs without a lower validation loss, and keep the best weights', {
      value: 'patience',
    }),
    lr: num("the learning rate (default: the model's)", (x) => x > 0, 'a positive number'),
    lrSchedule: text(
      "a learning-rate schedule starting at --lr or the model's rate: constant | step:stepSize=N[,gamma=G] | exponential:decaySteps=N,decayRate=R[,staircase] | cosine:decaySteps=N[,alpha=A]",
      { value: 'schedule' },
    ),
    freeze: text("comma-separated param name patterns to keep fixed, e.g. 'conv2d_*'", { value: 'patterns' }),
    json: flag('print one JSON line per epoch'),
    save: text('directory to write the trained params to (weights.safetensors)', { value: 'dir' }),
    init: text(
      "a weights.safetensors to start from: loads the model's params it holds (same dtypes and shapes), reports the rest",
      { value: 'file' },
    ),
    checkpoint: text('directory to write a checkpoint to after every epoch', { value: 'dir' }),
    resume: text("continue the run checkpointed in this directory until epoch --epochs (counting the checkpoint's)", {
      value: 'dir',
    }),
    plot: text('write the loss and metric curves per epoch to this .svg file', { value: 'file' }),
    force: flag(
      'overwrite an existing --save or --plot file, or a --checkpoint folder of another run (otherwise kiln refuses and keeps them)',
    ),
    noTypecheck: flag('run the model file without type-checking it first'),
  },
  epilog: [
    'examples:',
    '  kiln train examples/mnist-cnn.ts --epochs 10 --validation-split 0.1 --early-stopping 2 --plot curves.svg',
    '  kiln train examples/mnist-cnn.ts --epochs 2 --checkpoint ckpt && kiln train examples/mnist-cnn.ts --resume ckpt --epochs 3',
    "  kiln train examples/mnist-finetune.ts --model digits_5_9 --init out/weights.safetensors --freeze 'conv2d_*'",
  ].join('\n'),
  run: async ([file], opts) => {
    const model = await loadModel('train', file!, { model: opts.model, typecheck: !opts.noTypecheck });
    if (model.def.schedule) {
      // A GAN: entries that take turns (compiler/train/schedule.ts); the flags of one training step do not apply.
      if (!model.def.dataset)
        usageError('train', `model '${model.name}' names no dataset; give defineModel a dataset: () => Dataset`);
      if (opts.target === 'interp')
        usageError(
          'train',
          `model '${model.name}' trains by a schedule of entries, which runs on the compiled program only (wasm or webgpu); drop --target ${opts.target}`,
        );
      const savePath =
        opts.save === undefined
          ? undefined
          : checkOutputPath(opts.save, {
              command: 'train',
              flag: '--save',
              kind: 'folder',
              file: 'weights.safetensors',
              force: opts.force,
            });
      const init =
        opts.init === undefined
          ? undefined
          : { tensors: decodeSafetensors(readFileBytes('train', opts.init)).tensors, source: opts.init };
      return runScheduled(model, {
        epochs: opts.epochs,
        seed: opts.seed ?? 1,
        batch: opts.batch ?? model.def.batch,
        maxSteps: opts.steps,
        json: opts.json === true,
        savePath,
        force: opts.force === true,
        init,
        threads: opts.threads ?? availableParallelism(),
        target: opts.target,
      });
    }
    const given = {
      seed: opts.seed,
      batch: opts.batch,
      steps: opts.steps,
      validationSplit: opts.validationSplit,
      earlyStopping: opts.earlyStopping,
      lr: opts.lr,
      lrSchedule: opts.lrSchedule,
      freeze: opts.freeze?.split(',').filter((p) => p !== ''),
    };
    const stop = catchInterrupt((t) => process.stderr.write(t));
    const r = await runTraining({
      model,
      target: opts.target,
      threads: opts.threads ?? availableParallelism(),
      epochs: opts.epochs,
      settings: Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)),
      init: opts.init,
      checkpoint: opts.checkpoint,
      resume: opts.resume,
      save: opts.save,
      plot: opts.plot,
      json: opts.json,
      force: opts.force,
      progress: progress(process.stdout, !opts.json),
      interrupt: stop,
    }).finally(() => stop.dispose());
    if (r.interrupted) {
      const { epoch, step, checkpoint } = r.interrupted;
      const save = opts.save === undefined ? undefined : join(opts.save, 'weights.safetensors');
      const kept =
        save === undefined
          ? 'no --save was given'
          : existsSync(save)
            ? `the last good weights are still ${save} (from an earlier run, unchanged)`
            : `${save} was not written`;
      const resume = checkpoint
        ? `; the checkpoint of the last finished epoch is ${checkpoint} (continue with --resume)`
        : '';
      process.stderr.write(
        `error K8006: train: interrupted at epoch ${epoch}, step ${step}; nothing saved: ${kept}${resume}\n`,
      );
      return EXIT.interrupted;
    }
    return 0;
  },
});
