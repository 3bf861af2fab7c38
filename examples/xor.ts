// XOR: a 2-4-1 sigmoid MLP trained by plain gradient descent on the mean squared error.
import { defineModel, losses, nn, optimizers } from '../compiler/index.ts';

export default defineModel({
  name: 'xor',
  batch: 4,
  inputs: { x: { dtype: 'f32', shape: [2] } },
  targets: { y: { dtype: 'f32', shape: [1] } },
  forward: nn.sequential([
    nn.dense(4, { activation: 'sigmoid' }),
    nn.dense(1, { activation: 'sigmoid' }),
  ]),
  train: {
    loss: losses.meanSquaredError(),
    optimizer: optimizers.sgd({ learningRate: 0.5 }),
  },
});
