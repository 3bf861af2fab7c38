// A bench case as plain JSON for the WebGPU bench page (typed arrays as tagged number lists: what
// page.evaluate passes), and the requests the page's tfjs answers.
export type TfjsRequest =
  | { readonly op: 'load' }
  | { readonly op: 'prepare'; readonly case: unknown }
  | { readonly op: 'call' | 'dispose'; readonly id: number };

type Tagged = { readonly $typed: 'f32' | 'i32'; readonly data: number[] };

/** `x` with every Float32Array and Int32Array as a Tagged list. */
export function toPlain(x: unknown): unknown {
  if (x instanceof Float32Array || x instanceof Int32Array)
    return { $typed: x instanceof Float32Array ? 'f32' : 'i32', data: Array.from(x) } satisfies Tagged;
  if (Array.isArray(x)) return x.map(toPlain);
  if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, toPlain(v)]));
  return x;
}

/** toPlain undone. */
export function fromPlain(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(fromPlain);
  if (x && typeof x === 'object') {
    const t = x as Tagged;
    if (t.$typed) return t.$typed === 'f32' ? Float32Array.from(t.data) : Int32Array.from(t.data);
    return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, fromPlain(v)]));
  }
  return x;
}
