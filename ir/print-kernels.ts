// The Kernel IR as readable text (`kiln inspect --stage kernels`).
import type { IExpr, Kernel, Operand, Program, SExpr, UnplannedProgram } from './kernel.ts';
import { operandLoad } from './kernel-walk.ts';
import { formatType } from './types.ts';

const INFIX: Record<string, string> = { add: '+', sub: '-', mul: '*', div: '/', mod: '%' };

export function printIExpr(e: IExpr): string {
  switch (e.k) {
    case 'var':
      return `v${e.i}`;
    case 'int':
      return String(e.v);
    case 'load':
      return `${e.buf}[${printIExpr(e.at)}]`;
    default:
      return INFIX[e.k]
        ? `(${printIExpr(e.a)} ${INFIX[e.k]} ${printIExpr(e.b)})`
        : `${e.k}(${printIExpr(e.a)}, ${printIExpr(e.b)})`;
  }
}

export function printSExpr(e: SExpr): string {
  switch (e.k) {
    case 'load': {
      const at = `${e.buf}[${printIExpr(e.at)}]`;
      if (!e.guard?.length) return at;
      const g = e.guard.map((b) => `${b.lo} <= ${printIExpr(b.e)} < ${b.hi}`).join(' && ');
      return `(${g} ? ${at} : ${e.otherwise ?? 0})`;
    }
    case 'const':
      return e.dtype === 'f32' ? String(e.v) : `${e.v}:${e.dtype}`;
    case 'index':
      return `index(${printIExpr(e.at)})`;
    case 'acc':
    case 'let':
      return e.name;
    case 'op':
      return `${e.op}${e.op === 'cast' ? `<${e.dtype}>` : ''}(${e.args.map(printSExpr).join(', ')})`;
    case 'random':
      return `random_${e.dist}(${e.seed}, ${printSExpr(e.counter)}, ${printIExpr(e.index)})`;
    case 'reduce': {
      const over = e.extents.map((n, i) => `v${e.first + i} < ${n}`).join(', ');
      return `${e.combine}<${e.dtype}>[${over}](${printSExpr(e.value)})`;
    }
  }
}

export function printKernel(k: Kernel): string {
  switch (k.kind) {
    case 'loop': {
      const lines = [
        `loop ${k.name} over [${k.space.join(',')}]${k.reduce ? ` reduce [${k.reduce.extents.join(',')}]` : ''}${k.specialize !== undefined ? ` specialize v${k.specialize}` : ''} {`,
      ];
      for (const a of k.reduce?.accs ?? [])
        lines.push(`  ${a.name}: ${a.dtype} = ${a.combine}(${printSExpr(a.value)})`);
      for (const l of k.lets ?? []) lines.push(`  let ${l.name}: ${l.dtype} = ${printSExpr(l.value)}`);
      for (const s of k.stores) {
        const when = s.guard?.length
          ? `if (${s.guard.map((b) => `${b.lo} <= ${printIExpr(b.e)} < ${b.hi}`).join(' && ')}) `
          : '';
        lines.push(`  ${when}${s.buf}[${printIExpr(s.at)}] ${s.combine === 'sum' ? '+=' : '='} ${printSExpr(s.value)}`);
      }
      return `${lines.join('\n')}\n}`;
    }
    case 'contraction': {
      const op = (o: Operand): string => {
        const at = printSExpr(operandLoad(o));
        return `[${o.rows.join(',')}] x [${o.cols.join(',')}] = ${at}`;
      };
      return `contraction ${k.name} batch [${k.batch.join(',')}] m=${k.m} n=${k.n} k=${k.k}\n  a${op(k.a)}\n  b${op(k.b)}\n  ${k.out} = ${k.epilogue ? printSExpr(k.epilogue) : 'dot'}`;
    }
  }
}

export function printProgram(p: UnplannedProgram & { readonly memory?: Program['memory'] }): string {
  const lines = [`program @${p.name}${p.memory ? ` arena ${p.memory.arenaBytes} bytes` : ''}`];
  for (const b of p.buffers)
    lines.push(
      `  buffer ${b.name}: ${b.dtype}[${b.size}] ${b.role}${p.memory ? ` @${p.memory.offsets[b.name]}` : ''}${b.init ? ' (constant)' : ''}`,
    );
  for (const e of p.entries) {
    lines.push(
      `entry ${e.name}(${e.inputs.map((i) => `${i.name}=${i.buf}`).join(', ')}) -> (${e.outputs.map((o) => `${o.name}=${o.buf}`).join(', ')}): ${e.kernels.length} kernels`,
    );
    for (const k of e.kernels) lines.push(printKernel(k).replace(/^/gm, '  '));
  }
  return `${lines.join('\n')}\n`;
}
