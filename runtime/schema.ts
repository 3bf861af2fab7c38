// A small JSON Schema checker for the subset manifest.schema.json uses (type, const, enum, pattern,
// minimum, maximum, minItems, maxItems, items, properties, required, additionalProperties,
// propertyNames, $ref to #/definitions). The runtime checks manifests against the schema itself
// rather than a second hand-written copy of it; the tests check that it agrees with ajv.

export interface Schema {
  readonly type?: string;
  readonly const?: unknown;
  readonly enum?: readonly unknown[];
  readonly pattern?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly items?: Schema;
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: Schema | boolean;
  readonly propertyNames?: Schema;
  readonly $ref?: string;
  readonly definitions?: Readonly<Record<string, Schema>>;
}

const typeOf = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v;

const show = (v: unknown): string => {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
};

/** The first place where `value` breaks `schema`, as 'path: expected ..., found ...', or null. */
export function checkSchema(value: unknown, root: Schema): string | null {
  const walk = (v: unknown, s: Schema, path: string): string | null => {
    if (s.$ref) {
      const def = root.definitions?.[s.$ref.replace('#/definitions/', '')];
      if (!def) return `${path}: schema names unknown ${s.$ref}`;
      return walk(v, def, path);
    }
    const at = path || '(root)';
    const t = typeOf(v);
    if (s.type && t !== s.type && !(s.type === 'number' && t === 'integer'))
      return `${at}: expected ${s.type}, found ${show(v)}`;
    if ('const' in s && v !== s.const) return `${at}: expected ${show(s.const)}, found ${show(v)}`;
    if (s.enum && !s.enum.includes(v)) return `${at}: expected one of ${s.enum.map(show).join(', ')}, found ${show(v)}`;
    if (s.pattern && (typeof v !== 'string' || !new RegExp(s.pattern).test(v)))
      return `${at}: expected a string matching /${s.pattern}/, found ${show(v)}`;
    if (typeof v === 'number') {
      if (s.minimum !== undefined && v < s.minimum) return `${at}: expected >= ${s.minimum}, found ${v}`;
      if (s.maximum !== undefined && v > s.maximum) return `${at}: expected <= ${s.maximum}, found ${v}`;
    }
    if (Array.isArray(v)) {
      if (s.minItems !== undefined && v.length < s.minItems)
        return `${at}: expected at least ${s.minItems} items, found ${v.length}`;
      if (s.maxItems !== undefined && v.length > s.maxItems)
        return `${at}: expected at most ${s.maxItems} items, found ${v.length}`;
      if (s.items) {
        for (let i = 0; i < v.length; i++) {
          const e = walk(v[i], s.items, `${path}[${i}]`);
          if (e) return e;
        }
      }
    }
    if (t === 'object') {
      const o = v as Record<string, unknown>;
      for (const k of s.required ?? []) if (!Object.hasOwn(o, k)) return `${at}: expected a field '${k}', found none`;
      for (const [k, x] of Object.entries(o)) {
        const e =
          (s.propertyNames && walk(k, s.propertyNames, `${path}{key ${show(k)}}`)) ||
          (s.properties && Object.hasOwn(s.properties, k)
            ? walk(x, s.properties[k]!, `${path}.${k}`)
            : s.additionalProperties === false
              ? `${at}: unexpected field '${k}'`
              : typeof s.additionalProperties === 'object'
                ? walk(x, s.additionalProperties, `${path}.${k}`)
                : null);
        if (e) return e;
      }
    }
    return null;
  };
  return walk(value, root, '');
}
