// XOR: a 2-4-1 sigmoid MLP trained by plain gradient descent on the mean squared error.
import { defineModel, losses, nn, optimizers } from '../compiler/index.ts';

export default defineModel({
  name: 'xor',
  batch: 4,
  inputs: { x: { dtype: 'f32', shape: [2] } },
  targets: { y: { dtype: 'f32', shape: [1] } },
  forward: nn.sequential([
    nn.dense(4, { activation: 'sigmoid' }), // the hidden layer
    nn.dense(1, { activation: 'sigmoid' }), // the output
  ]),
  train: {
    loss: losses.meanSquaredError(),
    optimizer: optimizers.sgd({ learningRate: 0.5 }),
    // Two classes coded 0 and 1: the output read as a class (>= 0.5) rather than the regression's default, the mean absolute error.
    metrics: ['accuracy'],
  },
  // The four points are both the training and the test split.
  dataset: () => {
    const split = {
      size: 4,
      columns: { x: Float32Array.from([0, 0, 0, 1, 1, 0, 1, 1]), y: Float32Array.from([0, 1, 1, 0]) },
    };
    return { name: 'xor', train: split, test: split };
  },
});
