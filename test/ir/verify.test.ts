// The verifier: accepts well-formed graphs, and names the node, the rule and the line of each broken one.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { makeNode } from '../../ir/builder.ts';
import { KilnError } from '../../ir/errors.ts';
import type { Graph, Input, Node, Param } from '../../ir/graph.ts';
import { parseGraph } from '../../ir/parse.ts';
import { excerpt, verify } from '../../ir/verify.ts';

const mlp = parseGraph(readFileSync(new URL('./examples/mlp.kir', import.meta.url), 'utf8'), 'mlp.kir');

function broken(g: Graph): KilnError {
  try {
    verify(g);
  } catch (e) {
    if (e instanceof KilnError) return e;
    throw e;
  }
  throw new Error('verify accepted a broken graph');
}

const small = parseGraph(
  [
    'graph @f(%x: f32[2,3]) params(%w: f32[3] = ones) {',
    '  %0 = add(%x, %w) : f32[2,3]  loc("m.ts":5:3)',
    '  %1 = exp(%0) : f32[2,3]',
    '  %2 = sum(%1) {axes=[0], keepdims=false} : f32[3]',
    '  %w <- %2',
    '  return %1 as y',
    '}',
    '',
  ].join('\n'),
);
const [add, exp, sum] = small.nodes as [Node, Node, Node];
const w = small.params[0]!;

describe('verify', () => {
  it('accepts well-formed graphs', () => {
    expect(() => verify(mlp)).not.toThrow();
    expect(() => verify(small)).not.toThrow();
  });

  it('prints the offending line with its neighbours', () => {
    expect(excerpt(['a', 'b', 'c', 'd', 'e', 'f'], 3)).toBe('  b\n  c\n> d\n  e\n  f');
    expect(excerpt(['a', 'b', 'c'], 0)).toBe('> a\n  b\n  c');
  });

  it('rejects a use before the definition (K4001)', () => {
    const e = broken({ ...small, nodes: [exp, add, sum] });
    expect(e.code).toBe('K4001');
    expect(e.detail).toBe(
      [
        'verify @f: exp: input 0 is used before it is defined (nodes must be in topological order)',
        '  graph @f(%x: f32[2,3]) params(%w: f32[3] = ones) {',
        '>   %0 = exp(%1) : f32[2,3]',
        '    %1 = add(%x, %w) : f32[2,3]  loc("m.ts":5:3)',
        '    %2 = sum(%0) {axes=[0], keepdims=false} : f32[3]',
      ].join('\n'),
    );
  });

  it('rejects nodes and values from another graph (K4001)', () => {
    const stranger: Input = { kind: 'input', name: 'z', type: add.type };
    expect(broken({ ...small, nodes: [add, makeNode('exp', [stranger]), sum] }).detail).toMatch(
      /^verify @f: exp: %z is not an input or param of @f/,
    );
    const e = broken({ ...small, nodes: [exp, sum] });
    expect(e.code).toBe('K4001');
    expect(e.detail).toMatch(/exp: input 0 \(a add node\) is not a node of @f/);
    expect(e.detail).toContain('>   %0 = exp(%?add) : f32[2,3]');
    expect(broken({ ...small, nodes: [add, add, exp, sum] }).detail).toMatch(/add: the same node appears twice/);
  });

  it('rejects a type that differs from inference (K4002), with the source location', () => {
    const bad: Node = { ...add, type: { dtype: 'f32', shape: [3, 2] } };
    const e = broken({ ...small, nodes: [bad, makeNode('exp', [bad]), makeNode('sum', [bad], { axes: [0] })] });
    expect(e.code).toBe('K4002');
    expect(e.loc).toEqual({ file: 'm.ts', line: 5, col: 3 });
    expect(e.message).toMatch(
      /^m\.ts\(5,3\): error K4002: verify @f: add: the node's type f32\[3,2\] differs from the inferred f32\[2,3\]/,
    );
    expect(e.message).toContain('>   %0 = add(%x, %w) : f32[3,2]');
  });

  it('rejects a node its op refuses (bad attributes, arity) as K4002', () => {
    const badAttrs: Node = { ...sum, attrs: { axes: [0], keepdims: 'no' } };
    expect(broken({ ...small, nodes: [add, exp, badAttrs] }).detail).toMatch(
      /sum: the op rejects this node \(K1003: sum: attribute 'keepdims' is "no", expected bool\)/,
    );
    const badArity: Node = { ...exp, inputs: [add, add] };
    expect(broken({ ...small, nodes: [add, badArity, sum] }).detail).toMatch(/exp: takes 1 inputs, has 2/);
  });

  it('rejects bad assigns', () => {
    const wrongType = broken({ ...small, assigns: [{ param: w, value: exp }] });
    expect(wrongType.code).toBe('K4002');
    expect(wrongType.detail).toMatch(/^verify @f: assign: param %w is f32\[3\] but the new value is f32\[2,3\]\n/);
    expect(wrongType.detail).toContain('>   %w <- %1');
    const other: Param = { kind: 'param', name: 'v', type: w.type, init: { name: 'zeros', attrs: {} } };
    expect(broken({ ...small, assigns: [{ param: other, value: sum }] }).detail).toMatch(
      /assign: %v is not a param of @f/,
    );
    const outside = makeNode('exp', [w]);
    expect(broken({ ...small, assigns: [{ param: w, value: outside }] }).code).toBe('K4003');
    expect(
      broken({
        ...small,
        assigns: [
          { param: w, value: sum },
          { param: w, value: sum },
        ],
      }).detail,
    ).toMatch(/%w is assigned twice/);
  });

  it('rejects bad names and outputs (K4003)', () => {
    const dup = broken({ ...small, inputs: [...small.inputs, { kind: 'input', name: 'w', type: w.type }] });
    expect(dup.code).toBe('K4003');
    expect(dup.detail).toMatch(/the name %w is declared twice/);
    expect(broken({ ...small, inputs: [{ kind: 'input', name: '9x', type: add.type }] }).detail).toMatch(
      /input name '9x' is not valid/,
    );
    const out = broken({ ...small, outputs: [{ name: 'y', value: makeNode('exp', [w]) }] });
    expect(out.code).toBe('K4003');
    expect(out.detail).toMatch(/return: output 'y' is not a value of @f\n/);
    expect(out.detail).toContain('>   return %?exp as y');
    expect(
      broken({
        ...small,
        outputs: [
          { name: 'y', value: exp },
          { name: 'y', value: sum },
        ],
      }).detail,
    ).toMatch(/output 'y' is returned twice/);
  });
});
