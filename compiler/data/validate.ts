// A dataset checked once, when it is loaded, against the model it feeds: both splits present with a
// size, a column for every input and target with the declared dtype's array and size * example
// values, finite floats, and integer ids inside the range the graph gives them (a class id read by
// one_hot or an index read by gather: [0, depth) or [0, rows)). Each failure is a K7010 that names
// the split, the column and the first bad example. Nothing here trusts the shape of `data`.
import { fail } from '../../ir/errors.ts';
import type { Graph, Value } from '../../ir/graph.ts';
import { sizeOf, type DType, type Shape } from '../../ir/types.ts';
import type { Column, Dataset, Split } from './dataset.ts';

export interface ColumnSpec {
  readonly dtype: DType;
  /** Per example. */
  readonly shape: Shape;
  /** Integer values must lie in [0, max), read by `use` ('one_hot depth 3'). */
  readonly range?: { readonly max: number; readonly use: string };
}

const ARRAY: Record<DType, string> = { f32: 'Float32Array', i32: 'Int32Array', bool: 'Uint8Array' };

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** i32 graph inputs read as indices: by one_hot (class ids) or as gather's indices (token ids, rows). */
export function indexRanges(g: Graph): Record<string, { max: number; use: string }> {
  const out: Record<string, { max: number; use: string }> = {};
  const tighten = (v: Value, max: number, use: string): void => {
    if (v.kind !== 'input') return;
    const cur = out[v.name];
    if (!cur || max < cur.max) out[v.name] = { max, use };
  };
  for (const n of g.nodes) {
    if (n.op === 'one_hot')
      tighten(
        n.inputs[0]!,
        Number(n.attrs.depth),
        `one_hot depth ${n.attrs.depth}${n.loc ? ` at ${n.loc.file}:${n.loc.line}` : ''}`,
      );
    if (n.op === 'gather') {
      const [table, idx] = n.inputs;
      const axis = Number(n.attrs.axis ?? 0);
      const rows = table!.type.shape[axis < 0 ? table!.type.shape.length + axis : axis]!;
      tighten(
        idx!,
        rows,
        `gather from ${table!.kind === 'node' ? 'a table' : `'${table!.name}'`} of ${rows} rows${n.loc ? ` at ${n.loc.file}:${n.loc.line}` : ''}`,
      );
    }
  }
  return out;
}

function checkSplit(where: string, split: unknown, columns: Readonly<Record<string, ColumnSpec>>): Split {
  if (!isObject(split))
    fail(
      'K7010',
      `dataset: ${where} is ${split === undefined ? 'missing' : 'not an object'}; return { train: { size, columns }, test: { size, columns } }`,
    );
  const size = split.size;
  if (size === undefined) fail('K7010', `dataset: ${where} has no 'size'; set it to the number of examples`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
    fail(
      'K7010',
      `dataset: ${where}.size is ${String(size)}; it must be a non-negative integer (the number of examples)`,
    );
  if (!isObject(split.columns))
    fail('K7010', `dataset: ${where} has no 'columns' object; give one typed array per input and target`);
  const cols = split.columns;
  for (const [name, spec] of Object.entries(columns)) {
    const col = cols[name];
    const at = `dataset: ${where} column '${name}'`;
    if (col === undefined)
      fail(
        'K7010',
        `${at} is missing (the model declares it; the split has ${Object.keys(cols).join(', ') || 'no columns'})`,
      );
    const kind = (col as object)?.constructor?.name;
    if (kind !== ARRAY[spec.dtype])
      fail(
        'K7010',
        `${at} is ${kind === 'Array' ? 'a plain Array' : `${/^[AEIOU]/.test(kind ?? typeof col) ? 'an' : 'a'} ${kind ?? typeof col}`}; the model declares ${spec.dtype}, so give a ${ARRAY[spec.dtype]}`,
      );
    const data = col as Column | Uint8Array;
    const per = sizeOf(spec.shape);
    if (data.length !== size * per) {
      fail(
        'K7010',
        `${at} has ${data.length} values; ${where}.size ${size} x ${per} per example (${spec.dtype}[${spec.shape.join(',')}]) needs ${size * per}`,
      );
    }
    const row = (i: number): string =>
      `example ${Math.floor(i / Math.max(1, per))}${per > 1 ? ` (value ${i % per})` : ''}`;
    if (spec.dtype === 'f32') {
      for (let i = 0; i < data.length; i++) {
        const v = data[i]!;
        if (!Number.isFinite(v))
          fail(
            'K7010',
            `${at}: ${row(i)} is ${v} (NaN or infinite values in the data); clean the data or mask it before training`,
          );
      }
    }
    if (spec.range) {
      const { max, use } = spec.range;
      for (let i = 0; i < data.length; i++) {
        const v = data[i]!;
        if (v < 0 || v >= max)
          fail(
            'K7010',
            `${at}: ${row(i)} is ${v}, outside [0, ${max}) (read by ${use}); fix the labels or the model's number of classes`,
          );
      }
    }
  }
  return split as unknown as Split;
}

/** The dataset, checked against the columns the model reads; throws K7010 on the first problem. */
export function validateDataset(data: unknown, columns: Readonly<Record<string, ColumnSpec>>): Dataset {
  if (!isObject(data))
    fail(
      'K7010',
      `dataset: the model's dataset() returned ${data === null ? 'null' : typeof data}; return { train, test } splits`,
    );
  const train = checkSplit('train', data.train, columns);
  const test = checkSplit('test', data.test, columns);
  if (train.size === 0) fail('K7010', 'dataset: the train split is empty');
  if (test.size === 0) fail('K7010', 'dataset: the test split is empty; evaluation needs at least one example');
  const validation = data.validation === undefined ? undefined : checkSplit('validation', data.validation, columns);
  if (validation?.size === 0) fail('K7010', 'dataset: the validation split is empty; leave it out or give it examples');
  return {
    name: typeof data.name === 'string' ? data.name : 'dataset',
    train,
    test,
    ...(validation ? { validation } : {}),
  };
}
