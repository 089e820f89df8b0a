import { parse } from 'shell-quote';
import { GatewayError } from '../runtime/errors.js';

export interface CommandLine {
  command: string;
  args: string[];
}

interface VariableRef {
  variable: string;
}

const NO_SHELL_HINT =
  'the server is started without a shell: pass one command with its arguments, quote arguments that contain special characters, and set variables with --env K=V';

/**
 * Splits `--command "npx -y pkg /dir"` into a command and its arguments. The bridge spawns it
 * without a shell, so anything only a shell would act on (pipes, redirects, globs, `$VAR`) is
 * refused here instead of being passed on literally and failing at the first connection.
 */
export function parseCommandLine(text: string): CommandLine {
  const entries = parse(text, (variable): VariableRef => ({ variable }));
  const words: string[] = [];
  for (const entry of entries) {
    if (typeof entry === 'string') {
      words.push(entry);
    } else if ('variable' in entry) {
      throw new GatewayError('ERR_USAGE', `--command refers to the variable $${entry.variable}, which would not be expanded`, { hint: NO_SHELL_HINT });
    } else if ('comment' in entry) {
      throw new GatewayError('ERR_USAGE', `--command contains a comment (#${entry.comment})`, { hint: NO_SHELL_HINT });
    } else if (entry.op === 'glob') {
      throw new GatewayError('ERR_USAGE', `--command contains the glob pattern ${entry.pattern}, which would not be expanded`, { hint: NO_SHELL_HINT });
    } else {
      throw new GatewayError('ERR_USAGE', `--command contains the shell operator ${entry.op}`, { hint: NO_SHELL_HINT });
    }
  }
  const [command, ...args] = words;
  if (command === undefined || command === '') {
    throw new GatewayError('ERR_USAGE', '--command is empty', {
      hint: 'pass the command and its arguments, e.g. --command "npx -y @modelcontextprotocol/server-memory"',
    });
  }
  return { command, args };
}

/** The inverse, for display: a line that a shell (and parseCommandLine) would split the same way. */
export function formatCommandLine(command: string, args: readonly string[]): string {
  return [command, ...args].map(shellWord).join(' ');
}

/**
 * One word as a POSIX shell would need it. shell-quote's `quote` escapes `@`, which turns every
 * `@scope/package` into `\@scope/package`; only quote what actually needs it.
 */
export function shellWord(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
