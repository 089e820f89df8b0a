import { resolve } from 'node:path';
import { Option } from 'commander';

/** Options and value parsers several commands share, declared once so their help reads the same everywhere. */

const CURRENT_DIR = '.';

export function dirOption(): Option {
  return new Option('--dir <path>', 'project directory holding mcp-gateway.yaml').default(CURRENT_DIR, 'the current directory');
}

/** The absolute project directory of `--dir` (what every `run` takes as `dir`). */
export function projectDir(flags: { dir?: string }): string {
  return resolve(flags.dir ?? CURRENT_DIR);
}

/** A repeatable option's parser: `--env A=1 --env B=2` gives ['A=1', 'B=2']. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `--allowed-users alice, bob` gives ['alice', 'bob']. */
export function commaList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

/**
 * `--json`: the result as one JSON document on stdout (`shape` says what it holds), progress and
 * warnings still on stderr; a failure is `{ "error": { "code", "message", "hint" } }` (run-cli.ts).
 */
export function jsonOption(shape: string): Option {
  return new Option('--json', `print the result as one JSON document (${shape}); errors as {"error":{"code","message","hint"}}`);
}
