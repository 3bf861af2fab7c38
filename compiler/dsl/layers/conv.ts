// Conv2D, Conv2DTranspose and pooling layers, NHWC with kernels [KH, KW, Cin, Cout] as Keras has them.
import type { InitializerLike } from '../initializers.ts';
import { k, pair } from '../ops.ts';
import type { Regularizer } from '../regularizers.ts';
import type { Tensor } from '../tensor.ts';
import { resolveActivation, type ActivationFn, type ActivationName } from './activations.ts';
import { makeLayer, type Layer, type LayerOptions, type LayerScope } from './layer.ts';

export interface ConvLayerOptions extends LayerOptions {
  readonly strides?: number | readonly [number, number];
  readonly padding?: 'same' | 'valid';
  readonly dilation?: number | readonly [number, number];
  readonly activation?: ActivationName | ActivationFn;
  readonly useBias?: boolean;
  readonly kernelInitializer?: InitializerLike;
  readonly biasInitializer?: InitializerLike;
  readonly kernelRegularizer?: Regularizer;
  readonly biasRegularizer?: Regularizer;
}

type Size = number | readonly [number, number];

const IMAGE = '[batch, height, width, channels]';
const IMAGE_HINT = 'reshape the input to NHWC (a grayscale image needs a trailing channel axis of 1)';

function epilogue(y: Tensor, filters: number, s: LayerScope, opts: ConvLayerOptions): Tensor {
  if (opts.useBias ?? true)
    y = y.add(s.weight('bias', [filters], opts.biasInitializer ?? 'zeros', opts.biasRegularizer));
  return resolveActivation(opts.activation, s.name)(y);
}

export function conv2d(filters: number, kernelSize: Size, opts: ConvLayerOptions = {}): Layer {
  const [kh, kw] = pair(kernelSize, 1);
  return makeLayer('conv2d', opts, (x, s) => {
    s.requireRank(x, 4, IMAGE, IMAGE_HINT);
    const w = s.weight(
      'kernel',
      [kh, kw, x.shape[3]!, filters],
      opts.kernelInitializer ?? 'glorotUniform',
      opts.kernelRegularizer,
    );
    const y = k.conv2d(x, w, {
      strides: opts.strides ?? 1,
      dilations: opts.dilation ?? 1,
      padding: opts.padding ?? 'valid',
    });
    return epilogue(y, filters, s, opts);
  });
}

/** Keras' deconv_output_length without output_padding. */
export function transposeOutputLength(
  input: number,
  kernel: number,
  padding: 'same' | 'valid',
  stride: number,
  dilation: number,
): number {
  const span = (kernel - 1) * dilation + 1;
  return padding === 'same' ? input * stride : input * stride + Math.max(span - stride, 0);
}

/** Conv2DTranspose (the gradient of conv2d with respect to its input); kernel [KH, KW, filters, Cin]. */
export function conv2dTranspose(filters: number, kernelSize: Size, opts: ConvLayerOptions = {}): Layer {
  const [kh, kw] = pair(kernelSize, 1);
  return makeLayer('conv2d_transpose', opts, (x, s) => {
    s.requireRank(x, 4, IMAGE, IMAGE_HINT);
    const [sh, sw] = pair(opts.strides, 1),
      [dh, dw] = pair(opts.dilation, 1);
    const padding = opts.padding ?? 'valid';
    const out: [number, number] = [
      transposeOutputLength(x.shape[1]!, kh, padding, sh, dh),
      transposeOutputLength(x.shape[2]!, kw, padding, sw, dw),
    ];
    const w = s.weight(
      'kernel',
      [kh, kw, filters, x.shape[3]!],
      opts.kernelInitializer ?? 'glorotUniform',
      opts.kernelRegularizer,
    );
    const y = k.conv2dTranspose(x, w, out, { strides: [sh, sw], dilations: [dh, dw], padding });
    return epilogue(y, filters, s, opts);
  });
}

export interface PoolLayerOptions extends LayerOptions {
  /** Defaults to the pool size. */
  readonly strides?: Size;
  readonly padding?: 'same' | 'valid';
}

function poolLayer(kind: 'max_pooling2d' | 'average_pooling2d', poolSize: Size, opts: PoolLayerOptions): Layer {
  const fn = kind === 'max_pooling2d' ? k.maxPool2d : k.avgPool2d;
  return makeLayer(kind, opts, (x, s) => {
    s.requireRank(x, 4, IMAGE, IMAGE_HINT);
    return fn(x, pair(poolSize, 2), { strides: opts.strides ?? poolSize, padding: opts.padding ?? 'valid' });
  });
}

export const maxPool2d = (poolSize: Size = 2, opts: PoolLayerOptions = {}): Layer =>
  poolLayer('max_pooling2d', poolSize, opts);
export const avgPool2d = (poolSize: Size = 2, opts: PoolLayerOptions = {}): Layer =>
  poolLayer('average_pooling2d', poolSize, opts);
