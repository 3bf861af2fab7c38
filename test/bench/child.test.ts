// bench/peers/child.ts: a threaded peer in a process of its own, stopped between its calls.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { casesOf, type Case } from '../../bench/cases.ts';
import { summaryDiff } from '../../bench/harness.ts';
import { inChild } from '../../bench/peers/child.ts';
import { kilnOn } from '../../bench/peers/kiln.ts';

/** The state letter (R, S, T...) of each child process of this one. */
function children(): string[] {
  const states: string[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // gone since the listing
    }
    // pid (comm) state ppid ...: comm may hold spaces, so read after its closing parenthesis
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(ppid) === process.pid) states.push(state!);
  }
  return states;
}

/** Whether a child of this process is stopped within a second (SIGSTOP is delivered asynchronously). */
async function stoppedChild(): Promise<boolean> {
  for (let t = 0; t < 100; t++) {
    if (children().includes('T')) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}

describe('bench: peers in a child process', () => {
  // kiln stands in for the threaded peers (onnxruntime-node and -web run in a child the same way; the
  // bench's peers are optional installs, kiln is not): on 2 threads in the child, on 1 here. The child
  // turns relaxed SIMD on as the bench does (fused multiply-adds) and this process may not, so the
  // outputs agree to float32 rounding, not bit for bit
  it('runs an impl on 2 threads in a child, its output as in process, the child stopped between calls', async () => {
    const c: Case = casesOf('matmul', 1234)[0]!;
    const here = kilnOn(1);
    const before = children().length;
    const impl = inChild('kiln', 2, () => 'unused');
    await impl.load();
    try {
      expect(children()).toHaveLength(before + 1);
      expect(await stoppedChild()).toBe(true); // stopped once it has answered
      const p = await impl.prepare(c);
      const ms = await p.call();
      expect(ms).toBeGreaterThan(0);
      expect(await stoppedChild()).toBe(true);
      const q = await here.prepare(c);
      await q.call();
      expect(summaryDiff(p.first()!, q.first()!)).toBeLessThan(1e-5);
      await p.dispose();
      await q.dispose();
    } finally {
      await impl.close?.();
    }
  }, 60_000);
});
