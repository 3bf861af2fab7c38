// `kiln inspect <model.ts | artifact-dir> [--model NAME] [--train] [--entry NAME]
// [--stage ir|train|simplified|fused|lowered|specialize|transpose|kernels|wat|wgsl] [--kernel NAME] [--diff PASS] [--stats [--json]]
// [--profile [--target wasm|webgpu|all]] [--html FILE] [--batch N] [--no-locations]`: a model at one stage of the pipeline, what
// a pass changed, its kernels' code and costs, or an HTML report. The views live in compiler/inspect/.
import { statSync } from 'node:fs';
import { fail } from '../../ir/errors.ts';
import type { Graph } from '../../ir/graph.ts';
import { print } from '../../ir/print.ts';
import { inferGraph, pickModel, type Model } from '../dsl/model.ts';
import { collect, KERNEL_STAGES } from '../inspect/collect.ts';
import { checkReportPath } from '../inspect/html.ts';
import type { InspectData } from '../inspect/data.ts';
import { readInspectSection } from '../inspect/section.ts';
import {
  costJson,
  costTable,
  diffText,
  fusedText,
  kernelText,
  pickEntries,
  pickKernel,
  simplifiedText,
  stripLocations,
  watText,
  wgslText,
} from '../inspect/text.ts';
import { trainStep } from '../passes/train-step.ts';
import { choice, defineCommand, flag, int, text } from './command.ts';
import { checkModelPath } from './model-file.ts';

export interface StageOptions {
  /** The compile-time batch (default: the model's). */
  readonly batch?: number;
  /** Pipeline stages: compile the training step too (entry `train_step` beside `infer`). */
  readonly train?: boolean;
  readonly locations?: boolean;
}

export interface InspectOptions extends StageOptions {
  readonly model?: string;
  readonly stage?: string;
  readonly entry?: string;
  readonly kernel?: string;
  readonly diff?: string;
  readonly stats?: boolean;
  readonly json?: boolean;
  readonly profile?: boolean;
  /** What --profile runs (default wasm). */
  readonly target?: ProfileTarget;
  /** Write the HTML report here (compiler/inspect/html.ts) instead of printing. */
  readonly html?: string;
}

export const PROFILE_TARGETS = ['wasm', 'webgpu', 'all'] as const;
export type ProfileTarget = (typeof PROFILE_TARGETS)[number];

const graphs = (gs: Graph | readonly Graph[], o: StageOptions): string => print(gs, { locations: o.locations ?? true });
const located = (text: string, o: StageOptions): string => (o.locations === false ? stripLocations(text) : text);

interface Stage {
  readonly help: string;
  /** The stage of a model file without compiling it (ir and train: the graphs as built). */
  readonly direct?: (m: Model, o: StageOptions) => string;
  readonly render: (d: InspectData, o: InspectOptions) => string;
}

/** What each stage shows, as text. */
export const STAGES: Record<string, Stage> = {
  ir: {
    help: 'the inference graph as the DSL builds it',
    direct: (m, o) => graphs(inferGraph(m, o.batch), o),
    render: (d, o) => located(d.graphs.ir!, o),
  },
  train: {
    help: 'the training step: forward, loss, gradients, optimizer update',
    direct: (m, o) => graphs(trainStep(m, { batch: o.batch }), o),
    render: (d, o) =>
      located(d.graphs.train ?? fail('K8001', 'inspect: this artifact was compiled without its training step'), o),
  },
  simplified: {
    help: 'after simplify, CSE and DCE',
    render: (d, o) => located(simplifiedText(d, pickEntries(d, o.entry)), o),
  },
  fused: {
    help: 'the fusion groups, with the source lines of their ops',
    render: (d, o) => fusedText(d, pickEntries(d, o.entry), o.locations ?? true),
  },
  ...Object.fromEntries(
    KERNEL_STAGES.map((name, i) => [
      name,
      {
        help: i === 0 ? 'the Kernel IR as lowered, before the kernel passes' : `the Kernel IR after the ${name} pass`,
        render: (d: InspectData) =>
          d.kernelStages.find((k) => k.pass === name)?.text ??
          fail('K8001', `inspect: --stage ${name}: this inspection data has no ${name} stage`),
      },
    ]),
  ),
  kernels: {
    help: 'the Kernel IR program with its memory plan (--kernel: one kernel)',
    render: (d, o) => (o.kernel !== undefined ? kernelText(pickKernel(d, o.kernel), d) : d.program),
  },
  wat: {
    help: "each kernel's WebAssembly, commented with its IR values and source lines",
    render: (d, o) => watText(d, pickEntries(d, o.entry), o.kernel),
  },
  wgsl: {
    help: "each kernel's WGSL compute shader, commented with its IR values and source lines",
    render: (d, o) => wgslText(d, pickEntries(d, o.entry), o.kernel),
  },
};

