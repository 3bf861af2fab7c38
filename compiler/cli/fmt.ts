// `kiln fmt <file.kir>`: parses, verifies and prints a program in canonical form.
import { parse } from '../../ir/parse.ts';
import { print } from '../../ir/print.ts';
import { verifyAll } from '../../ir/verify.ts';
import { parseArgs, readText, requirePositionals, usageOf, type CommandSpec } from './args.ts';

export const summary = 'parse, verify and print a .kir file in canonical form';

const SPEC: CommandSpec = {
  name: 'fmt',
  usage: '<file.kir> [--no-locations] [--check]',
  flags: {
    'no-locations': { type: 'boolean', help: 'leave out loc(...) annotations' },
    check: { type: 'boolean', help: 'print nothing; exit 1 when the file is not in canonical form' },
  },
};

export function run(args: string[]): number {
  const parsed = parseArgs(SPEC, args);
  if (parsed.flags.help) { process.stdout.write(usageOf(SPEC)); return 0; }
  const [file] = requirePositionals(SPEC, parsed, 1);
  const text = readText('fmt', file!);
  const graphs = parse(text, file);
  verifyAll(graphs);
  const out = print(graphs, { locations: !parsed.flags['no-locations'] });
  if (!parsed.flags.check) {
    process.stdout.write(out);
    return 0;
  }
  if (out === text) return 0;
  process.stderr.write(`${file}: not in canonical form; run kiln fmt ${file}\n`);
  return 1;
}
