// The runtime's typed errors: ir/errors.ts's KilnError (a leaf module with no imports), so an app
// catches one class whether the compiler or the runtime threw. Codes K7001-K7008: bad artifact,
// bad call input, unsupported format version, hash mismatch, bad memory plan, weights mismatch,
// bad program module, backend unavailable, K7009 GPU failure.
import { KilnError, type DiagnosticCode } from '../ir/errors.ts';

export { KilnError };
export type RuntimeCode = Extract<DiagnosticCode, `K70${string}`>;

export function bad(code: RuntimeCode, detail: string): never {
  throw new KilnError(code, detail);
}
