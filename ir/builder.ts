// Building graphs: every node is created here, so attributes are defaulted and checked and the
// result type inferred at the moment the user's code runs, with the user's source location.
import { KilnError, fail, type Loc } from './errors.ts';
import type { Attrs, AttrValue, Assign, Graph, Init, Input, Node, Output, Param, Value } from './graph.ts';
import { makeGraph } from './graph.ts';
import type { AttrSpec, OpDef } from './ops/def.ts';
import { OPS } from './ops/index.ts';
import { DTYPES, formatType, tensorType, type DType, type Shape } from './types.ts';

export function opDef(op: string, loc?: Loc): OpDef {
  const def = (OPS as Record<string, OpDef>)[op];
  if (!def) fail('K1005', `unknown op '${op}'; \`kiln ops\` lists the ops`, loc);
  return def;
}

function attrOk(spec: AttrSpec, v: AttrValue): boolean {
  const isInts = Array.isArray(v) && v.every((x) => Number.isInteger(x));
  switch (spec.kind) {
    case 'int':
      return typeof v === 'number' && Number.isInteger(v);
    case 'float':
      return typeof v === 'number';
    case 'bool':
      return typeof v === 'boolean';
    case 'ints':
      return isInts;
    case 'floats':
      return Array.isArray(v) && v.every((x) => typeof x === 'number');
    case 'dtype':
      return typeof v === 'string' && (DTYPES as readonly string[]).includes(v);
    case 'string':
      return typeof v === 'string' && (!spec.oneOf || spec.oneOf.includes(v));
  }
}

/** Fills defaults, rejects unknown, missing or ill-typed attributes; keys come out sorted. */
export function normalizeAttrs(op: string, def: OpDef, attrs: Attrs, loc?: Loc): Attrs {
  for (const k of Object.keys(attrs)) {
    if (!(k in def.attrs)) {
      fail('K1003', `${op}: unknown attribute '${k}'; accepted: ${Object.keys(def.attrs).join(', ') || 'none'}`, loc);
    }
  }
  const out: Record<string, AttrValue> = {};
  for (const k of Object.keys(def.attrs).sort()) {
    const spec = def.attrs[k]!;
    const v = attrs[k] ?? spec.default;
    if (v === undefined) fail('K1003', `${op}: missing attribute '${k}' (${spec.kind})`, loc);
    if (!attrOk(spec, v)) {
      const accepted = spec.oneOf ? `one of ${spec.oneOf.join(', ')}` : spec.kind;
      fail('K1003', `${op}: attribute '${k}' is ${JSON.stringify(v)}, expected ${accepted}`, loc);
    }
    out[k] = Array.isArray(v) ? Object.freeze([...v]) : v;
  }
  return Object.freeze(out);
}

/** Creates a node: checks arity, normalizes attributes, infers the result type. */
export function makeNode(op: string, inputs: readonly Value[], attrs: Attrs = {}, loc?: Loc): Node {
  const def = opDef(op, loc);
  if (def.arity !== 'variadic' && inputs.length !== def.arity) {
    fail('K1004', `${op}: takes ${def.arity} input${def.arity === 1 ? '' : 's'}, got ${inputs.length}`, loc);
  }
  if (def.arity === 'variadic' && inputs.length === 0) fail('K1004', `${op}: needs at least one input`, loc);
  const norm = normalizeAttrs(op, def, attrs, loc);
  let type;
  try {
    type = def.infer(
      inputs.map((i) => i.type),
      norm,
    );
  } catch (e) {
    throw e instanceof KilnError ? e.at(loc) : e;
  }
  return Object.freeze({ kind: 'node', op, inputs: Object.freeze([...inputs]), attrs: norm, type, loc });
}

/** Accumulates inputs, params, outputs and assigns; nodes are found from the outputs at `finish`. */
export class GraphBuilder {
  readonly name: string;
  private readonly inputs: Input[] = [];
  private readonly params: Param[] = [];
  private readonly outputs: Output[] = [];
  private readonly assigns: Assign[] = [];
  private readonly names = new Set<string>();

  constructor(name: string) {
    this.name = name;
  }

  private claim(name: string, loc?: Loc): void {
    if (!/^[A-Za-z_][A-Za-z0-9_./-]*$/.test(name)) {
      fail('K4003', `'${name}' is not a valid value name (letters, digits, _ . / -, not starting with a digit)`, loc);
    }
    if (this.names.has(name)) fail('K4003', `the name '${name}' is used twice in graph @${this.name}`, loc);
    this.names.add(name);
  }

  input(name: string, dtype: DType, shape: Shape, loc?: Loc): Input {
    this.claim(name, loc);
    const v: Input = Object.freeze({ kind: 'input', name, type: tensorType(dtype, shape) });
    this.inputs.push(v);
    return v;
  }

  param(name: string, dtype: DType, shape: Shape, init: Init, loc?: Loc): Param {
    this.claim(name, loc);
    const v: Param = Object.freeze({ kind: 'param', name, type: tensorType(dtype, shape), init });
    this.params.push(v);
    return v;
  }

  /** Adds an existing param (shared between entry points such as infer and trainStep). */
  addParam(p: Param): Param {
    this.claim(p.name);
    this.params.push(p);
    return p;
  }

  op(op: string, inputs: readonly Value[], attrs: Attrs = {}, loc?: Loc): Node {
    return makeNode(op, inputs, attrs, loc);
  }

  output(name: string, value: Value): void {
    if (this.outputs.some((o) => o.name === name))
      fail('K4003', `output '${name}' is defined twice in graph @${this.name}`);
    this.outputs.push({ name, value });
  }

  assign(param: Param, value: Value): void {
    if (formatType(param.type) !== formatType(value.type)) {
      fail(
        'K1001',
        `assign: param %${param.name} is ${formatType(param.type)} but the new value is ${formatType(value.type)}`,
      );
    }
    if (this.assigns.some((a) => a.param === param)) fail('K4003', `param %${param.name} is assigned twice`);
    this.assigns.push({ param, value });
  }

  finish(): Graph {
    return makeGraph({
      name: this.name,
      inputs: this.inputs,
      params: this.params,
      outputs: this.outputs,
      assigns: this.assigns,
    });
  }
}
