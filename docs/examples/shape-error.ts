// docs/cli.md: a shape mistake, reported at the line that applies the layer.
import { defineModel, nn } from 'kiln';

const hidden = nn.dense(8);

export default defineModel({
  name: 'shape_error',
  batch: 4,
  inputs: { image: { dtype: 'f32', shape: [28, 28] } },
  forward: ({ image }) => nn.conv2d(4, 3)(hidden(image)),
});
