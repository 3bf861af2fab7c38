// `kiln eval <file.kir> --inputs <file.json>`: runs a graph on the reference interpreter and prints
// its outputs as JSON {name: {dtype, shape, data}}. Params come from their initializers unless the
// JSON gives them. A tensor in the JSON is {"shape": [...], "data": [...]} or plain nested arrays.
import { fail } from '../../ir/errors.ts';
import type { Graph, Input, Param, Value } from '../../ir/graph.ts';
import { initialValue } from '../../ir/init.ts';
import { interpret } from '../../ir/interpret.ts';
import { parse } from '../../ir/parse.ts';
import { verifyAll } from '../../ir/verify.ts';
import { formatType, sizeOf, tensor, type DType, type Tensor } from '../../ir/types.ts';
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
  if (parts.some((p) => p.shape.join(',') !== inner.join(',')))
    fail('K7002', `eval: '${name}' is a ragged nested array; every row must have the same length`);
  return { values: parts.flatMap((p) => p.values), shape: [x.length, ...inner] };
}

const F32_MAX = 3.4028234663852886e38;

/** A JSON value as an element of `dtype`, refused (K7002 naming the tensor and the index) unless it fits exactly. */
function scalarOf(name: string, v: unknown, dtype: DType, at: number): number {
  const where = `eval: '${name}'[${at}] is ${JSON.stringify(v)}`;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (dtype === 'f32') {
    if (typeof v === 'string' && v in SPECIAL) return SPECIAL[v]!;
    if (typeof v !== 'number')
      return fail('K7002', `${where}; f32 values are numbers, booleans, "nan", "inf" or "-inf"`);
    if (Math.abs(v) > F32_MAX)
      fail('K7002', `${where}, outside f32's range (±3.4028235e38); write "inf" or "-inf" for infinities`);
    return v;
  }
  if (typeof v !== 'number')
    return fail('K7002', `${where}; ${dtype} values are ${dtype === 'i32' ? 'integers' : 'true, false, 0 or 1'}`);
  if (dtype === 'bool' && v !== 0 && v !== 1) fail('K7002', `${where}; bool values are true, false, 0 or 1`);
  if (!Number.isInteger(v)) fail('K7002', `${where}, not an integer; i32 values are integers`);
  if (v < -(2 ** 31) || v > 2 ** 31 - 1) fail('K7002', `${where}, outside i32's range [-2147483648, 2147483647]`);
  return v;
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
  return tensor(
    want.dtype,
    want.shape,
    values.map((v, i) => scalarOf(name, v, want.dtype, i)),
  );
}

function pickGraph(graphs: readonly Graph[], name: string | undefined): Graph {
  const names = graphs.map((g) => '@' + g.name).join(', ');
  if (name === undefined) {
    if (graphs.length > 1)
      fail('K8001', `eval: the file holds ${graphs.length} graphs (${names}); pick one with --graph <name>`);
    return graphs[0]!;
  }
  const g = graphs.find((x) => x.name === name || '@' + x.name === name);
  if (!g) fail('K8001', `eval: no graph @${name.replace(/^@/, '')}; the file holds ${names}`);
  return g;
}

/** The interpreter holds each value in memory: at most this many elements (1 GiB of f32). */
const MAX_ELEMENTS = 2 ** 28;

/** K7002 when a value of g is too large to interpret (a broadcast to 4e11 elements), naming it. */
function checkSizes(g: Graph): void {
  const values: Value[] = [...g.inputs, ...g.params, ...g.nodes];
  for (const [i, v] of values.entries()) {
    const n = sizeOf(v.type.shape);
    if (n > MAX_ELEMENTS) {
      const what = v.kind === 'node' ? `%${i - g.inputs.length - g.params.length} = ${v.op}(...)` : `%${v.name}`;
      fail(
        'K7002',
        `eval: ${what} of @${g.name} is ${formatType(v.type)}, ${n.toExponential(2)} elements; the interpreter holds at most 2^28 (${MAX_ELEMENTS}) per value — use smaller shapes`,
        v.kind === 'node' ? v.loc : undefined,
      );
    }
  }
}

/** Runs g on the JSON values; params the JSON leaves out start from their initializers. */
export function evalGraph(g: Graph, json: Readonly<Record<string, unknown>>): Record<string, TensorJson> {
  checkSizes(g);
  const declared = new Map<string, Value>([...g.inputs, ...g.params].map((v) => [v.name, v]));
  for (const k of Object.keys(json)) {
    if (!declared.has(k)) {
      fail(
        'K7002',
        `eval: '${k}' is not an input or param of @${g.name}; it declares ${[...declared.keys()].join(', ') || 'nothing'}`,
      );
    }
  }
  const given = (v: Input | Param): Tensor | undefined =>
    v.name in json ? tensorFromJson(v.name, json[v.name], v) : undefined;
  const inputs = Object.fromEntries(
    g.inputs.flatMap((i) => {
      const t = given(i);
      return t ? [[i.name, t]] : [];
    }),
  );
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
    if (typeof json !== 'object' || json === null || Array.isArray(json))
      fail('K8001', `eval: ${inputsFile} must hold an object {name: tensor}`);
    process.stdout.write(JSON.stringify(evalGraph(g, json as Record<string, unknown>)) + '\n');
    return 0;
  },
});
