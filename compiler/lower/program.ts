// Fused entry graphs -> a Program: buffers (params shared by name across entries, inputs, outputs,
// temps, constant tables), one kernel list per entry, assigned params updated in place when no
// kernel reads the old value after it is overwritten (else through a temp and a copy at the end).
import { fail } from '../../ir/errors.ts';
import type { Graph, Param, Value } from '../../ir/graph.ts';
import type { BufferDecl, EntryPoint, Kernel, LoopKernel, UnplannedProgram } from '../../ir/kernel.ts';
import { formatType, sameType, sizeOf } from '../../ir/types.ts';
import { isTable, type Fusion, type FusionGroup, type Limits } from '../passes/fuse.ts';
import { linearize, sameIExpr, vars } from '../../ir/iexpr.ts';
import { buffersRead, buffersWritten, readsOf } from '../../ir/kernel-walk.ts';
import { lowerGroup, type BufOf } from './kernels.ts';

export interface LoweredEntry {
  readonly name: string;
  readonly fusion: Fusion;
}

/** Where a kernel came from (for `kiln inspect`): its entry's fusion, its group there and the
 *  buffer of each value. The copy kernels of assigns have none. */
export interface KernelOrigin {
  readonly entry: string;
  readonly fusion: Fusion;
  readonly group: FusionGroup;
  readonly bufOf: BufOf;
}

const sanitize = (s: string): string => s.replace(/[^A-Za-z0-9_]/g, '_');

function copyKernel(name: string, from: string, to: string, size: number): LoopKernel {
  const at = linearize(vars(1), [size]);
  return { kind: 'loop', name, space: [size], stores: [{ buf: to, at, value: { k: 'load', buf: from, at } }] };
}

/** True when a kernel reads `buf` (before `beforeStore` stores of a loop kernel when given). */
function reads(k: Kernel, buf: string): boolean {
  return buffersRead(k).has(buf);
}

/** Params whose assigned value may be stored straight into the param's buffer: no later kernel
 *  reads the old value, and in the storing kernel only that store and earlier ones read it, at the
 *  very element being stored. */
function inPlaceSafe(kernels: readonly Kernel[], paramBuf: string, valueBuf: string): boolean {
  const kv = kernels.findIndex((k) => buffersWritten(k).has(valueBuf));
  if (kv < 0) return false; // a constant table: copied
  if (kernels.slice(kv + 1).some((k) => reads(k, paramBuf))) return false;
  const k = kernels[kv]!;
  if (k.kind !== 'loop') return !reads(k, paramBuf);
  if (k.reduce?.accs.some((a) => readsOf(a.value).some((l) => l.buf === paramBuf))) return false;
  const si = k.stores.findIndex((s) => s.buf === valueBuf);
  const at = k.stores[si]!.at;
  // bindings run before every store: like reads in the first one
  if (k.lets?.some((l) => readsOf(l.value).some((ld) => ld.buf === paramBuf && !sameIExpr(ld.at, at)))) return false;
  return k.stores.every((s, i) =>
    readsOf(s.value).every((l) => l.buf !== paramBuf || (i <= si && sameIExpr(l.at, at))),
  );
}

class Buffers {
  readonly decls: BufferDecl[] = [];
  private readonly names = new Set<string>();
  add(base: string, v: { type: Value['type'] }, role: BufferDecl['role'], init?: readonly number[]): string {
    let name = sanitize(base);
    for (let i = 1; this.names.has(name); i++) name = `${sanitize(base)}_${i}`;
    this.names.add(name);
    const decl: BufferDecl = { name, dtype: v.type.dtype, size: sizeOf(v.type.shape), role };
    this.decls.push(init ? { ...decl, init } : decl);
    return name;
  }
}

