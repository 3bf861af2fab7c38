// The text classifier with SimpleRNN layers (tanh).
import { nn } from '../compiler/index.ts';
import { textClassifier } from './text-classifier.ts';

export default textClassifier('text_rnn', nn.simpleRNN);
