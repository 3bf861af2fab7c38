// ONNX models of the bench's cases, written directly as protobuf bytes (a few message types of
// onnx.proto), so the onnxruntime peers get exactly the seeded weights of the run, as initializers
// (which ORT may pre-pack, as it would for any deployed model). NCHW layouts, opset 17.
import type { Case, ModelCase } from './cases.ts';
import { flattenedFrom, hwioToOihw, nchwFlattenKernel, type Weight } from './models.ts';

// --- protobuf wire format -------------------------------------------------------------------

class Writer {
  private readonly parts: Uint8Array[] = [];
  /** Base-128 varint; negative int64 values as their 64-bit two's complement (ten bytes). */
  private varint(v: number): void {
    let x = BigInt.asUintN(64, BigInt(v));
    const b: number[] = [];
    while (x > 127n) {
      b.push(Number(x & 127n) | 128);
      x >>= 7n;
    }
    b.push(Number(x));
    this.parts.push(Uint8Array.from(b));
  }
  int(field: number, v: number): this {
    this.varint(field * 8);
    this.varint(v);
    return this;
  }
  bytes(field: number, data: Uint8Array): this {
    this.varint(field * 8 + 2);
    this.varint(data.length);
    this.parts.push(data);
    return this;
  }
  str(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }
  msg(field: number, w: Writer): this {
    return this.bytes(field, w.finish());
  }
  finish(): Uint8Array {
    const out = new Uint8Array(this.parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

// --- onnx.proto messages --------------------------------------------------------------------

const FLOAT = 1;
const ATTR_INT = 2;
const ATTR_INTS = 7;

type Attr = number | readonly number[];

function node(op: string, inputs: readonly string[], output: string, attrs: Record<string, Attr> = {}): Writer {
  const w = new Writer();
  inputs.forEach((i) => w.str(1, i));
  w.str(2, output).str(3, output).str(4, op);
  for (const [name, v] of Object.entries(attrs)) {
    const a = new Writer().str(1, name);
    if (typeof v === 'number') a.int(3, v).int(20, ATTR_INT);
    else {
      v.forEach((x) => a.int(8, x));
      a.int(20, ATTR_INTS);
    }
    w.msg(5, a);
  }
  return w;
}

function initializer(w: Weight): Writer {
  const t = new Writer();
  w.shape.forEach((d) => t.int(1, d));
  return t
    .int(2, FLOAT)
    .str(8, w.name)
    .bytes(9, new Uint8Array(w.data.buffer, w.data.byteOffset, w.data.byteLength));
}

function valueInfo(name: string, elem: number, shape: readonly number[]): Writer {
  const dims = new Writer();
  shape.forEach((d) => dims.msg(1, new Writer().int(1, d)));
  const tensor = new Writer().int(1, elem).msg(2, dims);
  return new Writer().str(1, name).msg(2, new Writer().msg(1, tensor));
}

interface GraphParts {
  readonly nodes: Writer[];
  readonly inits: Weight[];
  readonly inputs: { name: string; shape: readonly number[] }[];
  readonly output: { name: string; shape: readonly number[] };
}

function model(name: string, g: GraphParts): Uint8Array {
  const graph = new Writer();
  g.nodes.forEach((n) => graph.msg(1, n));
  graph.str(2, name);
  g.inits.forEach((w) => graph.msg(5, initializer(w)));
  g.inputs.forEach((i) => graph.msg(11, valueInfo(i.name, FLOAT, i.shape)));
  graph.msg(12, valueInfo(g.output.name, FLOAT, g.output.shape));
  return new Writer().int(1, 8).str(2, 'kiln-bench').msg(7, graph).msg(8, new Writer().str(1, '').int(2, 17)).finish();
}

// --- the bench's graphs ---------------------------------------------------------------------

/** The ONNX model of an inference or matmul case (inputs 'a', 'b' or 'x'; output 'y'). Training
 *  and recurrent models are not expressed: the onnxruntime peers run inference sessions only. */
export function onnxModel(c: Case): Uint8Array {
  if (c.kind === 'matmul') {
    return model('matmul', {
      nodes: [node('MatMul', ['a', 'b'], 'y')],
      inits: [],
      inputs: [
        { name: 'a', shape: c.a.shape },
        { name: 'b', shape: c.b.shape },
      ],
      output: { name: 'y', shape: [c.n, c.n] },
    });
  }
  return model(c.spec.name, inferGraph(c));
}

/** The case's input as the ONNX model takes it: NCHW images (the data are NHWC). */
export function nchwInput(c: ModelCase): { data: Float32Array; shape: number[] } {
  const s = c.x.shape;
  if (s.length !== 4) return { data: c.x.data as Float32Array, shape: [...s] };
  if (s[3] !== 1) throw new Error(`onnx: NHWC -> NCHW of ${JSON.stringify(s)} is not implemented (one channel only)`);
  return { data: c.x.data as Float32Array, shape: [s[0]!, 1, s[1]!, s[2]!] };
}

function inferGraph(c: ModelCase): GraphParts {
  if (c.kind !== 'infer') throw new Error('onnxruntime: no training API in onnxruntime-web/-node inference builds');
  const nodes: Writer[] = [];
  const inits: Weight[] = [];
  const afterFlatten = flattenedFrom(c.spec);
  let h = 'x';
  const emit = (op: string, inputs: string[], attrs: Record<string, Attr> = {}): void => {
    const out = `t${nodes.length}`;
    nodes.push(node(op, inputs, out, attrs));
    h = out;
  };
  c.spec.layers.forEach((l, i) => {
    const w = c.weights[i]!;
    switch (l.kind) {
      case 'dense': {
        const hwc = afterFlatten.get(i);
        const kernel = hwc && hwc.length === 3 ? nchwFlattenKernel(w[0]!, hwc) : w[0]!;
        inits.push(kernel, w[1]!);
        emit('Gemm', [h, kernel.name, w[1]!.name]);
        if (l.act === 'relu') emit('Relu', [h]);
        if (l.act === 'softmax') emit('Softmax', [h], { axis: -1 });
        break;
      }
      case 'conv': {
        const k = hwioToOihw(w[0]!);
        inits.push(k, w[1]!);
        emit('Conv', [h, k.name, w[1]!.name], { kernel_shape: [l.size, l.size] });
        emit('Relu', [h]);
        break;
      }
      case 'maxpool':
        emit('MaxPool', [h], { kernel_shape: [l.size, l.size], strides: [l.size, l.size] });
        break;
      case 'flatten':
        emit('Flatten', [h], { axis: 1 });
        break;
      default:
        throw new Error(`onnx: layer '${l.kind}' is not expressed by the bench's ONNX writer`);
    }
  });
  nodes.push(node('Identity', [h], 'y'));
  return {
    nodes,
    inits,
    inputs: [{ name: 'x', shape: nchwInput(c).shape }],
    output: { name: 'y', shape: [c.batch, c.spec.classes] },
  };
}
