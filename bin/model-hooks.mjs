// Module hooks for loading users' model files from anywhere (registered after tsx's by bin/kiln.js):
// - a .ts file outside node_modules is an ES module whatever package.json (if any) says, so a model
//   in a folder without `"type": "module"` loads instead of failing as CommonJS;
// - `import ... from 'kiln'` (and 'kiln/runtime', 'kiln/ir') resolves to this copy of kiln when the
//   model's folder has no kiln of its own in node_modules.
const ROOT = new URL('../', import.meta.url);
const EXPORTS = { kiln: 'compiler/index.ts', 'kiln/runtime': 'runtime/index.ts', 'kiln/ir': 'ir/index.ts' };

function asModule(r) {
  const ts =
    /\.(ts|tsx)$/.test(new URL(r.url).pathname) && r.url.startsWith('file:') && !r.url.includes('/node_modules/');
  return ts && r.format !== 'module' ? { ...r, format: 'module' } : r;
}

export async function resolve(specifier, context, next) {
  try {
    return asModule(await next(specifier, context));
  } catch (e) {
    const own = Object.hasOwn(EXPORTS, specifier) ? EXPORTS[specifier] : undefined;
    if (own === undefined || e?.code !== 'ERR_MODULE_NOT_FOUND') throw e;
    return asModule(await next(new URL(own, ROOT).href, context));
  }
}
