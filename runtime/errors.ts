// The runtime's typed errors: the same codes and message shape as ir/errors.ts's KilnError
// (K7001 bad artifact, K7002 bad runtime input), without importing compiler code.
export class RuntimeError extends Error {
  constructor(readonly code: 'K7001' | 'K7002', readonly detail: string) {
    super(`error ${code}: ${detail}`);
    this.name = 'KilnError';
  }
}
