// The text classifier with LSTM layers.
import { nn } from '../compiler/index.ts';
import { textClassifier } from './text-classifier.ts';

export default textClassifier('text_lstm', nn.lstm);
