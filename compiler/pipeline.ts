// The compiler pipeline, top to bottom, each stage a pure function of the previous one:
//   model (DSL) -> graph (inferGraph) -> training step (trainStep: autodiff, loss, optimizer)
//   -> GRAPH_PASSES (simplify, CSE, DCE) -> fuse -> lower (once) -> KERNEL_PASSES -> memory plan
//   -> a target's render (targets/). `compileProgram` runs the compiler's part; with `verifyEach` the
//   graph verifier runs after every graph pass and the Kernel IR verifier after lowering and every
//   kernel pass; `dump` receives each stage's text under the names in STAGE_NAMES.
import type { Graph } from '../ir/graph.ts';
import type { Program, UnplannedProgram } from '../ir/kernel.ts';
import { printGraph } from '../ir/print.ts';
import { verify } from '../ir/verify.ts';
import { verifyProgram } from '../ir/verify-kernels.ts';
import { cse } from './passes/cse.ts';
import { dce } from './passes/dce.ts';
import { DEFAULT_LIMITS, fuse, printFusion, type Fusion, type Limits } from './passes/fuse.ts';
import { simplify } from './passes/simplify.ts';
import { lowerProgram } from './lower/program.ts';
import { specializeLoops } from './lower/specialize.ts';
import { winograd, type WinogradOptions } from './lower/winograd.ts';
import { hoistTransposes } from './lower/transpose.ts';
import { splitReductions } from './lower/split-reduce.ts';
import { planMemory } from './passes/memory.ts';
import { printProgram } from '../ir/print-kernels.ts';
import type { KernelOrigin } from './lower/program.ts';
import { inferGraph, type Model } from './dsl/model.ts';
import { trainStep } from './passes/train-step.ts';
import { programStats, type ProgramStats } from './passes/cost.ts';

/** The graph passes, in order. */
export const GRAPH_PASSES: readonly { readonly name: string; readonly run: (g: Graph) => Graph }[] = [
  { name: 'simplify', run: simplify },
  { name: 'cse', run: cse },
  { name: 'dce', run: dce },
];

export interface CompileOptions {
  /** Run the verifier after every graph pass and the Kernel IR verifier after every kernel pass. */
  readonly verifyEach?: boolean;
  readonly limits?: Limits;
  /** Receives the text of every stage, named as in STAGE_NAMES. */
  readonly dump?: (stage: string, text: string) => void;
  /** Receives each kernel's fusion group and buffers, by kernel name (`kiln inspect`'s source maps). */
  readonly origins?: Map<string, KernelOrigin>;
  /** Winograd F(m x m, 3 x 3) for the stride-1 3x3 convolutions that profit (compiler/lower/winograd.ts;
   *  F(2x2, 3x3) by default); false keeps every convolution direct. */
  readonly winograd?: WinogradOptions | false;
}

/** simplify -> cse -> dce. */
export function optimize(g: Graph, opts: CompileOptions = {}): Graph {
  opts.dump?.('input', printGraph(g));
  let cur = g;
  for (const p of GRAPH_PASSES) {
    cur = p.run(cur);
    if (opts.verifyEach) verify(cur);
    opts.dump?.(p.name, printGraph(cur));
  }
  return cur;
}

/** The Kernel IR passes, in order, between lowering and the memory plan. */
export const KERNEL_PASSES: readonly {
  readonly name: string;
  readonly run: (p: UnplannedProgram, opts: CompileOptions) => UnplannedProgram;
}[] = [
  {
    name: 'winograd',
    run: (p, opts) =>
      opts.winograd === false
        ? p
        : winograd(p, opts.winograd, (from, to) => {
            const o = opts.origins?.get(from);
            if (o) for (const name of to) opts.origins!.set(name, o);
          }),
  },
  { name: 'specialize', run: specializeLoops },
  { name: 'transpose', run: hoistTransposes },
  { name: 'split-reduce', run: splitReductions },
];

