// The IR text format: every op round-trips, the hand-written example is canonical and means what it
// says, numbers keep their exact value, and parse errors point at line:column.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../ir/builder.ts';
import { KilnError } from '../../ir/errors.ts';
import type { Attrs, Value } from '../../ir/graph.ts';
import { initParams } from '../../ir/init.ts';
import { interpret } from '../../ir/interpret.ts';
import { OP_NAMES } from '../../ir/ops/index.ts';
import { parse, parseGraph } from '../../ir/parse.ts';
import { formatAttrValue, formatNumber, print, printGraph } from '../../ir/print.ts';
import { tensor, type DType } from '../../ir/types.ts';
import { verify } from '../../ir/verify.ts';

const EXAMPLES_DIR = new URL('./examples/', import.meta.url);

/** One small well-typed use of each op: input types and attributes. An op without an entry fails the test. */
const EXAMPLES: Record<string, { ins: string[]; attrs?: Attrs }> = {
  ...Object.fromEntries(
    'neg exp log sqrt rsqrt reciprocal abs sign tanh sigmoid relu sin cos floor ceil stop_gradient'
      .split(' ')
      .map((op) => [op, { ins: ['f32[2,3]'] }]),
  ),
  ...Object.fromEntries(
    'add sub mul div pow maximum minimum less less_equal equal not_equal greater greater_equal'
      .split(' ')
      .map((op) => [op, { ins: ['f32[2,3]', 'f32[3]'] }]),
  ),
  cast: { ins: ['f32[2,3]'], attrs: { dtype: 'i32' } },
  where: { ins: ['bool[2,3]', 'f32[2,3]', 'f32[1,3]'] },
  ...Object.fromEntries(
    'sum mean max min'.split(' ').map((op) => [op, { ins: ['f32[2,3,4]'], attrs: { axes: [0, -1], keepdims: true } }]),
  ),
  argmax: { ins: ['f32[2,3]'], attrs: { axis: -1 } },
  reshape: { ins: ['f32[2,3]'], attrs: { shape: [3, 2] } },
  transpose: { ins: ['f32[2,3,4]'], attrs: { perm: [2, 0, 1] } },
  broadcast_to: { ins: ['f32[3]'], attrs: { shape: [2, 3] } },
  slice: { ins: ['f32[4,6]'], attrs: { start: [0, 1], end: [4, 5], step: [2, 2] } },
  pad: { ins: ['f32[2,3]'], attrs: { lo: [1, 0], hi: [0, 2], value: -1.5 } },
  concat: { ins: ['f32[2,3]', 'f32[2,1]', 'f32[2,2]'], attrs: { axis: 1 } },
  gather: { ins: ['f32[5,3]', 'i32[2,2]'], attrs: { axis: 0 } },
  scatter_add: { ins: ['i32[4]', 'f32[4,3]'], attrs: { size: 6 } },
  one_hot: { ins: ['i32[4]'], attrs: { depth: 5 } },
  constant: { ins: [], attrs: { value: [0.1, 1e-7, -0, Infinity, NaN, -Infinity], shape: [2, 3], dtype: 'f32' } },
  iota: { ins: [], attrs: { shape: [2, 3], axis: 1 } },
  random_uniform: { ins: ['i32[]'], attrs: { seed: 7, shape: [2, 2] } },
  random_normal: { ins: ['i32[]'], attrs: { seed: 8, shape: [3] } },
  matmul: { ins: ['f32[2,3,4]', 'f32[5,4]'], attrs: { transpose_b: true } },
  conv2d: { ins: ['f32[1,5,5,2]', 'f32[3,3,2,4]'], attrs: { strides: [2, 2], pads: [1, 1, 1, 1] } },
  conv2d_input_grad: {
    ins: ['f32[1,3,3,4]', 'f32[3,3,2,4]'],
    attrs: { input_shape: [1, 5, 5, 2], strides: [2, 2], pads: [1, 1, 1, 1] },
  },
  conv2d_filter_grad: {
    ins: ['f32[1,5,5,2]', 'f32[1,3,3,4]'],
    attrs: { filter_shape: [3, 3, 2, 4], strides: [2, 2], pads: [1, 1, 1, 1] },
  },
  max_pool2d: { ins: ['f32[1,4,4,2]'], attrs: { window: [2, 2], strides: [2, 2] } },
  avg_pool2d: { ins: ['f32[1,5,5,2]'], attrs: { window: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] } },
  max_pool2d_grad: { ins: ['f32[1,4,4,2]', 'f32[1,2,2,2]'], attrs: { window: [2, 2], strides: [2, 2] } },
  avg_pool2d_grad: { ins: ['f32[1,2,2,2]'], attrs: { window: [2, 2], strides: [2, 2], input_shape: [1, 4, 4, 2] } },
};

