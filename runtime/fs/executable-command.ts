import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

/**
 * Whether `command` would be found the way the bridge spawns it (no shell): a path is taken as is
 * (relative to `cwd`), a bare name is searched on PATH.
 */
export async function isExecutableCommand(command: string, { path = process.env['PATH'] ?? '', cwd }: { path?: string; cwd?: string | undefined } = {}): Promise<boolean> {
  const candidates =
    isAbsolute(command) || command.includes('/') ? [resolve(cwd ?? '.', command)] : path.split(delimiter).filter(Boolean).map((dir) => join(dir, command));
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      return true;
    } catch {
      // the next PATH entry
    }
  }
  return false;
}
