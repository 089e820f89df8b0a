import { readFile, stat } from 'node:fs/promises';
import { atomicWriteFile } from '../runtime/fs/atomic-write.js';

export type GitignoreChange = 'created' | 'updated' | 'unchanged';

/** `.secrets/` is also ignored by `.secrets`, `/.secrets` and `/.secrets/`; accept whichever the user wrote. */
function alreadyIgnored(lines: readonly string[], entry: string): boolean {
  const bare = entry.replace(/\/$/, '');
  return lines.some((line) => [bare, `${bare}/`, `/${bare}`, `/${bare}/`].includes(line.trim()));
}

/** Makes sure `entries` are ignored by the project's .gitignore, keeping whatever else it says. */
export async function ensureGitignore(path: string, entries: readonly string[]): Promise<GitignoreChange> {
  let existing: string | undefined;
  try {
    existing = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const lines = existing?.split(/\r?\n/) ?? [];
  const missing = entries.filter((entry) => !alreadyIgnored(lines, entry));
  if (missing.length === 0) return 'unchanged';
  const block = `# mcp-gateway: secrets and local state\n${missing.join('\n')}\n`;
  if (existing === undefined) {
    await atomicWriteFile(path, block, { mode: 0o644 });
    return 'created';
  }
  const separator = existing === '' ? '' : existing.endsWith('\n') ? '\n' : '\n\n';
  const mode = (await stat(path)).mode & 0o777;
  await atomicWriteFile(path, existing + separator + block, { mode });
  return 'updated';
}
