// simplify, cse and dce: before/after in the text format, and the results unchanged.
import { describe, expect, it } from 'vitest';
import { makeNode } from '../../ir/builder.ts';
import { parseGraph } from '../../ir/parse.ts';
import { printGraph } from '../../ir/print.ts';
import { cse } from '../../compiler/passes/cse.ts';
import { dce } from '../../compiler/passes/dce.ts';
import { simplify } from '../../compiler/passes/simplify.ts';
import { checkLowering } from './helpers.ts';

const body = (text: string): string[] =>
  printGraph(parseGraph(text))
    .trim()
    .split('\n')
    .slice(1, -1)
    .map((l) => l.trim());
const after = (pass: (g: ReturnType<typeof parseGraph>) => ReturnType<typeof parseGraph>, text: string): string[] =>
  printGraph(pass(parseGraph(text)))
    .trim()
    .split('\n')
    .slice(1, -1)
    .map((l) => l.trim());

describe('simplify', () => {
  it('x*1 -> x, x+0 -> x, reshape chains fold, constants fold', () => {
    const before = `graph @g(%x: f32[2,3]) {
  %0 = constant() {dtype=f32, shape=[], value=[1]} : f32[]
  %1 = mul(%x, %0) : f32[2,3]
  %2 = constant() {dtype=f32, shape=[], value=[0]} : f32[]
  %3 = add(%2, %1) : f32[2,3]
  %4 = reshape(%3) {shape=[3,2]} : f32[3,2]
  %5 = reshape(%4) {shape=[6]} : f32[6]
  %6 = constant() {dtype=f32, shape=[], value=[2]} : f32[]
  %7 = mul(%6, %6) : f32[]
  %8 = mul(%5, %7) : f32[6]
  return %8 as y
}`;
    expect(after(simplify, before)).toEqual(
      body(`graph @g(%x: f32[2,3]) {
  %0 = reshape(%x) {shape=[6]} : f32[6]
  %1 = constant() {dtype=f32, shape=[], value=[4]} : f32[]
  %2 = mul(%0, %1) : f32[6]
  return %2 as y
}`),
    );
    checkLowering(parseGraph(before));
  });

  it('transpose chains compose and vanish when they cancel', () => {
    const before = `graph @g(%x: f32[2,3,4]) {
  %0 = transpose(%x) {perm=[2,0,1]} : f32[4,2,3]
  %1 = transpose(%0) {perm=[1,2,0]} : f32[2,3,4]
  %2 = exp(%1) : f32[2,3,4]
  return %2 as y
}`;
    expect(after(simplify, before)).toEqual(
      body(`graph @g(%x: f32[2,3,4]) {
  %0 = exp(%x) : f32[2,3,4]
  return %0 as y
}`),
    );
  });

  it('x*1 keeps the broadcast when it changes the shape', () => {
    const before = `graph @g(%x: f32[3]) {
  %0 = constant() {dtype=f32, shape=[2,3], value=[1]} : f32[2,3]
  %1 = mul(%x, %0) : f32[2,3]
  return %1 as y
}`;
    expect(after(simplify, before)).toEqual(body(before));
  });
});

describe('cse and dce', () => {
  it('cse merges equal nodes (same op, inputs and attributes)', () => {
    const before = `graph @g(%x: f32[4]) {
  %0 = exp(%x) : f32[4]
  %1 = exp(%x) : f32[4]
  %2 = add(%0, %1) : f32[4]
  %3 = sum(%2) {axes=[0], keepdims=false} : f32[]
  %4 = sum(%2) {axes=[0], keepdims=true} : f32[1]
  return %3 as a, %4 as b
}`;
    expect(after(cse, before)).toEqual(
      body(`graph @g(%x: f32[4]) {
  %0 = exp(%x) : f32[4]
  %1 = add(%0, %0) : f32[4]
  %2 = sum(%1) {axes=[0], keepdims=false} : f32[]
  %3 = sum(%1) {axes=[0], keepdims=true} : f32[1]
  return %2 as a, %3 as b
}`),
    );
    checkLowering(parseGraph(before));
  });

  it('dce drops what no output or assign reads', () => {
    const g = parseGraph(`graph @g(%x: f32[4]) {
  %0 = exp(%x) : f32[4]
  %1 = log(%x) : f32[4]
  return %0 as y
}`);
    const dead = { ...g, nodes: [...g.nodes, makeNode('sqrt', [g.inputs[0]!])] };
    expect(dead.nodes.map((n) => n.op)).toEqual(['exp', 'log', 'sqrt']);
    expect(dce(dead).nodes.map((n) => n.op)).toEqual(['exp']);
  });
});