function typeOf(s: string): { dtype: DType; shape: number[] } {
  const m = /^(\w+)\[([\d,]*)\]$/.exec(s)!;
  return { dtype: m[1] as DType, shape: m[2] ? m[2].split(',').map(Number) : [] };
}

/** A graph holding one node of `op`, built in code (not through the parser). */
function exampleGraph(op: string) {
  const ex = EXAMPLES[op]!;
  const b = new GraphBuilder(`one_${op}`);
  const ins = ex.ins.map((s, i) => b.input(`x${i}`, typeOf(s).dtype, typeOf(s).shape));
  b.output('y', b.op(op, ins, ex.attrs ?? {}, { file: 'model.ts', line: 3, col: 7 }));
  return b.finish();
}

describe('text format round trip', () => {
  it.each(OP_NAMES)('%s round-trips through print and parse', (op) => {
    expect(EXAMPLES, `add an example for the new op '${op}' to EXAMPLES`).toHaveProperty(op);
    const g = exampleGraph(op);
    const text = printGraph(g);
    const back = parseGraph(text, 'rt.kir');
    expect(printGraph(back)).toBe(text);
    verify(back);
    const [n, m] = [g.nodes[0]!, back.nodes[0]!];
    expect(m.op).toBe(op);
    expect(m.type).toEqual(n.type);
    expect(m.attrs).toEqual(n.attrs);
    expect(m.loc).toEqual({ file: 'model.ts', line: 3, col: 7 });
  });

  it('prints the canonical form: sorted attributes, defaults filled, params, assigns, quoted names', () => {
    const b = new GraphBuilder('step');
    const x = b.input('x', 'f32', [2, 2]);
    const w = b.param('layer/w.0', 'f32', [2, 2], { name: 'random_uniform', attrs: { seed: 3, min: -0.5, max: 0.5 } });
    const c = b.param('count', 'i32', [], { name: 'zeros', attrs: {} });
    const y = b.op('matmul', [x, w], { transpose_b: true }, { file: 'a b.ts', line: 4, col: 2 });
    const one = b.op('constant', [], { value: [1], shape: [], dtype: 'i32' });
    b.assign(c, b.op('add', [c, one]));
    b.assign(w, y);
    b.output('my loss', y);
    const g = b.finish();
    expect(printGraph(g)).toBe(
      [
        'graph @step(%x: f32[2,2]) params(%layer/w.0: f32[2,2] = random_uniform{max=0.5, min=-0.5, seed=3}, %count: i32[] = zeros) {',
        '  %0 = matmul(%x, %layer/w.0) {transpose_a=false, transpose_b=true} : f32[2,2]  loc("a b.ts":4:2)',
        '  %1 = constant() {dtype=i32, shape=[], value=[1]} : i32[]',
        '  %2 = add(%count, %1) : i32[]',
        '  %count <- %2',
        '  %layer/w.0 <- %0',
        '  return %0 as "my loss"',
        '}',
        '',
      ].join('\n'),
    );
    expect(printGraph(g, { locations: false })).not.toContain('loc(');
    const back = parseGraph(printGraph(g));
    expect(back.assigns.map((a) => [a.param.name, back.nodes.indexOf(a.value as never)])).toEqual([
      ['count', 2],
      ['layer/w.0', 0],
    ]);
    expect(back.outputs[0]!.name).toBe('my loss');
    expect(back.params[0]!.init).toEqual({ name: 'random_uniform', attrs: { max: 0.5, min: -0.5, seed: 3 } });
  });

  it('round-trips random graphs of broadcasting elementwise ops and reductions', () => {
    const step = fc.record({
      op: fc.constantFrom('add', 'sub', 'mul', 'maximum', 'exp', 'tanh', 'neg', 'sum'),
      a: fc.nat(),
      b: fc.nat(),
      loc: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 12 }), (steps) => {
        const b = new GraphBuilder('random');
        const vals = [b.input('x', 'f32', [2, 3]), b.input('bias', 'f32', [3])] as Value[];
        steps.forEach((s, k) => {
          const [x, y] = [vals[s.a % vals.length]!, vals[s.b % vals.length]!];
          const loc = s.loc ? { file: 'r.ts', line: k + 1, col: 2 } : undefined;
          const args = ['add', 'sub', 'mul', 'maximum'].includes(s.op) ? [x, y] : [x];
          vals.push(b.op(s.op, args, s.op === 'sum' ? { axes: [0], keepdims: true } : {}, loc));
        });
        b.output('out', vals[vals.length - 1]!);
        b.output('first', vals[2]!);
        const g = b.finish();
        const text = printGraph(g);
        const back = parseGraph(text);
        verify(back);
        return printGraph(back) === text && back.nodes.length === g.nodes.length;
      }),
      { numRuns: 100 },
    );
  });

  it('formats attribute values canonically', () => {
    expect([0.1, 1e-7, 3, -0, 0, NaN, Infinity, -Infinity, 1e21, -2.5].map(formatNumber)).toEqual([
      '0.1',
      '1e-7',
      '3',
      '-0',
      '0',
      'nan',
      'inf',
      '-inf',
      '1e+21',
      '-2.5',
    ]);
    expect(
      [true, 'same', 'two words', 'true', 'nan', 'a"b', [1, -2], []].map((v) => formatAttrValue(v as never)),
    ).toEqual(['true', 'same', '"two words"', '"true"', '"nan"', '"a\\"b"', '[1,-2]', '[]']);
  });

  it('keeps every number exactly (shortest round-tripping spelling)', () => {
    fc.assert(
      fc.property(fc.double(), (x) => {
        const text = `graph @g() params(%p: f32[] = constant{value=${formatNumber(x)}}) {\n  return\n}\n`;
        const v = parseGraph(text).params[0]!.init.attrs.value;
        return Object.is(v, x);
      }),
      { numRuns: 300 },
    );
  });

  it('reads strings, words and lists in initializer attributes', () => {
    const text =
      'graph @g() params(%p: f32[2,2] = orthogonal{gain=1, mode=fan_in, note="a \\"b\\"\\n", shape=[2,-2]}) {\n  return\n}\n';
    const g = parseGraph(text);
    expect(g.params[0]!.init.attrs).toEqual({ gain: 1, mode: 'fan_in', note: 'a "b"\n', shape: [2, -2] });
    expect(printGraph(g)).toBe(text);
  });

  it('parses a program; identical param declarations are one shared param', () => {
    const text = [
      'graph @infer(%x: f32[2]) params(%w: f32[2] = ones) {',
      '  %0 = mul(%x, %w) : f32[2]',
      '  return %0 as y',
      '}',
      '',
      'graph @train(%g: f32[2]) params(%w: f32[2] = ones) {',
      '  %0 = sub(%w, %g) : f32[2]',
      '  %w <- %0',
      '  return',
      '}',
      '',
    ].join('\n');
    const gs = parse(text);
    expect(gs.map((g) => g.name)).toEqual(['infer', 'train']);
    expect(gs[0]!.params[0]).toBe(gs[1]!.params[0]);
    expect(print(gs)).toBe(text);
    expect(() => parseGraph(text, 'p.kir')).toThrow(/p.kir: expected one graph, found 2 \(@infer, @train\)/);
  });
});

