// `kiln eval <file.kir> --inputs <file.json>`: runs a graph on the reference interpreter and prints
// its outputs as JSON {name: {dtype, shape, data}}. Params come from their initializers unless the
// JSON gives them. A tensor in the JSON is {"shape": [...], "data": [...]} or plain nested arrays.
import { fail } from '../../ir/errors.ts';
import type { Graph, Input, Param, Value } from '../../ir/graph.ts';
import { initialValue } from '../../ir/init.ts';
import { interpret } from '../../ir/interpret.ts';
import { parse } from '../../ir/parse.ts';
import { verifyAll } from '../../ir/verify.ts';
import { formatType, sizeOf, tensor, type Tensor } from '../../ir/types.ts';
import { defineCommand, text } from './command.ts';
import { readText } from './files.ts';

export interface TensorJson {
  readonly dtype: string;
  readonly shape: readonly number[];
  /** Row-major values; NaN and infinities are written "nan", "inf", "-inf" (JSON has no such numbers). */
  readonly data: readonly (number | string)[];
}

const SPECIAL: Readonly<Record<string, number>> = { nan: NaN, inf: Infinity, '-inf': -Infinity };

/** The shortest decimal that reads back as the same float32 (0.1 rather than 0.10000000149011612). */
export function shortestF32(x: number): number {
  for (let p = 1; p < 9; p++) {
    const y = Number(x.toPrecision(p));
    if (Math.fround(y) === x) return y;
  }
  return x;
}

export function tensorToJson(t: Tensor): TensorJson {
  const data = Array.from(t.data, (x): number | string => {
    if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
    return t.type.dtype === 'f32' ? shortestF32(x) : x;
  });
  return { dtype: t.type.dtype, shape: [...t.type.shape], data };
}

/** Flattens nested arrays, checking they are rectangular; returns the values and the shape. */
function flatten(name: string, x: unknown): { values: unknown[]; shape: number[] } {
  if (!Array.isArray(x)) return { values: [x], shape: [] };
  const parts = x.map((e) => flatten(name, e));
  const inner = parts[0]?.shape ?? [];
  if (parts.some((p) => p.shape.join(',') !== inner.join(','))) fail('K7002', `eval: '${name}' is a ragged nested array; every row must have the same length`);
  return { values: parts.flatMap((p) => p.values), shape: [x.length, ...inner] };
}

function scalarOf(name: string, v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && v in SPECIAL) return SPECIAL[v]!;
  return fail('K7002', `eval: '${name}' holds ${JSON.stringify(v)}; values are numbers, booleans, "nan", "inf" or "-inf"`);
}

/** A JSON value as a tensor of `target`'s type; K7002 naming both shapes when they differ. */
export function tensorFromJson(name: string, json: unknown, target: Value): Tensor {
  const explicit = typeof json === 'object' && json !== null && !Array.isArray(json);
  const obj = json as { shape?: unknown; data?: unknown; dtype?: unknown };
  if (explicit && (!Array.isArray(obj.shape) || obj.data === undefined)) {
    fail('K7002', `eval: '${name}' must be {"shape": [...], "data": [...]} or nested arrays`);
  }
  const { values, shape: nested } = flatten(name, explicit ? obj.data : json);
  const shape = explicit ? (obj.shape as number[]) : nested;
  const want = target.type;
  if (explicit && obj.dtype !== undefined && obj.dtype !== want.dtype) {
    fail('K7002', `eval: '${name}' is given as ${String(obj.dtype)}, the graph declares ${formatType(want)}`);
  }
  if (shape.join(',') !== want.shape.join(',')) {
    fail('K7002', `eval: '${name}' has shape [${shape.join(',')}], the graph declares ${formatType(want)}`);
  }
  if (values.length !== sizeOf(want.shape)) {
    fail('K7002', `eval: '${name}' has ${values.length} values for ${formatType(want)} (needs ${sizeOf(want.shape)})`);
  }
  return tensor(want.dtype, want.shape, values.map((v) => scalarOf(name, v)));
}

function pickGraph(graphs: readonly Graph[], name: string | undefined): Graph {
  const names = graphs.map((g) => '@' + g.name).join(', ');
  if (name === undefined) {
    if (graphs.length > 1) fail('K8001', `eval: the file holds ${graphs.length} graphs (${names}); pick one with --graph <name>`);
    return graphs[0]!;
  }
  const g = graphs.find((x) => x.name === name || '@' + x.name === name);
  if (!g) fail('K8001', `eval: no graph @${name.replace(/^@/, '')}; the file holds ${names}`);
  return g;
}

/** Runs g on the JSON values; params the JSON leaves out start from their initializers. */
export function evalGraph(g: Graph, json: Readonly<Record<string, unknown>>): Record<string, TensorJson> {
  const declared = new Map<string, Value>([...g.inputs, ...g.params].map((v) => [v.name, v]));
  for (const k of Object.keys(json)) {
    if (!declared.has(k)) {
      fail('K7002', `eval: '${k}' is not an input or param of @${g.name}; it declares ${[...declared.keys()].join(', ') || 'nothing'}`);
    }
  }
  const given = (v: Input | Param): Tensor | undefined => (v.name in json ? tensorFromJson(v.name, json[v.name], v) : undefined);
  const inputs = Object.fromEntries(g.inputs.flatMap((i) => {
    const t = given(i);
    return t ? [[i.name, t]] : [];
  }));
  const params = Object.fromEntries(g.params.map((p) => [p.name, given(p) ?? initialValue(p)]));
  const { outputs } = interpret(g, inputs, params);
  return Object.fromEntries(Object.entries(outputs).map(([k, t]) => [k, tensorToJson(t)]));
}

export default defineCommand({
  name: 'eval',
  summary: 'run a .kir graph on the reference interpreter',
  args: ['<file.kir>'],
  options: {
    inputs: text('JSON file of input (and optionally param) values by name', { required: true, value: 'file.json' }),
    graph: text('the graph to run when the file holds several', { value: 'name' }),
  },
  run: ([file], opts) => {
    const inputsFile = opts.inputs;
    const graphs = parse(readText('eval', file!), file);
    verifyAll(graphs);
    const g = pickGraph(graphs, opts.graph);
    let json: unknown;
    try {
      json = JSON.parse(readText('eval', inputsFile));
    } catch (e) {
      if (!(e instanceof SyntaxError)) throw e;
      fail('K8001', `eval: ${inputsFile} is not valid JSON: ${e.message}`);
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('K8001', `eval: ${inputsFile} must hold an object {name: tensor}`);
    process.stdout.write(JSON.stringify(evalGraph(g, json as Record<string, unknown>)) + '\n');
    return 0;
  },
});
