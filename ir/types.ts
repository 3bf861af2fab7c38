// Tensor types: dtype and static shape.
export type DType = 'f32' | 'i32' | 'bool';
export type Shape = readonly number[];

export interface TensorType {
  readonly dtype: DType;
  readonly shape: Shape;
}

export const DTYPES: readonly DType[] = ['f32', 'i32', 'bool'];

export function tensorType(dtype: DType, shape: Shape): TensorType {
  return { dtype, shape: [...shape] };
}

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides in elements. */
export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

export function formatType(t: TensorType): string {
  return `${t.dtype}[${t.shape.join(',')}]`;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function sameType(a: TensorType, b: TensorType): boolean {
  return a.dtype === b.dtype && sameShape(a.shape, b.shape);
}

/** Normalizes a possibly negative axis against a rank; returns -1 when out of range. */
export function normAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  return Number.isInteger(a) && a >= 0 && a < rank ? a : -1;
}

export type Data = Float32Array | Float64Array | Int32Array | Uint8Array;

/** A value at run time in the interpreter: its type and row-major data. */
export interface Tensor {
  readonly type: TensorType;
  readonly data: Data;
}

export function allocData(t: TensorType, float64 = false): Data {
  const n = sizeOf(t.shape);
  switch (t.dtype) {
    case 'f32':
      return float64 ? new Float64Array(n) : new Float32Array(n);
    case 'i32':
      return new Int32Array(n);
    case 'bool':
      return new Uint8Array(n);
  }
}

export function tensor(dtype: DType, shape: Shape, values?: ArrayLike<number>): Tensor {
  const type = tensorType(dtype, shape);
  const data = allocData(type);
  if (values) {
    if (values.length !== data.length) {
      throw new Error(`tensor: ${values.length} values given for ${formatType(type)} (needs ${data.length})`);
    }
    data.set(values as ArrayLike<number>);
  }
  return { type, data };
}