function lowerEntry(
  e: LoweredEntry,
  bufs: Buffers,
  paramBuf: (p: Param) => string,
  limits: Limits,
  origins?: Map<string, KernelOrigin>,
): EntryPoint {
  const g: Graph = e.fusion.graph;
  const own = new Map<Value, string>();
  for (const p of g.params) own.set(p, paramBuf(p));
  const inputs = g.inputs.map((i) => {
    const buf = bufs.add(`${e.name}_in_${i.name}`, i, 'input');
    own.set(i, buf);
    return { name: i.name, buf, type: i.type };
  });
  let t = 0;
  for (const n of g.nodes) {
    if (isTable(n)) own.set(n, bufs.add(`${e.name}_c${t++}`, n, 'param', n.attrs.value as number[]));
  }
  const outputs: EntryPoint['outputs'][number][] = [];
  const copies: [string, string, number][] = [];
  for (const o of g.outputs) {
    if (o.value.kind !== 'node' || isTable(o.value)) {
      const buf = bufs.add(`${e.name}_out_${o.name}`, o.value, 'output');
      copies.push([own.get(o.value)!, buf, sizeOf(o.value.type.shape)]);
      outputs.push({ name: o.name, buf, type: o.value.type });
      continue;
    }
    if (!own.has(o.value)) own.set(o.value, bufs.add(`${e.name}_out_${o.name}`, o.value, 'output'));
    outputs.push({ name: o.name, buf: own.get(o.value)!, type: o.value.type });
  }
  for (const n of g.nodes) {
    if (e.fusion.materialized.has(n) && !own.has(n)) own.set(n, bufs.add(`${e.name}_t${t++}`, n, 'temp'));
  }
  let k = 0;
  const lowerAll = (bufOf: BufOf): Kernel[] => {
    k = 0;
    return e.fusion.groups.flatMap((grp) => {
      const ks = lowerGroup(grp, bufOf, limits, () => `${e.name}_k${k++}`);
      for (const kernel of ks) origins?.set(kernel.name, { entry: e.name, fusion: e.fusion, group: grp, bufOf });
      return ks;
    });
  };
  const plain = lowerAll((v) => own.get(v));
  // assigns: in place where safe
  const alias = new Map<Value, string>();
  for (const a of g.assigns) {
    const pb = paramBuf(a.param);
    const vb = own.get(a.value);
    const first = a.value.kind === 'node' && !alias.has(a.value) && !outputs.some((o) => o.buf === vb);
    if (first && vb && inPlaceSafe(plain, pb, vb)) alias.set(a.value, pb);
    else copies.push([vb!, pb, sizeOf(a.param.type.shape)]);
  }
  const kernels = alias.size ? lowerAll((v) => alias.get(v) ?? own.get(v)) : plain;
  for (const [from, to, size] of copies) kernels.push(copyKernel(`${e.name}_k${k++}`, from, to, size));
  return { name: e.name, inputs, outputs, kernels };
}

/** Lowers fused entry graphs into one program; params with the same name are one buffer. `origins`,
 *  when given, receives each kernel's origin by kernel name. */
export function lowerProgram(
  name: string,
  entries: readonly LoweredEntry[],
  limits: Limits,
  origins?: Map<string, KernelOrigin>,
): UnplannedProgram {
  const bufs = new Buffers();
  const params = new Map<string, { param: Param; buf: string }>();
  const paramBuf = (p: Param): string => {
    const known = params.get(p.name);
    if (known) {
      if (!sameType(known.param.type, p.type))
        fail(
          'K5002',
          `compile: param %${p.name} is ${formatType(known.param.type)} in one entry and ${formatType(p.type)} in another`,
        );
      return known.buf;
    }
    const buf = bufs.add(`p_${p.name}`, p, 'param');
    params.set(p.name, { param: p, buf });
    return buf;
  };
  for (const e of entries) e.fusion.graph.params.forEach(paramBuf);
  const eps = entries.map((e) => lowerEntry(e, bufs, paramBuf, limits, origins));
  const base = {
    name,
    buffers: bufs.decls,
    params: [...params.values()].map(({ param, buf }) => ({ name: param.name, buf, type: param.type })),
    entries: eps,
  };
  return base;
}
