// `kiln inspect <model.ts> [--model NAME] [--stage ir] [--batch N]`: a model's graph at one stage of
// the pipeline, in the text format with source locations. Each stage is one row of STAGES.
import { fail } from '../../ir/errors.ts';
import type { Graph } from '../../ir/graph.ts';
import { print } from '../../ir/print.ts';
import { inferGraph, pickModel, type Model } from '../dsl/model.ts';
import { parseArgs, requirePositionals, usageOf, type CommandSpec } from './args.ts';

export const summary = 'print a model\'s graph at a stage of the pipeline';

export interface StageOptions {
  /** The compile-time batch (default: the model's). */
  readonly batch?: number;
}

/** What each stage shows: the graphs of the model after that stage. */
export const STAGES: Record<string, { readonly help: string; readonly build: (m: Model, o: StageOptions) => Graph | readonly Graph[] }> = {
  ir: { help: 'the inference graph as the DSL builds it', build: (m, o) => inferGraph(m, o.batch) },
};

const SPEC: CommandSpec = {
  name: 'inspect',
  usage: '<model.ts> [options]',
  flags: {
    model: { type: 'string', help: 'which exported model (default: the only one, or the default export)' },
    stage: { type: 'string', help: `what to print: ${Object.keys(STAGES).join(' | ')} (default ir)` },
    batch: { type: 'string', help: "batch size (default: the model's)" },
    'no-locations': { type: 'boolean', help: 'leave out the loc(...) source locations' },
  },
};

/** The text `kiln inspect` prints. */
export async function inspect(file: string, opts: { model?: string; stage?: string; batch?: number; locations?: boolean } = {}): Promise<string> {
  const stage = STAGES[opts.stage ?? 'ir'];
  if (!stage) fail('K8001', `inspect: unknown stage '${opts.stage}'; stages: ${Object.keys(STAGES).join(', ')}`);
  const model = await pickModel(file, opts.model, 'inspect');
  return print(stage.build(model, { batch: opts.batch }), { locations: opts.locations ?? true });
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(SPEC, argv);
  if (args.flags.help) {
    process.stdout.write(usageOf(SPEC));
    return 0;
  }
  const [file] = requirePositionals(SPEC, args, 1);
  const batch = args.flags.batch === undefined ? undefined : Number(args.flags.batch);
  if (batch !== undefined && !(Number.isInteger(batch) && batch > 0)) fail('K8001', `inspect: --batch must be a positive integer, got '${args.flags.batch}'`);
  const text = await inspect(file!, {
    model: args.flags.model as string | undefined,
    stage: args.flags.stage as string | undefined,
    batch,
    locations: args.flags['no-locations'] !== true,
  });
  process.stdout.write(text);
  return 0;
}
