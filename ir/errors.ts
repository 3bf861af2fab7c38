// Diagnostics: one catalogue of codes, every error carries its code and (when known) the user's source location.
export interface Loc {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

export function formatLoc(loc: Loc): string {
  return `${loc.file}(${loc.line},${loc.col})`;
}

/** The catalogue. K1xxx: IR types and shapes; K2xxx: DSL layers; K3xxx: text format; K4xxx: verifier;
 *  K5xxx: passes and lowering; K6xxx: targets; K7xxx: runtime, artifacts, datasets, weights; K8xxx: CLI and files; K9001: kiln's own bugs. */
export const DIAGNOSTICS = {
  K1001: 'shape mismatch',
  K1002: 'dtype mismatch',
  K1003: 'bad attribute',
  K1004: 'wrong number of inputs',
  K1005: 'unknown op',
  K1006: 'bad axis',
  K2001: 'layer input mismatch',
  K2002: 'bad layer configuration',
  K3001: 'syntax error',
  K3002: 'undefined value',
  K4001: 'verifier: not SSA',
  K4002: 'verifier: type differs from inference',
  K4003: 'verifier: bad graph structure',
  K4004: 'kernel verifier: access outside its buffer',
  K4005: 'kernel verifier: name or loop variable out of scope',
  K4006: 'kernel verifier: unsafe in-place write',
  K4007: 'kernel verifier: dtype mismatch',
  K5001: 'no gradient',
  K5002: 'unsupported by pass',
  K6001: 'no lowering for op on target',
  K6002: 'program exceeds the target memory',
  K7001: 'bad artifact',
  K7002: 'bad runtime input',
  K7003: 'unsupported artifact format version',
  K7004: 'artifact file hash mismatch',
  K7005: 'bad memory plan',
  K7006: 'weights do not match the manifest',
  K7007: 'bad program module',
  K7008: 'backend unavailable',
  K7009: 'GPU failure',
  K7010: 'bad dataset',
  K7011: 'weights do not match the model',
  K7012: 'non-finite values',
  K7013: 'bad thread count',
  K7014: 'thread pool failure',
  K7015: 'bad WebGPU layout',
  K7016: 'bad WGSL module',
  K7017: 'bad dispatch size',
  K8001: 'bad command line',
  K8002: 'file cannot be read or written',
  K8003: 'model file does not load',
  K8004: 'model file does not type-check',
  K8005: 'output exists (--force overwrites)',
  K8006: 'interrupted',
  K8007: 'the WebGPU adapter cannot time kernels (no timestamp-query)',
  K9001: 'internal error (a kiln bug)',
} as const;

export type DiagnosticCode = keyof typeof DIAGNOSTICS;

export class KilnError extends Error {
  readonly code: DiagnosticCode;
  readonly loc: Loc | undefined;
  readonly detail: string;
  constructor(code: DiagnosticCode, detail: string, loc?: Loc) {
    super(`${loc ? formatLoc(loc) + ': ' : ''}error ${code}: ${detail}`);
    this.name = 'KilnError';
    this.code = code;
    this.loc = loc;
    this.detail = detail;
  }
  /** The same error, located at `loc` (if it had no location yet). */
  at(loc: Loc | undefined): KilnError {
    return this.loc || !loc ? this : new KilnError(this.code, this.detail, loc);
  }
}

export function fail(code: DiagnosticCode, detail: string, loc?: Loc): never {
  throw new KilnError(code, detail, loc);
}
