// An MNIST MLP with BatchNorm, Dropout and L2 weight decay, exported once per optimizer so each can
// be trained and compared (`--model mnist_mlp_<optimizer>`; the default export uses Adam):
//   npx kiln train examples/mnist-mlp.ts --model mnist_mlp_nesterov --epochs 5
// Learning rates: the usual ones for each rule (AdaDelta at 1.0, as in its paper; Adagrad at 0.05).
import { defineModel, losses, nn, optimizers, type Model } from '../compiler/index.ts';
import { loadMnist } from './data/mnist.ts';

type OptimizerSpec = optimizers.OptimizerSpec;

const MEAN = 0.1307;
const STD = 0.3081;

const net = nn.sequential([
  nn.flatten(),
  nn.dense(256, { useBias: false }),
  nn.batchNorm(),
  nn.activation('relu'),
  nn.dropout(0.3),
  nn.dense(128, { useBias: false }),
  nn.batchNorm(),
  nn.activation('relu'),
  nn.dropout(0.3),
  nn.dense(10, { activation: 'softmax' }),
]);

export const OPTIMIZERS: Readonly<Record<string, OptimizerSpec>> = {
  sgd: optimizers.sgd({ learningRate: 0.1 }),
  momentum: optimizers.momentum({ learningRate: 0.01 }),
  nesterov: optimizers.nesterov({ learningRate: 0.01 }),
  rmsprop: optimizers.rmsprop({ learningRate: 0.001 }),
  adam: optimizers.adam({ learningRate: 0.001 }),
  adagrad: optimizers.adagrad({ learningRate: 0.05 }),
  adadelta: optimizers.adadelta({ learningRate: 1.0 }),
};

const mlp = (name: string, optimizer: OptimizerSpec): Model =>
  defineModel({
    name: `mnist_mlp_${name}`,
    batch: 64,
    inputs: { x: { dtype: 'f32', shape: [28, 28, 1] } },
    targets: { y: { dtype: 'i32', shape: [] } },
    forward: ({ x }) => net(x!.sub(MEAN).div(STD)),
    train: {
      loss: losses.sparseCategoricalCrossentropy(),
      optimizer,
      regularization: { l2: 1e-5 },
      metrics: ['accuracy'],
    },
    dataset: () => loadMnist(),
  });

export const mnist_mlp_sgd = mlp('sgd', OPTIMIZERS.sgd!);
export const mnist_mlp_momentum = mlp('momentum', OPTIMIZERS.momentum!);
export const mnist_mlp_nesterov = mlp('nesterov', OPTIMIZERS.nesterov!);
export const mnist_mlp_rmsprop = mlp('rmsprop', OPTIMIZERS.rmsprop!);
export const mnist_mlp_adam = mlp('adam', OPTIMIZERS.adam!);
export const mnist_mlp_adagrad = mlp('adagrad', OPTIMIZERS.adagrad!);
export const mnist_mlp_adadelta = mlp('adadelta', OPTIMIZERS.adadelta!);

export default mnist_mlp_adam;
