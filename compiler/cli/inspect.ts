// `kiln inspect <model.ts> [--model NAME] [--train] [--stage ir|train|simplified|fused|lowered|specialize|kernels]
// [--stats] [--json] [--batch N]`: a model at one stage of the pipeline, in the text format with
// source locations. Each stage is one row of STAGES.
import { fail } from '../../ir/errors.ts';
import type { Graph } from '../../ir/graph.ts';
import { print } from '../../ir/print.ts';
import { inferGraph, pickModel, type Model } from '../dsl/model.ts';
import { trainStep } from '../passes/train-step.ts';
import { inspectStats, KERNEL_PASSES, modelEntries, PIPELINE_STAGES } from '../pipeline.ts';
import { choice, defineCommand, flag, int, text } from './command.ts';
import { checkModelPath } from './model-file.ts';

export interface StageOptions {
  /** The compile-time batch (default: the model's). */
  readonly batch?: number;
  /** Pipeline stages: compile the training step too (entry `train_step` beside `infer`). */
  readonly train?: boolean;
  readonly locations?: boolean;
}

const graphs = (gs: Graph | readonly Graph[], o: StageOptions): string => print(gs, { locations: o.locations ?? true });
const pipeline = (stage: string) => (m: Model, o: StageOptions): string =>
  PIPELINE_STAGES[stage]!(modelEntries(m, { train: o.train ?? false, batch: o.batch }));

/** What each stage shows, as text. */
export const STAGES: Record<string, { readonly help: string; readonly render: (m: Model, o: StageOptions) => string }> = {
  ir: { help: 'the inference graph as the DSL builds it', render: (m, o) => graphs(inferGraph(m, o.batch), o) },
  train: { help: 'the training step: forward, loss, gradients, optimizer update', render: (m, o) => graphs(trainStep(m, { batch: o.batch }), o) },
  simplified: { help: 'after simplify, CSE and DCE', render: pipeline('simplified') },
  fused: { help: 'the fusion groups', render: pipeline('fused') },
  lowered: { help: 'the Kernel IR as lowered, before the kernel passes', render: pipeline('lowered') },
  ...Object.fromEntries(KERNEL_PASSES.map((p) => [p.name, { help: `the Kernel IR after the ${p.name} pass`, render: pipeline(p.name) }])),
  kernels: { help: 'the Kernel IR program with its memory plan', render: pipeline('kernels') },
};

/** The text `kiln inspect` prints. */
export async function inspect(file: string, opts: StageOptions & { model?: string; stage?: string; stats?: boolean; json?: boolean } = {}): Promise<string> {
  const stage = STAGES[opts.stage ?? 'ir'];
  if (!stage) fail('K8001', `inspect: unknown stage '${opts.stage}'; stages: ${Object.keys(STAGES).join(', ')}`);
  checkModelPath('inspect', file);
  const model = await pickModel(file, opts.model, 'inspect');
  if (!opts.stats) return stage.render(model, opts);
  const s = inspectStats(modelEntries(model, { train: opts.train ?? false, batch: opts.batch }));
  const stats = { ops: s.ops, kernels: s.kernels, arenaBytes: s.arenaBytes, bytesMoved: s.bytesMoved, bytesMovedUnfused: s.bytesMovedUnfused };
  if (opts.json) return JSON.stringify(stats) + '\n';
  return Object.entries(stats).map(([k, v]) => `${k.padEnd(18)} ${v}`).join('\n') + '\n';
}

export default defineCommand({
  name: 'inspect',
  summary: "print a model's graph at a stage of the pipeline",
  args: ['<model.ts>'],
  options: {
    model: text('which exported model (default: the only one, or the default export)', { value: 'name' }),
    stage: choice('what to print', Object.keys(STAGES), { default: 'ir' }),
    batch: int("batch size (default: the model's)"),
    train: flag('with simplified/fused/kernels/--stats: include the training step'),
    stats: flag("print the compiled program's statistics (ops, kernels, arena, bytes moved)"),
    json: flag('with --stats: one JSON object'),
    noLocations: flag('leave out the loc(...) source locations'),
  },
  run: async ([file], opts) => {
    process.stdout.write(await inspect(file!, { ...opts, locations: !opts.noLocations }));
    return 0;
  },
});
