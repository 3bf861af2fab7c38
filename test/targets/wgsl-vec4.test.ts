// vec4 loads in WGSL: the tiled contraction's tile loads (targets/wgsl/contraction.ts) and loop
// kernels run one invocation per vec4 along their innermost variable (targets/wgsl/loop.ts). Which
// operands, loads and stores move vec4s (contiguous along the axis, unguarded, aligned in the arena)
// and which scalars: each rendered shader's choice checked, then run on WebGPU against the graph
// interpreter, tolerance 1e-5 relative (|got - want| / (1 + |want|): dot products of at most 72
// terms in [-1, 1); elementwise results exact but for WGSL's exp).
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

/** One loop kernel's graph: `f` of the fed `x` (and `y`). */
function loop(xs: Shape, f: (b: GraphBuilder, x: Value, y: Value) => Value, ys: Shape = [1]): Graph {
  const b = new GraphBuilder('loop');
  b.output('z', f(b, b.input('x', 'f32', xs), b.input('y', 'f32', ys)));
  return b.finish();
}

/** A momentum step: v = v mu + g, then w = w - v mu reading the v it has just stored. */
function momentum(): Graph {
  const b = new GraphBuilder('momentum');
  const zeros = { name: 'zeros', attrs: {} };
  const w = b.param('w', 'f32', [4, 8], zeros),
    v = b.param('v', 'f32', [4, 8], zeros);
  const mu = b.input('mu', 'f32', [1]);
  const vn = b.op('add', [b.op('mul', [v, mu]), b.input('g', 'f32', [4, 8])]);
  b.assign(v, vn);
  b.assign(w, b.op('sub', [w, b.op('mul', [vn, mu])]));
  return b.finish();
}

const LOOPS: { label: string; g: Graph; loads: number; stores: number }[] = [
  {
    label: 'a momentum step reading the slot it has just stored: that slot by scalars, g and w by vec4',
    g: momentum(),
    loads: 2,
    stores: 1,
  },
  {
    label: 'relu(x + bias) over [8, 64]: x and the bias by vec4, the store by vec4',
    g: loop([8, 64], (b, x, y) => b.op('relu', [b.op('add', [x, y])]), [64]),
    loads: 2,
    stores: 1,
  },
  {
    label: 'exp(x) > y over [6, 12] (a bool output), y a scalar broadcast',
    g: loop([6, 12], (b, x, y) => b.op('greater', [b.op('exp', [x]), y])),
    loads: 1,
    stores: 1,
  },
  {
    label: 'a transpose [16, 12] -> [12, 16]: strided loads by scalars, the store by vec4',
    g: loop([16, 12], (b, x) => b.op('transpose', [x], { perm: [1, 0] })),
    loads: 0,
    stores: 1,
  },
  {
    label: 'x[:, 1:17] + y of [4, 20] (unaligned): loads by scalars, the store by vec4',
    g: loop([4, 20], (b, x, y) => b.op('add', [b.op('slice', [x], { start: [0, 1], end: [4, 17], step: [1, 1] }), y])),
    loads: 0,
    stores: 1,
  },
  {
    label: 'innermost extent 6 (not a multiple of 4): one invocation per point',
    g: loop([10, 6], (b, x) => b.op('neg', [x])),
    loads: 0,
    stores: 0,
  },
];

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

  describe('wgsl: loop kernels by vec4 along their innermost variable against the interpreter', () => {
    for (const c of LOOPS)
      it(c.label, { timeout: 180_000 }, async () => {
        const program = await checkTarget(t, c.g, { tol: 1e-5 });
        expect(program.entries[0]!.kernels.map((k) => k.kind)).toEqual(['loop']);
        const [code] = renderWgsl(program).shaders;
        expect(code!.match(/let h\d+ = /g)?.length ?? 0).toBe(c.loads);
        expect(code!.match(/var o\d+: vec4<u32>/g)?.length ?? 0).toBe(c.stores);
        expect(code!.includes('array<vec4<u32>>')).toBe(c.loads + c.stores > 0);
        expect(renderWgsl(program, { vec4: false }).shaders[0]!.includes('vec4<u32>')).toBe(false);
      });
  });
}