/** Every stage's name as `dump` receives it, in pipeline order ('simplified' is the graph after DCE). */
export const STAGE_NAMES = [
  'input',
  ...GRAPH_PASSES.map((p) => p.name),
  'fused',
  'lowered',
  ...KERNEL_PASSES.map((p) => p.name),
  'kernels',
] as const;

/** Entry graphs -> one Program; params with the same name are shared by the entries. */
export function compileProgram(entries: readonly { name: string; graph: Graph }[], opts: CompileOptions = {}): Program {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const fused: { name: string; fusion: Fusion }[] = entries.map((e) => {
    const fusion = fuse(optimize(e.graph, opts), limits);
    opts.dump?.('fused', printFusion(fusion));
    return { name: e.name, fusion };
  });
  const kernelStage = (name: string, p: UnplannedProgram): UnplannedProgram => {
    if (opts.verifyEach) verifyProgram(p);
    opts.dump?.(name, printProgram(p));
    return p;
  };
  let lowered = kernelStage('lowered', lowerProgram(entries[0]?.graph.name ?? 'program', fused, limits, opts.origins));
  for (const pass of KERNEL_PASSES) lowered = kernelStage(pass.name, pass.run(lowered, opts));
  const program: Program = { ...lowered, memory: planMemory(lowered) };
  opts.dump?.('kernels', printProgram(program));
  return program;
}

/** A model's entry points: `infer`, and with `train` also `train_step`, or one entry per step of its
 *  schedule (each with its own step counter `<entry>/iterations`); all share the params by name. */
export function modelEntries(
  model: Model,
  opts: { train?: boolean; batch?: number } = {},
): { name: string; graph: Graph }[] {
  const entries = [{ name: 'infer', graph: inferGraph(model, opts.batch) }];
  const batch = opts.batch ? { batch: opts.batch } : {};
  const schedule = model.def.schedule;
  if (opts.train && schedule)
    for (const s of schedule.steps)
      entries.push({ name: s.name, graph: trainStep(s.model, { ...batch, iterations: `${s.name}/iterations` }) });
  else if (opts.train) entries.push({ name: 'train_step', graph: trainStep(model, batch) });
  return entries;
}

export function compileModel(model: Model, opts: CompileOptions & { train?: boolean; batch?: number } = {}): Program {
  return compileProgram(modelEntries(model, opts), opts);
}

/** The stages `kiln inspect --stage` shows from this pipeline (compiler/cli/inspect.ts lists them in
 *  its STAGES table), each a function of a model's entry graphs to text; `--stats --json` uses
 *  `inspectStats`. */
export const PIPELINE_STAGES: Readonly<
  Record<string, (entries: readonly { name: string; graph: Graph }[], opts?: CompileOptions) => string>
> = {
  ...Object.fromEntries(
    STAGE_NAMES.map((stage) => [
      stage,
      (entries: readonly { name: string; graph: Graph }[], opts?: CompileOptions) => stageText(stage, entries, opts),
    ]),
  ),
  simplified: (entries, opts) => stageText('dce', entries, opts),
};

/** The text of one stage (each entry's, for the graph stages), from a compile that dumps it. */
function stageText(
  stage: string,
  entries: readonly { name: string; graph: Graph }[],
  opts: CompileOptions = {},
): string {
  const texts: string[] = [];
  compileProgram(entries, {
    ...opts,
    dump: (s, text) => {
      if (s === stage) texts.push(text);
    },
  });
  return texts.join('\n');
}

/** `{ ops, kernels, arenaBytes, bytesMoved, bytesMovedUnfused }` of the compiled entries. */
export function inspectStats(
  entries: readonly { name: string; graph: Graph }[],
  opts: CompileOptions = {},
): ProgramStats {
  return programStats(
    compileProgram(entries, opts),
    entries.map((e) => optimize(e.graph)),
  );
}
