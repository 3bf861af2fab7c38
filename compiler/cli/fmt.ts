// `kiln fmt <file.kir>`: parses, verifies and prints a program in canonical form.
import { parse } from '../../ir/parse.ts';
import { print } from '../../ir/print.ts';
import { verifyAll } from '../../ir/verify.ts';
import { defineCommand, flag } from './command.ts';
import { readText } from './files.ts';

export default defineCommand({
  name: 'fmt',
  summary: 'parse, verify and print a .kir file in canonical form',
  args: ['<file.kir>'],
  options: {
    noLocations: flag('leave out loc(...) annotations'),
    check: flag('print nothing; exit 1 when the file is not in canonical form'),
  },
  run: ([file], opts) => {
    const text = readText('fmt', file!);
    const graphs = parse(text, file);
    verifyAll(graphs);
    const out = print(graphs, { locations: !opts.noLocations });
    if (!opts.check) {
      process.stdout.write(out);
      return 0;
    }
    if (out === text) return 0;
    process.stderr.write(`${file}: not in canonical form; run kiln fmt ${file}\n`);
    return 1;
  },
});
