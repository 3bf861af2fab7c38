// Ctrl-C during a long run: the first SIGINT asks the run to stop after the current step (the caller
// then says what was kept and where), a second one exits at once. Writes are synchronous and atomic
// (files.ts), so a signal never lands inside one: it is handled after the write has finished.
import { EXIT } from './report.ts';

export interface Interrupt {
  /** Whether Ctrl-C was pressed. */
  readonly requested: () => boolean;
  /** Removes the handler (Ctrl-C kills the process again). */
  readonly dispose: () => void;
}

export function catchInterrupt(write: (text: string) => void): Interrupt {
  let requested = false;
  const handler = (): void => {
    if (requested) process.exit(EXIT.interrupted);
    requested = true;
    write('\ninterrupt: stopping after this step (Ctrl-C again to quit at once)\n');
  };
  process.on('SIGINT', handler);
  return { requested: () => requested, dispose: () => process.off('SIGINT', handler) };
}

/** Runs a step generator to the end, letting the event loop (and so SIGINT) in every ~50 ms; undefined when interrupted. */
export async function drive<R>(run: Generator<void, R>, stop: Interrupt): Promise<R | undefined> {
  let last = performance.now();
  for (;;) {
    const r = run.next();
    if (r.done) return r.value;
    if (performance.now() - last > 50) {
      await new Promise((resolve) => setImmediate(resolve));
      last = performance.now();
    }
    if (stop.requested()) return undefined;
  }
}
