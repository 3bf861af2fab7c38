#!/usr/bin/env node
// The web app's dev server: serves examples/web/dist (node examples/web/build.mjs first) on 127.0.0.1
// with the two headers that make the page cross-origin isolated (Cross-Origin-Opener-Policy:
// same-origin, Cross-Origin-Embedder-Policy: require-corp), so that the page has SharedArrayBuffer and
// kiln's runtime runs the model's threaded wasm build on Web Workers. Any static server that sends
// those headers does the same; without them the runtime runs one thread and says so.
//   node examples/web/serve.mjs [port]        (default 8080)
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const TYPES = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
};

/** The headers of cross-origin isolation. */
export const ISOLATION = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
};

/** A request handler serving the files under `dist`, with `headers` on every reply. */
export function handler(dist, headers = ISOLATION) {
  return (req, res) => {
    const path = normalize(join(dist, decodeURIComponent(new URL(req.url, 'http://x').pathname)));
    const file = path.endsWith('/') ? join(path, 'index.html') : path;
    if (!file.startsWith(dist) || !existsSync(file)) {
      res.writeHead(404, headers).end();
      return;
    }
    const type = TYPES[extname(file)] ?? 'application/octet-stream';
    res.writeHead(200, { ...headers, 'content-type': type }).end(readFileSync(file));
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.argv[2] ?? 8080);
  const dist = join(dirname(fileURLToPath(import.meta.url)), 'dist');
  createServer(handler(dist)).listen(port, '127.0.0.1', () =>
    console.log(`examples/web/dist on http://127.0.0.1:${port}/ (cross-origin isolated: threads on)`),
  );
}
