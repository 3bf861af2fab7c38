// `kiln`: the public entry point. Model files import the DSL from here; tools import the passes.
export * from './dsl/index.ts';
export { KilnError, type Loc } from '../ir/errors.ts';
export type { Graph, Value, Param, Input, Assign } from '../ir/graph.ts';

// Gradients and training steps (issue: autodiff).
export { grad, gradGraph } from './passes/autodiff.ts';
export { trainStep, lossGraph, gradientsGraph, traceTrain, type TrainStepOptions } from './passes/train-step.ts';
export type { Clipping, Regularization } from './dsl/regularizers-clip.ts';

// The pipeline.
export { optimize, compileProgram, compileModel, modelEntries, type CompileOptions } from './pipeline.ts';

// Datasets for models' `dataset`.
export {
  splitDataset,
  batches,
  gatherBatch,
  permutation,
  type Dataset,
  type Split,
  type Column,
} from './data/dataset.ts';
