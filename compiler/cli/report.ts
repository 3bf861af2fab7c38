// The CLI's error boundary: every error reaching main becomes one message and an exit code.
import { CommanderError } from 'commander';
import { KilnError } from '../../ir/errors.ts';

export interface ReportOptions {
  readonly debug: boolean;
  readonly write: (text: string) => void;
}

/** The error as a K8001 message naming the command: commander's "error: unknown option '--x'" and its hint. */
function commanderMessage(e: CommanderError & { command?: string; accepted?: string[] }): string {
  const accepted = e.code === 'commander.unknownOption' && e.accepted && !e.message.includes('Did you mean') ? `\naccepted: ${e.accepted.join(', ')}` : '';
  const text = (e.message + accepted).replace(/^error: /, '').split('\n').filter((l) => l.trim() !== '').map((l) => l.replace(/^\((.*)\)$/, '$1').replace(/^Did/, 'did').replace(/\.$/, '')).join('; ');
  const where = e.command ? `${e.command}: ` : '';
  const help = e.command ? `kiln help ${e.command}` : 'kiln --help';
  return `error K8001: ${where}${text}; see ${help}`;
}

/** Prints `e` and returns the exit code. */
export function reportError(e: unknown, o: ReportOptions): number {
  if (e instanceof CommanderError) {
    o.write(commanderMessage(e) + '\n');
    return 1;
  }
  if (e instanceof KilnError || (e instanceof Error && /^error K\d{4}: /.test(e.message))) {
    o.write(e.message + '\n');
    if (o.debug && e.stack) o.write(e.stack + '\n');
    return 1;
  }
  throw e;
}
