// Fusion and lowering cases the seed models hit: constants with one value per element (tables) are
// buffers written once at load (outputs, operands of elementwise ops, a param's new value, inside
// fused kernels); two contractions summed (an LSTM's gates) each get a kernel; an epilogue longer
// than the expression limit ends where the limit materializes a value.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../ir/builder.ts';
import { interpretProgram } from '../../ir/interpret-kernels.ts';
import { compileProgram } from '../../compiler/pipeline.ts';
import { checkLowering } from './helpers.ts';

const TABLE = [1, -2, 3.5, 0, 4, -6];
const table = (b: GraphBuilder) => b.op('constant', [], { value: TABLE, shape: [2, 3], dtype: 'f32' });

describe('multi-value constants', () => {
  it('as an output: the table itself', () => {
    const b = new GraphBuilder('c_out');
    b.output('y', table(b));
    const p = checkLowering(b.finish());
    const got = interpretProgram(p, 'main', {}, {});
    expect(Array.from(got.outputs.y!.data)).toEqual(TABLE);
  });

  it('fed into add with an input', () => {
    const b = new GraphBuilder('c_add');
    const x = b.input('x', 'f32', [2, 3]);
    b.output('y', b.op('add', [table(b), x]));
    const g = b.finish();
    checkLowering(g);
    const x0 = { type: x.type, data: Float32Array.from([10, 20, 30, 40, 50, 60]) };
    const got = interpretProgram(compileProgram([{ name: 'main', graph: g }]), 'main', { x: x0 }, {});
    expect(Array.from(got.outputs.y!.data)).toEqual([11, 18, 33.5, 40, 54, 54]);
  });

  it("as a param's new value and as an output at once", () => {
    const b = new GraphBuilder('c_assign');
    const w = b.param('w', 'f32', [2, 3], { name: 'zeros', attrs: {} });
    const c = table(b);
    b.output('old', b.op('mul', [w, b.op('constant', [], { value: [2], shape: [], dtype: 'f32' })]));
    b.output('c', c);
    b.assign(w, c);
    const g = b.finish();
    checkLowering(g);
    const w0 = { type: w.type, data: Float32Array.from([1, 1, 1, 2, 2, 2]) };
    const got = interpretProgram(compileProgram([{ name: 'main', graph: g }]), 'main', {}, { w: w0 });
    expect(Array.from(got.outputs.old!.data)).toEqual([2, 2, 2, 4, 4, 4]);
    expect(Array.from(got.params.w!.data)).toEqual(TABLE);
  });

  it('broadcast inside a reduction and a matmul operand', () => {
    const b = new GraphBuilder('c_fused');
    const x = b.input('x', 'f32', [4, 2]);
    const s = b.op(
      'sum',
      [
        b.op('mul', [
          b.op('reshape', [table(b)], { shape: [3, 2] }),
          b.op('constant', [], { value: [1, 2], shape: [2], dtype: 'f32' }),
        ]),
      ],
      { axes: [1] },
    );
    b.output('s', s);
    b.output('m', b.op('matmul', [x, table(b)]));
    checkLowering(b.finish());
  });
});

describe('two contractions feeding one elementwise chain', () => {
  it("matmul(x, W) + matmul(h, U) + b -> sigmoid: one matmul is stored, the other's epilogue reads it", () => {
    const b = new GraphBuilder('gates');
    const zeros = { name: 'zeros', attrs: {} };
    const x = b.input('x', 'f32', [2, 3]);
    const h = b.input('h', 'f32', [2, 4]);
    const w = b.param('w', 'f32', [3, 5], zeros);
    const u = b.param('u', 'f32', [4, 5], zeros);
    const bias = b.param('b', 'f32', [5], zeros);
    const sum = b.op('add', [b.op('add', [b.op('matmul', [x, w]), b.op('matmul', [h, u])]), bias]);
    b.output('y', b.op('sigmoid', [sum]));
    const p = checkLowering(b.finish());
    expect(p.entries[0]!.kernels.map((k) => k.kind)).toEqual(['contraction', 'contraction']);
  });

  it('a convolution and a matmul summed, with an activation after the sum', () => {
    const b = new GraphBuilder('conv_plus_matmul');
    const zeros = { name: 'zeros', attrs: {} };
    const img = b.input('img', 'f32', [1, 3, 3, 2]);
    const k = b.param('k', 'f32', [3, 3, 2, 4], zeros);
    const x = b.input('x', 'f32', [9, 2]);
    const w = b.param('w', 'f32', [2, 4], zeros);
    const conv = b.op('reshape', [b.op('conv2d', [img, k], { pads: [1, 1, 1, 1] })], { shape: [9, 4] });
    b.output('y', b.op('tanh', [b.op('add', [b.op('relu', [b.op('matmul', [x, w])]), conv])]));
    checkLowering(b.finish());
  });
});

describe('an epilogue longer than the expression limit', () => {
  it('matmul then 60 alternating sin/tanh: the matmul epilogue ends at the materialized value, a loop kernel does the rest', () => {
    const b = new GraphBuilder('long_epilogue');
    let h = b.op('matmul', [b.input('x', 'f32', [2, 3]), b.input('w', 'f32', [3, 4])]);
    for (let i = 0; i < 60; i++) h = b.op(i % 2 ? 'tanh' : 'sin', [h]);
    b.output('y', h);
    const p = checkLowering(b.finish());
    expect(p.entries[0]!.kernels.map((k) => k.kind)).toEqual(['contraction', 'loop']);
  });

  it('conv2d then 60 alternating sin/tanh', () => {
    const b = new GraphBuilder('long_conv_epilogue');
    let h = b.op('conv2d', [b.input('x', 'f32', [1, 4, 4, 2]), b.input('k', 'f32', [3, 3, 2, 3])]);
    for (let i = 0; i < 60; i++) h = b.op(i % 2 ? 'tanh' : 'sin', [h]);
    b.output('y', h);
    const p = checkLowering(b.finish());
    expect(p.entries[0]!.kernels.map((k) => k.kind)).toEqual(['contraction', 'loop']);
  });
});
