// Vitest global setup: builds the published runtime (dist/, npm run build:runtime) once before the
// test files run, so the tests of the built runtime, the generated API, the Node app and the web app
// (test/artifact/published.test.ts, test/browser/) read one finished build instead of racing to make it.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  execFileSync(process.execPath, ['scripts/build-runtime.mjs'], { cwd: root, stdio: 'inherit' });
}
