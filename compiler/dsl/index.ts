// The DSL: tensors and `k`, layers (`nn`), initializers, regularizers, losses, metrics, models.
export { Tensor, type TensorLike } from './tensor.ts';
export { k, type ConvOptions, type PoolOptions, type Padding } from './ops.ts';
export * from './layers/index.ts';
export { initializers, seedOf, fans, type Initializer, type InitializerLike } from './initializers.ts';
export { regularizers, l1, l2, l1l2, type Regularizer } from './regularizers.ts';
export {
  losses,
  metrics,
  accuracy,
  mae,
  defaultMetrics,
  type LossFn,
  type LossOptions,
  type CrossentropyOptions,
  type MetricName,
  type Task,
} from './losses.ts';
export {
  defineModel,
  trace,
  inferGraph,
  finishTraced,
  loadModels,
  isModel,
  type Model,
  type ModelDef,
  type TrainDef,
  type Traced,
  type TraceOptions,
  type TensorSpec,
  type Forward,
  type TrainSchedule,
  type ScheduleStep,
} from './model.ts';
export * as optimizers from './optimizers.ts';
export { callerLoc } from './loc.ts';
