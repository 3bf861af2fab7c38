// `nn`: the layers, each usable on a tensor (`nn.dense(64)(x)`) or inside `nn.sequential([...])`.
import { activation, leakyRelu } from './activations.ts';
import { batchNorm } from './batch-norm.ts';
import { avgPool2d, conv2d, conv2dTranspose, maxPool2d } from './conv.ts';
import { dense, embedding } from './dense.ts';
import { dropout } from './dropout.ts';
import { sequential } from './layer.ts';
import { gru, lstm, simpleRNN } from './recurrent.ts';
import { flatten, reshape } from './reshape.ts';

export const nn = {
  dense,
  embedding,
  conv2d,
  conv2dTranspose,
  maxPool2d,
  avgPool2d,
  flatten,
  reshape,
  simpleRNN,
  lstm,
  gru,
  batchNorm,
  dropout,
  leakyRelu,
  activation,
  sequential,
};

export {
  activation,
  leakyRelu,
  batchNorm,
  avgPool2d,
  conv2d,
  conv2dTranspose,
  maxPool2d,
  dense,
  embedding,
  dropout,
  sequential,
  gru,
  lstm,
  simpleRNN,
  flatten,
  reshape,
};
export { makeLayer, uniqueName, type Layer, type LayerOptions, type LayerScope, type LayerBody } from './layer.ts';
export { ACTIVATIONS, type ActivationName, type ActivationFn } from './activations.ts';
export type { DenseOptions, EmbeddingOptions } from './dense.ts';
export type { ConvLayerOptions, PoolLayerOptions } from './conv.ts';
export type { RecurrentOptions } from './recurrent.ts';
export type { BatchNormOptions } from './batch-norm.ts';
export type { DropoutOptions } from './dropout.ts';
