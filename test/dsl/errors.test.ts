// Shape mistakes throw while the model is built, naming the layer (or op), the shapes, and the
// user's line: file(line,col) of the call in this file.
import { describe, expect, test } from 'vitest';
import { callerLoc, inferGraph, KilnError, nn, type Loc } from '../../compiler/index.ts';
import { kilnErrorOf } from '../ir/run-op.ts';
import { model1 } from './helpers.ts';

/** Builds the model and returns the KilnError it throws. */

const FILE = 'test/dsl/errors.test.ts';
/** The line after the one `callerLoc()` ran on. */
const nextLine = (l: Loc | undefined): string => `${FILE}(${l!.line + 1},`;

describe('errors name the layer and the user line', () => {
  test('a Dense layer fed the wrong number of features', () => {
    let here: Loc | undefined;
    const e = kilnErrorOf(() =>
      inferGraph(
        model1([2, 3], ({ x }) => {
          here = callerLoc();
          return nn.dense(4, { inputDim: 5 })(x!);
        }),
      ),
    );
    expect(e.code).toBe('K2001');
    expect(e.detail).toMatch(/^dense_\d+: input f32\[2,3\] has 3 features, kernel expects 5/);
    expect(e.message.startsWith(nextLine(here))).toBe(true);
  });

  test('a shared Dense layer called on a different input size', () => {
    const shared = nn.dense(2);
    let here: Loc | undefined;
    const e = kilnErrorOf(() =>
      inferGraph(
        model1([2, 3], ({ x }) => {
          const h = shared(x!.slice([0, 0], [2, 2]));
          here = callerLoc();
          return shared(x!).add(h);
        }),
      ),
    );
    expect(e.detail).toMatch(
      new RegExp(
        `^${shared.name}: param %${shared.name}/kernel was built as f32\\[2,2\\] but this call needs f32\\[3,2\\]`,
      ),
    );
    expect(e.message.startsWith(nextLine(here))).toBe(true);
  });

  test('a conv2d on a rank-2 tensor', () => {
    let here: Loc | undefined;
    const e = kilnErrorOf(() =>
      inferGraph(
        model1([2, 4], ({ x }) => {
          here = callerLoc();
          return nn.conv2d(8, 3)(x!);
        }),
      ),
    );
    expect(e.code).toBe('K2001');
    expect(e.detail).toMatch(
      /^conv2d_\d+: input f32\[2,4\] has rank 2, expected rank 4 \[batch, height, width, channels\]/,
    );
    expect(e.message.startsWith(nextLine(here))).toBe(true);
  });

  test('an LSTM fed a rank-2 tensor', () => {
    let here: Loc | undefined;
    const e = kilnErrorOf(() =>
      inferGraph(
        model1([2, 4], ({ x }) => {
          here = callerLoc();
          return nn.lstm(8)(x!);
        }),
      ),
    );
    expect(e.detail).toMatch(/^lstm_\d+: input f32\[2,4\] has rank 2, expected rank 3 \[batch, time, features\]/);
    expect(e.message.startsWith(nextLine(here))).toBe(true);
  });

  test('inside a sequential, the line where the bad layer was made', () => {
    const here = callerLoc();
    const bad = nn.lstm(8);
    const e = kilnErrorOf(() => inferGraph(model1([2, 3, 3], nn.sequential([nn.flatten(), bad]))));
    expect(e.detail).toMatch(/^lstm_\d+: input f32\[2,9\] has rank 2/);
    expect(e.message.startsWith(nextLine(here))).toBe(true);
  });

  test('a tensor op: matmul of mismatched shapes at the line of the call', () => {
    let here: Loc | undefined;
    const e = kilnErrorOf(() =>
      inferGraph(
        model1([2, 3], ({ x }) => {
          here = callerLoc();
          return x!.matmul(x!);
        }),
      ),
    );
    expect(e.detail).toMatch(/^matmul: .*\[2,3\].*\[2,3\]/);
    expect(e.message.startsWith(nextLine(here))).toBe(true);
  });

  test('layers called outside a trace say how to use them', () => {
    const e = kilnErrorOf(() => nn.dense(3)({} as never));
    expect(e.detail).toMatch(/^dense_\d+: layers create params, so they run only while a model is traced/);
  });
});
