// A line diff (longest common subsequence) printed as a unified diff with 3 lines of context:
// what a pass changed in the text of a stage.

export type DiffLine = { readonly op: ' ' | '-' | '+'; readonly text: string };

/** The edit script turning `a` into `b`, line by line (kept, removed, added). */
export function diffLines(a: readonly string[], b: readonly string[]): DiffLine[] {
  // common prefix and suffix first: passes change a few lines of a long text
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const x = a.slice(pre, a.length - suf),
    y = b.slice(pre, b.length - suf);
  const n = x.length,
    m = y.length;
  // lcs[i][j]: length of the LCS of x[i..] and y[j..]
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--)
      lcs[i]![j] = x[i] === y[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  }
  const out: DiffLine[] = a.slice(0, pre).map((text) => ({ op: ' ', text }));
  let i = 0,
    j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) {
      out.push({ op: ' ', text: x[i++]! });
      j++;
    } else if (i < n && (j === m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) out.push({ op: '-', text: x[i++]! });
    else out.push({ op: '+', text: y[j++]! });
  }
  for (const text of a.slice(a.length - suf)) out.push({ op: ' ', text });
  return out;
}

/** `--- from` / `+++ to` and `@@ -l,n +l,n @@` hunks; '' when the texts are equal. */
export function unifiedDiff(from: string, to: string, a: string, b: string, context = 3): string {
  const d = diffLines(a.split('\n'), b.split('\n'));
  if (d.every((l) => l.op === ' ')) return '';
  const out = [`--- ${from}`, `+++ ${to}`];
  const changed = d.map((l, i) => (l.op === ' ' ? -1 : i)).filter((i) => i >= 0);
  // hunks: runs of changes closer than 2*context lines, with context around them
  let k = 0;
  while (k < changed.length) {
    let end = k;
    while (end + 1 < changed.length && changed[end + 1]! - changed[end]! <= 2 * context) end++;
    const lo = Math.max(0, changed[k]! - context),
      hi = Math.min(d.length, changed[end]! + context + 1);
    let la = 1,
      lb = 1;
    for (const l of d.slice(0, lo)) {
      if (l.op !== '+') la++;
      if (l.op !== '-') lb++;
    }
    const body = d.slice(lo, hi);
    const na = body.filter((l) => l.op !== '+').length,
      nb = body.filter((l) => l.op !== '-').length;
    out.push(`@@ -${la},${na} +${lb},${nb} @@`, ...body.map((l) => l.op + l.text));
    k = end + 1;
  }
  return out.join('\n') + '\n';
}
