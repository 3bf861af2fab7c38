// `kiln ops [--json]`: the op registry as a support table (kind, VJP, lowering to each target).
import type { AttrSpec, OpDef } from '../../ir/ops/def.ts';
import { OPS } from '../../ir/ops/index.ts';
import { defineCommand, flag } from './command.ts';

export type Target = 'wasm' | 'wgsl';
export const TARGETS: readonly Target[] = ['wasm', 'wgsl'];

export interface OpRow {
  readonly op: string;
  readonly kind: string;
  readonly arity: number | 'variadic';
  readonly attrs: Readonly<Record<string, AttrSpec>>;
  readonly vjp: boolean;
  readonly wasm: boolean;
  readonly wgsl: boolean;
  readonly doc: string;
}

/** The ops a target lowers, from `supportedOps` of targets/<t>/index.ts; empty (with a warning when it exists but
 *  fails to load) when that target is not built yet. */
export async function targetOps(t: Target): Promise<ReadonlySet<string>> {
  const path = `../../targets/${t}/index.ts`; // a variable path: the target may not exist yet
  try {
    const mod = (await import(path)) as { supportedOps?: (target: Target) => Iterable<string> };
    return new Set(mod.supportedOps ? mod.supportedOps(t) : []);
  } catch (e) {
    const missing =
      (e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' &&
      String((e as Error).message).includes(`targets/${t}/index.ts`);
    if (!missing)
      process.stderr.write(
        `kiln ops: targets/${t} does not load (${(e as Error).message.split('\n')[0]}); its column shows "no"\n`,
      );
    return new Set();
  }
}

export async function opRows(): Promise<OpRow[]> {
  const [wasm, wgsl] = await Promise.all(TARGETS.map(targetOps));
  return Object.entries(OPS as Record<string, OpDef>).map(([op, d]) => ({
    op,
    kind: d.kind,
    arity: d.arity,
    attrs: d.attrs,
    vjp: d.vjp !== 'none',
    wasm: wasm!.has(op),
    wgsl: wgsl!.has(op),
    doc: d.doc,
  }));
}

/** Columns padded to their widest cell. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (r: readonly string[]): string =>
    r
      .map((x, c) => x.padEnd(widths[c]!))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
}

export default defineCommand({
  name: 'ops',
  summary: 'list the ops: kind, gradient, lowering to wasm and WGSL',
  options: { json: flag('print JSON (one object per op) instead of a table') },
  run: async (_args, opts) => {
    const rows = await opRows();
    if (opts.json) {
      process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
      return 0;
    }
    const yes = (b: boolean): string => (b ? 'yes' : 'no');
    process.stdout.write(
      table(
        ['op', 'kind', 'vjp', 'wasm', 'wgsl', 'doc'],
        rows.map((r) => [r.op, r.kind, yes(r.vjp), yes(r.wasm), yes(r.wgsl), r.doc]),
      ),
    );
    return 0;
  },
});