/** Flags that do not apply to what was asked are errors that name them. */
function checkFlags(o: InspectOptions, artifact: boolean): void {
  const no = (flag: string, why: string): never => fail('K8001', `inspect: ${flag} ${why}`);
  if (o.stage !== undefined && !STAGES[o.stage])
    no(`--stage ${o.stage}`, `is not a stage; stages: ${Object.keys(STAGES).join(', ')}`);
  const modes = [
    o.stage !== undefined && '--stage',
    o.diff !== undefined && '--diff',
    o.stats && '--stats',
    o.html !== undefined && '--html',
  ].filter(Boolean);
  if (modes.length > 1 && !(modes.length === 2 && o.html !== undefined && o.stage !== undefined))
    no(modes.join(' and '), 'ask for different views; give one (--html takes --stage for the graph it draws)');
  if (o.json && !o.stats) no('--json', 'applies only with --stats');
  if (o.profile && !o.stats && o.html === undefined)
    no('--profile', 'applies only with --stats or --html (it adds measured times to the cost table)');
  if (o.target !== undefined && !o.profile) no('--target', 'applies only with --profile (where it runs the program)');
  if (o.profile && artifact)
    no('--profile', 'needs the model file (an artifact folder holds no compiler to build the profiling program)');
  const stage = o.stage ?? (o.diff || o.stats || o.html !== undefined ? undefined : 'ir');
  if (stage === 'ir' || stage === 'train') {
    if (o.train)
      no(
        '--train',
        `does not apply to --stage ${stage} (${STAGES[stage]!.help}); it adds the training step to simplified, fused, kernels, wat, --stats and --html`,
      );
    if (o.entry !== undefined)
      no(
        '--entry',
        `does not apply to --stage ${stage}; use --stage ${stage === 'ir' ? 'train' : 'ir'} for the other graph`,
      );
  }
  if (o.kernel !== undefined && !(stage === 'kernels' || stage === 'wat' || stage === 'wgsl' || o.stats))
    no('--kernel', 'applies only with --stage kernels, wat or wgsl, or --stats');
  if (o.kernel !== undefined && o.entry !== undefined)
    no('--entry', 'does not apply with --kernel (a kernel belongs to one entry)');
  if (o.entry !== undefined && (stage === 'kernels' || KERNEL_STAGES.includes(stage ?? '')))
    no('--entry', `does not apply to --stage ${stage} (one program holds every entry and the memory plan they share)`);
  if (o.html !== undefined && o.stage !== undefined && !['simplified', 'fused'].includes(o.stage))
    no(`--stage ${o.stage}`, 'with --html: the report draws the simplified or fused graph');
  if (o.locations === false && (o.stats || o.html !== undefined || stage === 'kernels' || stage === 'wat'))
    no('--no-locations', 'applies only to the graph stages (ir, train, simplified, fused) and --diff');
  if (artifact && (o.batch !== undefined || o.model !== undefined))
    no(
      o.batch !== undefined ? '--batch' : '--model',
      'does not apply to an artifact folder (it was compiled for one model and batch)',
    );
}

const isDirectory = (p: string): boolean => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

/** The text `kiln inspect` prints (with `html`, the report's path after writing it). */
export async function inspect(file: string, opts: InspectOptions = {}): Promise<string> {
  const artifact = isDirectory(file);
  checkFlags(opts, artifact);
  if (opts.html !== undefined) checkReportPath(opts.html);
  const stageName = opts.stage ?? 'ir';
  let data: InspectData;
  if (artifact) {
    data = readInspectSection(file);
    if (opts.train && !data.train)
      fail('K8001', `inspect: --train: the artifact in ${file} was compiled without its training step`);
  } else {
    checkModelPath('inspect', file);
    const model = await pickModel(file, opts.model, 'inspect');
    const direct = STAGES[stageName]!.direct;
    if (direct && !opts.diff && !opts.stats && opts.html === undefined) return direct(model, opts);
    const c = collect(model, { train: opts.train ?? false, batch: opts.batch });
    data = c.data;
    if (opts.profile) {
      const { profileWasm, profileWebGpu } = await import('../inspect/profile.ts');
      const target = opts.target ?? 'wasm';
      const profiles = [];
      if (target !== 'webgpu') profiles.push(await profileWasm(c));
      if (target !== 'wasm') profiles.push(await profileWebGpu(c));
      data = { ...data, profiles };
    }
  }
  if (opts.html !== undefined) {
    const { writeReport } = await import('../inspect/html.ts');
    await writeReport(opts.html, data, { stage: opts.stage ?? 'fused', entry: opts.entry });
    return `wrote ${opts.html}\n`;
  }
  if (opts.diff !== undefined) return diffText(data, pickEntries(data, opts.entry), opts.diff, opts.locations ?? true);
  if (opts.stats) return (opts.json ? costJson : costTable)(data, pickEntries(data, opts.entry), opts.kernel);
  return STAGES[stageName]!.render(data, opts);
}

export default defineCommand({
  name: 'inspect',
  summary:
    "print a model's graph at a stage of the pipeline, what a pass changed, its kernels' code and costs, or an HTML report",
  args: ['<model.ts | artifact-dir>'],
  options: {
    model: text('which exported model (default: the only one, or the default export)', { value: 'name' }),
    stage: choice('what to print (default ir)', Object.keys(STAGES)),
    batch: int("batch size (default: the model's)"),
    train: flag('compile the training step too (entry train_step beside infer)'),
    entry: text('show one entry point (infer or train_step)', { value: 'name' }),
    kernel: text('with --stage kernels|wat or --stats: one kernel (a name such as train_step_k3)', { value: 'name' }),
    diff: text(
      'what a pass changed, as a unified diff: simplified | simplify | cse | dce | train | specialize | transpose | kernels',
      { value: 'pass' },
    ),
    stats: flag('the cost of each kernel and in total: FLOPs, bytes moved, arithmetic intensity'),
    json: flag('with --stats: one JSON object'),
    profile: flag('with --stats or --html: run the compiled program and time each kernel'),
    target: choice(
      'with --profile: run the WebAssembly (default), the WGSL on WebGPU (GPU timestamps), or both',
      PROFILE_TARGETS,
    ),
    html: text('write a self-contained HTML report to this file', { value: 'file' }),
    noLocations: flag('leave out the loc(...) source locations'),
  },
  run: async ([file], { noLocations, ...opts }) => {
    process.stdout.write(await inspect(file!, { ...opts, ...(noLocations ? { locations: false } : {}) }));
    return 0;
  },
});
