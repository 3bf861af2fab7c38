// A tiny flag parser shared by every command: `--flag`, `--flag value`, `--flag=value`, positionals,
// `--` ends the flags. Mistakes are K8001 errors that name the command and list what it accepts.
import { readFileSync } from 'node:fs';
import { fail } from '../../ir/errors.ts';

export interface FlagSpec {
  readonly type: 'boolean' | 'string';
  readonly help: string;
}

export interface CommandSpec {
  readonly name: string;
  /** e.g. '<file.kir>' */
  readonly usage: string;
  readonly flags: Readonly<Record<string, FlagSpec>>;
}

export interface ParsedArgs {
  readonly flags: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
}

/** `usage: kiln fmt <file.kir> [options]` and one line per flag. */
export function usageOf(spec: CommandSpec): string {
  const flags = Object.entries(spec.flags).map(([k, f]) => `  --${k}${f.type === 'string' ? ' <value>' : ''}  ${f.help}`);
  return [`usage: kiln ${spec.name} ${spec.usage}`.trimEnd(), ...flags, '  --help  print this help'].join('\n') + '\n';
}

export function parseArgs(spec: CommandSpec, args: readonly string[]): ParsedArgs {
  const flags: Record<string, string | boolean | undefined> = {};
  const positionals: string[] = [];
  const accepted = (): string => Object.keys(spec.flags).map((k) => `--${k}`).join(', ') || 'none';
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') { positionals.push(...args.slice(i + 1)); break; }
    if (!a.startsWith('--') || a === '-') { positionals.push(a); continue; }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    if (name === 'help') { flags.help = true; continue; }
    const f = spec.flags[name];
    if (!f) fail('K8001', `${spec.name}: unknown flag '--${name}'; accepted: ${accepted()}`);
    if (f.type === 'boolean') {
      if (eq >= 0) fail('K8001', `${spec.name}: flag --${name} takes no value`);
      flags[name] = true;
      continue;
    }
    const value = eq >= 0 ? a.slice(eq + 1) : args[++i];
    if (value === undefined || (eq < 0 && value.startsWith('--'))) fail('K8001', `${spec.name}: flag --${name} needs a value`);
    flags[name] = value;
  }
  return { flags, positionals };
}

/** The string value of a required flag. */
export function requireFlag(spec: CommandSpec, parsed: ParsedArgs, name: string): string {
  const v = parsed.flags[name];
  if (typeof v !== 'string') fail('K8001', `${spec.name}: missing --${name} <value> (${spec.flags[name]?.help ?? ''}); usage: kiln ${spec.name} ${spec.usage}`);
  return v;
}

/** Exactly `count` positionals, else K8001 with the usage. */
export function requirePositionals(spec: CommandSpec, parsed: ParsedArgs, count: number): readonly string[] {
  if (parsed.positionals.length !== count) {
    fail('K8001', `${spec.name}: expected ${count} argument${count === 1 ? '' : 's'} (${spec.usage}), got ${parsed.positionals.length}`);
  }
  return parsed.positionals;
}

/** A file's text, or K8001 naming the file and the command when it cannot be read. */
export function readText(command: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    return fail('K8001', `${command}: cannot read '${path}': ${why}`);
  }
}
