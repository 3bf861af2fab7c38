// The PyTorch peer: /usr/bin/python3 bench/torch_peer.py as a child process, one thread
// (OPENBLAS_NUM_THREADS=1, torch.set_num_threads(1)), or n with --threads (a child of its own). The case's arrays go through a temp folder;
// the child prepares the case once, then answers each `call` request with that one call's time, taken
// on its side (the pipe's round trip is not timed), so the harness's rounds interleave it like the others.
// The child is stopped between its requests (child.ts `Paused`): its OpenMP threads, spinning after a
// call, take no core from the impl timed next.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { ADAM, type Case, type Tensor } from '../cases.ts';
import type { Summary } from '../harness.ts';
import { Paused } from './child.ts';
import { BENCH_DIR } from './load.ts';
import type { Impl, Prepared } from './types.ts';

const PYTHON = process.env.KILN_BENCH_PYTHON ?? '/usr/bin/python3';
const threadEnv = (n: number): Record<string, string> => {
  const t = String(n);
  return { OPENBLAS_NUM_THREADS: t, OMP_NUM_THREADS: t, MKL_NUM_THREADS: t, KILN_TORCH_THREADS: t };
};

interface Reply {
  readonly error?: string;
  readonly version?: string;
  readonly id?: number;
  readonly ms?: number;
  readonly first?: Summary;
}

/** Writes the case's arrays as raw files and describes the case for the child. */
function describe(c: Case, dir: string): unknown {
  let n = 0;
  const file = (t: Tensor | { shape: readonly number[]; data: Float32Array }): unknown => {
    const name = `t${n++}.bin`;
    writeFileSync(join(dir, name), new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    return { file: name, shape: t.shape, dtype: t.data instanceof Int32Array ? 'i32' : 'f32' };
  };
  if (c.kind === 'matmul') return { kind: 'matmul', a: file(c.a), b: file(c.b) };
  return {
    kind: c.kind,
    input: c.spec.input,
    layers: c.spec.layers,
    adam: ADAM,
    weights: c.weights.map((ws) => ws.map(file)),
    x: file(c.x),
    ...(c.labels ? { labels: file(c.labels) } : {}),
  };
}

class TorchImpl implements Impl {
  readonly name = 'torch';
  private child: ChildProcessWithoutNullStreams | undefined;
  private paused: Paused | undefined;
  private lines: Interface | undefined;
  private stderr = '';

  constructor(readonly threads = 1) {}

  threaded(n: number): Impl {
    return new TorchImpl(n);
  }

  private ask(cmd: unknown): Promise<Reply> {
    const child = this.child!;
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null): void =>
        reject(new Error(`torch_peer.py exited (${code}): ${this.stderr.trim().split('\n').at(-1) ?? ''}`));
      child.once('exit', onExit);
      this.lines!.once('line', (l) => {
        child.off('exit', onExit);
        this.paused!.pause();
        try {
          resolve(JSON.parse(l) as Reply);
        } catch {
          reject(new Error(`torch_peer.py: unreadable reply ${l.slice(0, 200)}`));
        }
      });
      this.paused!.resume();
      child.stdin.write(`${JSON.stringify(cmd)}\n`);
    });
  }

  async load(): Promise<void> {
    const child = spawn(PYTHON, [join(BENCH_DIR, 'torch_peer.py')], {
      env: { ...process.env, ...threadEnv(this.threads) },
    });
    this.child = child;
    this.paused = new Paused(child);
    child.stderr.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (e) => reject(new Error(`${PYTHON}: ${e.message}`)));
    });
    this.lines = createInterface({ input: child.stdout });
    const hello = await this.ask({ cmd: 'hello' });
    if (hello.error) throw new Error(hello.error);
  }

  /** Asks and throws the child's error, if any. */
  private async must(cmd: unknown): Promise<Reply> {
    const r = await this.ask(cmd);
    if (r.error) throw new Error(r.error);
    return r;
  }

  async prepare(c: Case): Promise<Prepared> {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-bench-'));
    let id: number;
    try {
      const r = await this.must({ cmd: 'prepare', dir, case: describe(c, dir) });
      if (r.id === undefined) throw new Error('torch_peer.py: no id in its reply to prepare');
      id = r.id;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    let first: Summary | undefined;
    return {
      call: async () => {
        const r = await this.must({ cmd: 'call', id, summarize: first === undefined });
        if (r.ms === undefined) throw new Error('torch_peer.py: no time in its reply to call');
        first ??= r.first;
        return r.ms;
      },
      first: () => first,
      dispose: async () => void (await this.must({ cmd: 'dispose', id })),
    };
  }

  async close(): Promise<void> {
    this.paused?.resume();
    this.child?.stdin.end();
    this.child?.kill();
  }
}

export const torchPeer: Impl = new TorchImpl();
