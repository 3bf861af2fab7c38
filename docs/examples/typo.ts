// docs/cli.md: a misspelled option, which kiln train's type-check reports at its line.
import { defineModel, nn } from 'kiln';

export default defineModel({
  name: 'typo',
  batch: 4,
  inputs: { x: { dtype: 'f32', shape: [2] } },
  forward: nn.dense(1, { activaton: 'sigmoid' }),
});
