import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

/**
 * Whether `command` would be found the way the bridge spawns it (no shell): a path is taken as is
 * (relative to `cwd`), a bare name is searched on PATH.
 */
export async function isExecutableCommand(command: string, options: { path?: string; cwd?: string | undefined } = {}): Promise<boolean> {
  return findExecutable(command, options) !== undefined;
}

/**
 * Where `command` would be found the way the bridge spawns it, synchronously (the sandbox is set
 * up once at start, before anything listens): a path relative to `cwd`, or a bare name on PATH.
 */
export function findExecutable(
  command: string,
  { path = process.env['PATH'] ?? '', cwd }: { path?: string; cwd?: string | undefined } = {},
): string | undefined {
  const candidates =
    isAbsolute(command) || command.includes('/')
      ? [resolve(cwd ?? '.', command)]
      : path
          .split(delimiter)
          .filter(Boolean)
          .map((dir) => join(dir, command));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // the next PATH entry
    }
  }
  return undefined;
}
