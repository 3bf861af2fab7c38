// vec4 loads in WGSL's tiled contraction (targets/wgsl/contraction.ts): which operands load by vec4
// (contiguous along the loaded axis, unguarded, aligned in the arena) and which by scalars, each
// rendered shader's choice checked and then run on WebGPU against the graph interpreter, tolerance
// 1e-5 relative (|got - want| / (1 + |want|): dot products of at most 72 terms in [-1, 1)).
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../ir/builder.ts';
import type { Graph, Value } from '../../ir/graph.ts';
import { renderWgsl } from '../../targets/wgsl/index.ts';
import { checkTarget } from './targets.ts';
import { TARGETS } from './list.ts';

type Shape = readonly number[];

/** y = matmul(a, b) where `a` is fed as `as` (then sliced from column `from`, or transposed). */
function matmul(as: Shape, bs: Shape, a: { from?: number; transpose?: boolean } = {}): Graph {
  const b = new GraphBuilder('mm');
  let x: Value = b.input('a', 'f32', as);
  if (a.transpose) x = b.op('transpose', [x], { perm: [1, 0] });
  if (a.from !== undefined) x = b.op('slice', [x], { start: [0, a.from], end: [as[0]!, as[1]!], step: [1, 1] });
  b.output('y', b.op('matmul', [x, b.input('b', 'f32', bs)]));
  return b.finish();
}

const CASES: { label: string; g: Graph; vec4: number }[] = [
  {
    label: 'A and B row-major, tiles whole: both by vec4 (A along k, B along n)',
    g: matmul([64, 48], [48, 64]),
    vec4: 2,
  },
  {
    label: 'M, K and N off their tiles (70x36 by 36x68): both by vec4, guarded',
    g: matmul([70, 36], [36, 68]),
    vec4: 2,
  },
  { label: 'A transposed: A by vec4 along m', g: matmul([32, 64], [32, 64], { transpose: true }), vec4: 2 },
  { label: 'row strides 30 and 66 (not multiples of 4): scalars', g: matmul([64, 30], [30, 66]), vec4: 0 },
  {
    label: 'A sliced from column 1 (unaligned): A by scalars, B by vec4',
    g: matmul([64, 49], [48, 64], { from: 1 }),
    vec4: 1,
  },
];

const vec4Loads = (code: string): number => code.match(/bitcast<vec4f>/g)?.length ?? 0;

for (const t of TARGETS.filter((x) => x.target.name === 'wgsl')) {
  describe('wgsl: vec4 tile loads in the tiled contraction against the interpreter', () => {
    for (const c of CASES)
      it(c.label, { timeout: 180_000 }, async () => {
        const program = await checkTarget(t, c.g, { tol: 1e-5 });
        const shaders = renderWgsl(program).shaders;
        const tiled = shaders.filter((s) => s.includes('var<workgroup> As'));
        expect(tiled.length).toBe(1);
        expect(vec4Loads(tiled[0]!)).toBe(c.vec4);
        // with vec4 off, the same contraction by scalars
        expect(renderWgsl(program, { vec4: false }).shaders.map(vec4Loads)).toEqual(shaders.map(() => 0));
      });
  });
}
