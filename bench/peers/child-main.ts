// A peer's process (child.ts): builds the impl it is asked for, in process, and answers each request
// of the bench with that call's time and the first output's summary.
import { setFlagsFromString } from 'node:v8';
import type { Reply, Request } from './child.ts';
import { kilnOn } from './kiln.ts';
import { ortNodeHere, ortWebHere } from './ort.ts';
import type { Impl, Prepared } from './types.ts';

/** The impls that run in a child, on n threads, in process (kiln: for the test of this machinery,
 *  which needs no optional peer). */
const HERE: Record<string, (n: number) => Impl> = {
  'onnxruntime-node': ortNodeHere,
  'onnxruntime-web': ortWebHere,
  kiln: kilnOn,
};

// as in the bench's process (run.ts)
setFlagsFromString('--experimental-wasm-relaxed-simd');
// peers' chatter must not reach the bench's stdout
console.log = console.info = console.warn = console.error;
let impl: Impl | undefined;
const cases: Prepared[] = [];

async function answer(req: Request): Promise<Reply> {
  switch (req.cmd) {
    case 'load': {
      const make = HERE[req.impl];
      if (!make) throw new Error(`no impl '${req.impl}' runs in a child`);
      impl = make(req.threads);
      await impl.load();
      return {};
    }
    case 'prepare':
      cases.push(await impl!.prepare(req.case));
      return { id: cases.length - 1 };
    case 'call': {
      const p = cases[req.id]!;
      const ms = await p.call();
      return { ms, first: p.first() };
    }
    case 'dispose':
      await cases[req.id]!.dispose();
      return {};
  }
}

process.on('message', (m) => {
  answer(m as Request).then(
    (r) => process.send!(r),
    (e: unknown) => process.send!({ error: e instanceof Error ? e.message : String(e) }),
  );
});
process.on('disconnect', () => process.exit(0));
