// The command framework over `commander`: a command is one module exporting `defineCommand({...})`
// (its name, summary, positionals, options and `run`), listed by one line in main.ts's COMMANDS. An
// option is one declaration: `epochs: int('number of epochs', { min: 1, default: 1 })` becomes
// `--epochs <n>`, parsed and checked before `run` sees it as `opts.epochs: number`.
import { Command, Option } from 'commander';
import { fail } from '../../ir/errors.ts';

/** One option of a command: how its flag is spelled and how its value is read. */
export interface OptionDecl<T> {
  readonly help: string;
  /** The placeholder in `--name <value>`; absent for a boolean flag. */
  readonly value?: string;
  /** `previous`: the value so far, when the option is given more than once. */
  readonly parse: (raw: string, previous?: unknown) => T;
  readonly default?: T;
  readonly required?: boolean;
  /** A short alias, e.g. '-o'. */
  readonly short?: string;
}

type Decls = Readonly<Record<string, OptionDecl<unknown>>>;

/** The values `run` receives: a flag is a boolean; an option with a default or `required` always has a value. */
export type OptionValues<O extends Decls> = {
  readonly [K in keyof O]: O[K] extends OptionDecl<infer T>
    ? O[K] extends { default: T } | { required: true }
      ? T
      : T | undefined
    : never;
};

export interface CommandDef<O extends Decls> {
  readonly name: string;
  /** One line, shown in `kiln --help`. */
  readonly summary: string;
  /** Positionals as commander spells them: '<model.ts>', '[file]', '<files...>'. */
  readonly args?: readonly string[];
  readonly options: O;
  /** Longer help after the option list (examples, notes). */
  readonly epilog?: string;
  readonly run: (args: string[], opts: OptionValues<O>) => Promise<number> | number;
}

/** A command of the table; the type parameter is erased so the table can list them all. */
export interface AnyCommand {
  readonly name: string;
  readonly summary: string;
  /** Adds this command, its options and action to `program`; the action reports its exit code to `done`. */
  readonly attach: (program: Command, done: (code: number) => void) => Command;
}

export function defineCommand<O extends Decls>(def: CommandDef<O>): AnyCommand {
  return { name: def.name, summary: def.summary, attach: (program, done) => attach(program, def, done) };
}

/** `--foo-bar` for key `fooBar`. */
export const flagName = (key: string): string => '--' + key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());

function attach<O extends Decls>(program: Command, def: CommandDef<O>, done: (code: number) => void): Command {
  const cmd = program.command(def.name).description(def.summary);
  cmd.exitOverride((e) => {
    throw Object.assign(e, { command: def.name, accepted: cmd.options.map((o) => o.long) });
  });
  for (const a of def.args ?? []) cmd.argument(a);
  const read: [string, (all: Record<string, unknown>) => unknown][] = [];
  for (const [key, d] of Object.entries(def.options)) {
    const long = flagName(key);
    const o = new Option(`${d.short ? d.short + ', ' : ''}${long}${d.value ? ` <${d.value}>` : ''}`, d.help);
    if (d.value) {
      // A bad value is a K8001 naming the command and the flag (thrown past commander, which rethrows it).
      o.argParser((raw: string, previous: unknown) => {
        try {
          return d.parse(raw, previous);
        } catch (e) {
          return usageError(def.name, `${long} ${(e as Error).message}`);
        }
      });
      if (d.default !== undefined) o.default(d.default, String(d.default));
    }
    if (d.required) o.makeOptionMandatory();
    cmd.addOption(o);
    const attr = o.attributeName();
    // `--no-x` is commander's negation of x (true unless given); the declaration's key reads `given`.
    read.push([key, (all) => (!d.value && o.negate ? all[attr] === false : d.value ? all[attr] : all[attr] === true)]);
  }
  if (def.epilog) cmd.addHelpText('after', '\n' + def.epilog);
  cmd.action(async (...params: unknown[]) => {
    const c = params[params.length - 1] as Command;
    const all = c.opts();
    const opts = Object.fromEntries(read.map(([k, get]) => [k, get(all)])) as OptionValues<O>;
    const args = (c.processedArgs.flat() as (string | undefined)[]).filter((a): a is string => a !== undefined);
    done(await def.run(args, opts));
  });
  return cmd;
}

// ---- option kinds: each returns one declaration ----

/** A boolean switch `--name`. Spell the key `noX` for a `--no-x` that turns something off. */
export function flag(help: string): OptionDecl<boolean> & { default: boolean } {
  return { help, parse: () => true, default: false };
}

/** A string value `--name <value>`. */
export function text<const T extends { default?: string; required?: boolean; value?: string; short?: string }>(
  help: string,
  o: T = {} as T,
): OptionDecl<string> & T {
  return { help, value: o.value ?? 'value', parse: (raw) => raw, ...o };
}

/** One of a fixed list of strings. */
export function choice<const C extends readonly string[], const T extends { default?: C[number]; required?: boolean }>(
  help: string,
  choices: C,
  o: T = {} as T,
): OptionDecl<C[number]> & T {
  const parse = (raw: string): C[number] => {
    if (!choices.includes(raw)) throw new Error(`'${raw}' is not one of ${choices.join(', ')}`);
    return raw;
  };
  return { help: `${help}: ${choices.join(' | ')}`, value: 'name', parse, ...o };
}

/** A string value that may be given several times (`--input a --input b`), collected in order. */
export function list(help: string, o: { value?: string } = {}): OptionDecl<string[]> {
  return {
    help: `${help} (repeatable)`,
    value: o.value ?? 'value',
    parse: (raw, previous) => [...((previous as string[] | undefined) ?? []), raw],
  };
}

/** An integer `--name <n>` at least `min` (default 1) and at most `max`. */
export function int<
  const T extends { default?: number; required?: boolean; min?: number; max?: number; value?: string },
>(help: string, o: T = {} as T): OptionDecl<number> & T {
  const min = o.min ?? 1;
  const max = o.max ?? Number.MAX_SAFE_INTEGER;
  const parse = (raw: string): number => {
    const n = raw.trim() === '' ? NaN : Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new Error(
        `must be an integer ${max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`}, got '${raw}'`,
      );
    }
    return n;
  };
  return { help, value: o.value ?? 'n', parse, ...o };
}

/** A K8001 naming the command, for a mistake in its arguments that the declarations cannot state. */
export function usageError(command: string, detail: string): never {
  return fail('K8001', `${command}: ${detail}; see kiln help ${command}`);
}
