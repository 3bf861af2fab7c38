// Threaded peers in a process of their own, stopped between their calls. A native thread pool
// (onnxruntime's, PyTorch's OpenMP) keeps its threads spinning for a while after each call; in the
// bench's process, or merely running beside it, they would take the cores of the impl timed next. So
// such a peer runs in a child (child-main.ts: the same Impl there, in process), its calls timed on its
// side, and the child is stopped (SIGSTOP) from each reply until the next request (SIGCONT): while
// another impl is timed, none of its threads can run.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Case } from '../cases.ts';
import type { Summary } from '../harness.ts';
import type { Impl, Prepared } from './types.ts';

/** Stops a child between requests: `resume` before one, `pause` after its reply. Children still
 *  stopped when the bench exits are resumed and killed. */
export class Paused {
  private static all = new Set<ChildProcess>();
  static {
    process.once('exit', () => {
      for (const c of Paused.all) {
        c.kill('SIGCONT');
        c.kill('SIGKILL');
      }
    });
  }
  constructor(private readonly child: ChildProcess) {
    Paused.all.add(child);
    child.once('exit', () => Paused.all.delete(child));
  }
  resume(): void {
    if (this.child.exitCode === null) this.child.kill('SIGCONT');
  }
  pause(): void {
    if (this.child.exitCode === null) this.child.kill('SIGSTOP');
  }
}

/** A request to child-main.ts and its reply. */
export type Request =
  | { cmd: 'load'; impl: string; threads: number }
  | { cmd: 'prepare'; case: Case }
  | { cmd: 'call'; id: number }
  | { cmd: 'dispose'; id: number };
export interface Reply {
  readonly error?: string;
  readonly id?: number;
  readonly ms?: number;
  readonly first?: Summary;
}

const MAIN = fileURLToPath(new URL('./child-main.ts', import.meta.url));

/** `name` on `threads` threads (as child-main.ts builds it) in a child process of its own. */
export function inChild(name: string, threads: number, threaded: (n: number) => Impl | string): Impl {
  let child: ChildProcess | undefined;
  let paused: Paused | undefined;
  let queue = Promise.resolve();
  // one request at a time: the child answers in order
  const ask = (req: Request): Promise<Reply> => {
    const reply = queue.then(
      () =>
        new Promise<Reply>((resolve, reject) => {
          const c = child!;
          const onExit = (code: number | null): void => reject(new Error(`${name}: its process exited (${code})`));
          c.once('exit', onExit);
          c.once('message', (m) => {
            c.off('exit', onExit);
            paused!.pause();
            const r = m as Reply;
            if (r.error) reject(new Error(r.error));
            else resolve(r);
          });
          paused!.resume();
          c.send(req);
        }),
    );
    queue = reply.then(
      () => undefined,
      () => undefined,
    );
    return reply;
  };
  return {
    name,
    threads,
    threaded,
    async load() {
      // TypeScript through tsx, as the bench itself runs
      child = fork(MAIN, [], {
        execArgv: ['--import', 'tsx'],
        serialization: 'advanced',
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      });
      paused = new Paused(child);
      await ask({ cmd: 'load', impl: name, threads });
    },
    async prepare(c: Case): Promise<Prepared> {
      const { id } = await ask({ cmd: 'prepare', case: c });
      let first: Summary | undefined;
      return {
        async call() {
          const r = await ask({ cmd: 'call', id: id! });
          first ??= r.first;
          return r.ms!;
        },
        first: () => first,
        dispose: async () => void (await ask({ cmd: 'dispose', id: id! })),
      };
    },
    async close() {
      child?.kill('SIGCONT');
      child?.kill();
    },
  };
}
