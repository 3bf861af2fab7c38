// kiln's command line: one module per command (a `defineCommand` default export), one line each in COMMANDS.
// `kiln --help` lists them with their summaries, `kiln help <command>` or `kiln <command> -h` shows one.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { fail } from '../../ir/errors.ts';
import type { AnyCommand } from './command.ts';
import demo from './demo.ts';
import evalCommand from './eval.ts';
import fmt from './fmt.ts';
import inspect from './inspect.ts';
import ops from './ops.ts';
import { reportError } from './report.ts';
import train from './train.ts';
import compile from './compile.ts';
import runArtifact from './run.ts';

/** Every command, in the order `kiln --help` lists them. */
const COMMANDS: readonly AnyCommand[] = [train, inspect, demo, ops, fmt, evalCommand, compile, runArtifact];

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

function program(done: (code: number) => void): Command {
  const p = new Command('kiln')
    .description('compile deep-learning models written in TypeScript into fused WebAssembly kernels, and train them')
    .version(VERSION, '--version', 'print the version')
    .option('--debug', 'print stack traces with errors')
    .helpCommand('help [command]', 'show help for a command')
    .showSuggestionAfterError(true)
    .configureOutput({ outputError: () => {} }) // errors are printed once, by reportError
    .exitOverride();
  for (const c of COMMANDS) c.attach(p, done);
  return p;
}

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const debug = argv.includes('--debug');
  try {
    const [first, second] = argv;
    if (
      first === 'help' &&
      second !== undefined &&
      !second.startsWith('-') &&
      !COMMANDS.some((c) => c.name === second)
    ) {
      fail('K8001', `help: unknown command '${second}'; the commands are ${COMMANDS.map((c) => c.name).join(', ')}`);
    }
    await program((c) => (code = c)).parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    // --help, --version, `kiln help <command>` (0), `kiln` alone (help on stderr, 1)
    if (
      e instanceof CommanderError &&
      ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(e.code)
    )
      return e.exitCode;
    return reportError(e, { debug, write: (s) => process.stderr.write(s) });
  }
}
