// The text classifier with GRU layers (Keras' reset_after GRU, PyTorch's formula).
import { nn } from '../compiler/index.ts';
import { textClassifier } from './text-classifier.ts';

export default textClassifier('text_gru', nn.gru);