describe('the hand-written MLP example', () => {
  const text = readFileSync(new URL('mlp.kir', EXAMPLES_DIR), 'utf8');
  const g = parseGraph(text, 'mlp.kir');

  it('is in canonical form (golden)', () => {
    expect(printGraph(g)).toBe(text);
    verify(g);
    expect(g.nodes.length).toBe(18);
    expect(g.nodes[0]!.loc).toEqual({ file: 'examples/mlp.ts', line: 9, col: 14 });
  });

  it('computes a 2-layer MLP with softmax cross-entropy (checked against plain JS)', () => {
    const json = JSON.parse(readFileSync(new URL('mlp.inputs.json', EXAMPLES_DIR), 'utf8')) as {
      x: number[][];
      y: { data: number[] };
    };
    const params = initParams(g);
    const res = interpret(g, { x: tensor('f32', [4, 3], json.x.flat()), y: tensor('i32', [4], json.y.data) }, params);
    const P = (k: string) => Array.from(params[k]!.data);
    const [w1, b1, w2, b2] = [P('w1'), P('b1'), P('w2'), P('b2')];
    expect(b1.every((v) => Math.abs(v - 0.1) < 1e-7)).toBe(true);
    let loss = 0;
    json.x.forEach((row, r) => {
      const h = b1.map((b, j) => Math.max(0, b + row.reduce((s, xi, i) => s + xi * w1[i * 5 + j]!, 0)));
      const logits = b2.map((b, k) => b + h.reduce((s, hj, j) => s + hj * w2[j * 3 + k]!, 0));
      logits.forEach((l, k) => expect(res.outputs.logits!.data[r * 3 + k]).toBeCloseTo(l, 5));
      const lse = Math.log(logits.reduce((s, l) => s + Math.exp(l), 0));
      loss += (lse - logits[json.y.data[r]!]!) / 4;
    });
    expect(res.outputs.loss!.data[0]).toBeCloseTo(loss, 5);
    expect(Array.from(res.assigns.step!.data)).toEqual([1]);
  });

  it('drops locations on request', () => {
    const plain = printGraph(g, { locations: false });
    expect(plain).toBe(text.replace(/ {2}loc\([^)]*\)/g, ''));
    expect(printGraph(parseGraph(plain))).toBe(plain);
  });
});

