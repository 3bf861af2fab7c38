// Where an artifact's files come from: a folder path (Node's fs), a URL (fetch; file: URLs through
// fs in Node), or the files themselves by name (bundlers, tests). The bytes are checked against
// the manifest's hashes by the caller before use.
import { bad, KilnError } from './errors.ts';

export type ArtifactSource = string | URL | Readonly<Record<string, Uint8Array>>;

const isNode = (): boolean => typeof process !== 'undefined' && typeof process.versions?.node === 'string';
const isUrl = (s: string): boolean =>
  /^[a-z][a-z0-9+.-]*:\/\//i.test(s) || s.startsWith('blob:') || s.startsWith('data:');

// Kept out of static imports so browser bundles never see node:fs.
const nodeFs = (): Promise<typeof import('node:fs/promises')> =>
  import(/* @vite-ignore */ ['node', 'fs/promises'].join(':'));
const nodeUrl = (): Promise<typeof import('node:url')> => import(/* @vite-ignore */ ['node', 'url'].join(':'));

/** Reads one file of the artifact by its plain name; a file larger than `maxBytes` is refused
 *  before it is read (K7004), so a hostile artifact cannot make the runtime allocate without bound. */
export type FileReader = (name: string, maxBytes: number) => Promise<Uint8Array>;

const tooBig = (name: string, size: number, max: number): never =>
  bad('K7004', `${name}: expected at most ${max} bytes, found ${size}`);

export function fileReader(source: ArtifactSource): FileReader {
  if (typeof source === 'object' && !(source instanceof URL)) {
    return async (name, max) => {
      const f = Object.hasOwn(source, name) ? source[name] : undefined;
      if (!(f instanceof Uint8Array))
        bad(
          'K7001',
          `${name}: expected among the artifact's files, found only ${Object.keys(source).join(', ') || 'none'}`,
        );
      if (f.length > max) tooBig(name, f.length, max);
      return f;
    };
  }
  const base = typeof source === 'string' && !isUrl(source) ? null : new URL(String(source).replace(/\/?$/, '/'));
  if (base && (base.protocol !== 'file:' || !isNode())) {
    return async (name, max) => {
      const url = new URL(name, base);
      let res: Response;
      try {
        res = await fetch(url);
      } catch (e) {
        return bad('K7001', `${name}: expected to fetch ${url}, found a network error (${(e as Error).message})`);
      }
      if (!res.ok) bad('K7001', `${name}: expected HTTP 200 from ${url}, found ${res.status}`);
      const length = Number(res.headers.get('content-length') ?? 0);
      if (length > max) tooBig(name, length, max);
      const bytes = new Uint8Array(await res.arrayBuffer());
      if (bytes.length > max) tooBig(name, bytes.length, max);
      return bytes;
    };
  }
  return async (name, max) => {
    const dir = base ? (await nodeUrl()).fileURLToPath(base) : String(source);
    const path = `${dir.replace(/[\\/]$/, '')}/${name}`;
    const fs = await nodeFs();
    try {
      const size = (await fs.stat(path)).size;
      if (size > max) tooBig(name, size, max);
      return new Uint8Array(await fs.readFile(path));
    } catch (e) {
      if (e instanceof KilnError) throw e;
      const code = (e as { code?: string }).code;
      return bad(
        'K7001',
        `${name}: expected a file at ${path}, found ${code === 'ENOENT' ? 'none' : (e as Error).message}`,
      );
    }
  };
}

/** Writes `bytes` to `path` atomically in Node: a temporary file next to it, then a rename. */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  if (!isNode())
    bad('K7008', `writing ${path}: expected Node's fs, found a runtime without it; keep the bytes instead`);
  const fs = await nodeFs();
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await fs.writeFile(tmp, bytes);
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}
