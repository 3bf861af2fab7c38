import { describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors, WeightsError } from '../../runtime/safetensors.ts';

describe('safetensors', () => {
  const tensors = {
    'dense_1/kernel': { dtype: 'F32' as const, shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 0, 1e-7, -0]) },
    'optimizer/iterations': { dtype: 'I32' as const, shape: [], data: Int32Array.from([7]) },
  };

  it('round-trips names, shapes, dtypes, values and metadata', () => {
    const bytes = encodeSafetensors(tensors, { model: 'xor' });
    const back = decodeSafetensors(bytes);
    expect(back.metadata).toEqual({ model: 'xor' });
    expect(Object.keys(back.tensors).sort()).toEqual(['dense_1/kernel', 'optimizer/iterations']);
    expect(back.tensors['dense_1/kernel']!.shape).toEqual([2, 3]);
    expect(Array.from(back.tensors['dense_1/kernel']!.data)).toEqual(Array.from(tensors['dense_1/kernel'].data));
    expect(Array.from(back.tensors['optimizer/iterations']!.data)).toEqual([7]);
  });

  it('reads from a Node Buffer (a view into a shared pool) without picking up neighbouring bytes', () => {
    const back = decodeSafetensors(Buffer.from(encodeSafetensors(tensors)));
    expect(Array.from(back.tensors['optimizer/iterations']!.data)).toEqual([7]);
    expect(back.tensors['dense_1/kernel']!.data.length).toBe(6);
  });

  it('refuses truncated, oversized and inconsistent files with a typed error', () => {
    const bytes = encodeSafetensors(tensors);
    expect(() => decodeSafetensors(bytes.subarray(0, 5))).toThrow(WeightsError);
    expect(() => decodeSafetensors(bytes.subarray(0, bytes.length - 4))).toThrow(/do not fit/);
    const huge = bytes.slice();
    new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
    expect(() => decodeSafetensors(huge)).toThrow(/exceeds the file/);
    const garbled = bytes.slice();
    garbled[10] = 0xff;
    expect(() => decodeSafetensors(garbled)).toThrow(WeightsError);
  });
});