describe('parse errors point at file:line:col', () => {
  const good = readFileSync(new URL('mlp.kir', EXAMPLES_DIR), 'utf8');
  const err = (text: string): KilnError => {
    try {
      parse(text, 'bad.kir');
    } catch (e) {
      if (e instanceof KilnError) return e;
      throw e;
    }
    throw new Error('parse accepted bad text');
  };
  const cases: [string, string, string, RegExp][] = [
    ['a missing =', '%2 = relu', '%2 relu', /^bad\.kir:4:6: expected '=' or '<-', found 'relu'$/],
    ['an undefined value', 'relu(%1)', 'relu(%9)', /^bad\.kir:4:13: %9 is not defined above/],
    [
      'a wrong annotation',
      'relu(%1) : f32[4,5]',
      'relu(%1) : f32[5,4]',
      /^bad\.kir:4:19: relu: annotated type f32\[5,4\] differs from the inferred f32\[4,5\]/,
    ],
    [
      'an unknown dtype',
      'relu(%1) : f32[4,5]',
      'relu(%1) : f64[4,5]',
      /^bad\.kir:4:19: expected a dtype \(f32, i32, bool\), found 'f64'$/,
    ],
    ['an unknown op', '%2 = relu(', '%2 = relux(', /^bad\.kir:4:8: unknown op 'relux'/],
    ['a bad attribute', '{depth=3,', '{depth=3.5,', /^bad\.kir:13:9: one_hot: attribute 'depth' is 3.5, expected int/],
    [
      'an inference error',
      'add(%3, %b2)',
      'add(%3, %b1)',
      /^bad\.kir:6:8: add: shapes \[4,3\] and \[5\] cannot be broadcast/,
    ],
    ['a value defined twice', '%3 = matmul', '%2 = matmul', /^bad\.kir:5:3: %2 is defined twice in @mlp/],
    ['a stray character', '%5 = max', '%5 = max?', /^bad\.kir:7:11: expected a token, found "\?"$/],
    [
      'an unterminated string',
      '"examples/mlp.ts":10:10)',
      '"examples/mlp.ts:10:10)',
      /^bad\.kir:4:33: expected a closing '"'/,
    ],
    ['trailing text', 'as loss\n}\n', 'as loss\n}\n}\n', /^bad\.kir:23:1: expected 'graph', found '}'$/],
    ['a missing brace', 'as loss\n}\n', 'as loss\n', /^bad\.kir:22:1: expected ',' or '}', found end of file$/],
  ];
  it.each(cases)('reports %s', (_, from, to, re) => {
    expect(good).toContain(from);
    const e = err(good.replace(from, to));
    expect(e.detail).toMatch(re);
  });

  it('uses K3001 for syntax, K3002 for undefined values, K4002 for annotations, K1xxx from inference', () => {
    expect(err(good.replace('%2 = relu', '%2 relu')).code).toBe('K3001');
    expect(err(good.replace('relu(%1)', 'relu(%9)')).code).toBe('K3002');
    expect(err(good.replace('relu(%1) : f32[4,5]', 'relu(%1) : f32[5,4]')).code).toBe('K4002');
    expect(err(good.replace('%2 = relu(', '%2 = relux(')).code).toBe('K1005');
    expect(err(good.replace('%step <- %17', '%x <- %17')).code).toBe('K3002');
  });
});
