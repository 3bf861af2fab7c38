// kiln's command line: one module per command, each exporting `run(args) => exit code`.
import { KilnError } from '../../ir/errors.ts';

type Command = { run: (args: string[]) => Promise<number> | number; summary: string };

const COMMANDS: Record<string, () => Promise<Command>> = {
  ops: () => import('./ops.ts'),
  fmt: () => import('./fmt.ts'),
  eval: () => import('./eval.ts'),
  train: () => import('./train.ts'),
  demo: () => import('./demo.ts'),
  inspect: () => import('./inspect.ts'),
};

function usage(): string {
  return `usage: kiln <command> [options]\ncommands: ${Object.keys(COMMANDS).join(', ')}\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h') {
    process.stdout.write(usage());
    return name ? 0 : 1;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`kiln: unknown command '${name}'\n${usage()}`);
    return 1;
  }
  try {
    return await (await load()).run(args);
  } catch (e) {
    if (e instanceof KilnError) {
      process.stderr.write(`${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
