// Starting a model from saved weights (`kiln train --init FILE`) and freezing params by name
// (`--freeze 'conv2d_*'`). Initialization loads the model's own params that the file holds and
// leaves the others at their initializers, saying which; a tensor whose name matches but whose dtype
// or shape differs (or whose values are not finite) is refused with an error naming it. The
// optimizer's state (slots, step counters) is never needed and never loaded, so weights saved under
// one optimizer start a run under another; --resume is the way to continue a run.
import { fail } from '../../ir/errors.ts';
import { matchWeights, type NamedArray } from '../../runtime/safetensors.ts';
import { ITERATIONS } from '../passes/train-step.ts';

export interface InitReport {
  /** Model params set from the file. */
  readonly loaded: readonly string[];
  /** Tensors of the file not used, and why. */
  readonly skipped: readonly { readonly name: string; readonly why: string }[];
  /** Model params the file does not hold: left at their initializers. */
  readonly initialized: readonly string[];
}

/** The optimizer's own params: step counters (`optimizer/iterations`, `<entry>/iterations`) and the
 *  slots `<param>/<slot>` of another param. */
export function isOptimizerState(name: string, all: ReadonlySet<string>): boolean {
  if (name === ITERATIONS || name.endsWith('/iterations')) return true;
  const cut = name.lastIndexOf('/');
  return cut > 0 && all.has(name.slice(0, cut));
}

export const OPTIMIZER_STATE =
  'optimizer state: a run from --init starts its optimizer afresh; --resume continues a run';
export const NOT_IN_MODEL = 'the model has no such param';

/** Which of `saved` to load into a session whose params are `current`, and what becomes of the rest. */
export function planInit(
  current: Readonly<Record<string, NamedArray>>,
  saved: Readonly<Record<string, NamedArray>>,
  source = 'the weights file',
): { load: Record<string, NamedArray>; report: InitReport } {
  const names = new Set(Object.keys(current));
  const savedNames = new Set(Object.keys(saved));
  const expected = Object.fromEntries(
    [...names]
      .filter((n) => !isOptimizerState(n, names))
      .map((n) => [n, { dtype: current[n]!.dtype, shape: current[n]!.shape }]),
  );
  const own = Object.fromEntries(
    Object.entries(saved).filter(([n]) => !isOptimizerState(n, savedNames) && !isOptimizerState(n, names)),
  );
  const m = matchWeights(own, expected, { partial: true, source });
  if (m.loaded.length === 0)
    fail(
      'K7011',
      `${source} holds none of the model's params (it has ${[...savedNames].slice(0, 6).join(', ')}${savedNames.size > 6 ? ', ...' : ''}); it was saved from a different model`,
    );
  const skipped = [
    ...Object.keys(saved)
      .filter((n) => !(n in own))
      .map((name) => ({ name, why: OPTIMIZER_STATE })),
    ...m.unexpected.map((name) => ({ name, why: NOT_IN_MODEL })),
  ];
  return {
    load: Object.fromEntries(m.loaded.map((n) => [n, saved[n]!])),
    report: { loaded: m.loaded, skipped, initialized: m.missing },
  };
}

/** The report as lines for the terminal. */
export function formatInitReport(file: string, r: InitReport): string {
  const lines = [
    `init from ${file}: loaded ${r.loaded.length}, skipped ${r.skipped.length}, left at initialization ${r.initialized.length}`,
  ];
  if (r.loaded.length) lines.push(`  loaded: ${r.loaded.join(', ')}`);
  const byWhy = new Map<string, string[]>();
  for (const s of r.skipped) byWhy.set(s.why, [...(byWhy.get(s.why) ?? []), s.name]);
  for (const [why, names] of byWhy) lines.push(`  skipped (${why}): ${names.join(', ')}`);
  if (r.initialized.length) lines.push(`  left at initialization: ${r.initialized.join(', ')}`);
  return lines.join('\n') + '\n';
}

/** A glob over param names: `*` matches any run of characters; a pattern matches a param when it matches
 *  its whole name or a leading part of it that ends before a '/' (`conv2d_*` freezes `conv2d_1/kernel`). */
export function freezePredicate(patterns: readonly string[]): (paramName: string) => boolean {
  const res = patterns.map((p) => {
    if (!/^[A-Za-z0-9_.*/-]+$/.test(p))
      fail('K8001', `train: --freeze pattern '${p}' may hold letters, digits, _ . - / and the wildcard *`);
    return new RegExp(`^${p.replace(/[.]/g, '\\.').replace(/\*/g, '.*')}(/|$)`);
  });
  return (name) => res.some((re) => re.test(name));
}
