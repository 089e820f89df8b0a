import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Every file under `dir` as a `/`-separated relative path, sorted, following links (a build
 * context must hold files, not links out of it). `skip` sees relative paths of files and folders.
 */
export async function listFiles(dir: string, skip: (relative: string, isDirectory: boolean) => boolean = () => false): Promise<string[]> {
  const files: string[] = [];
  const walk = async (relative: string): Promise<void> => {
    const entries = await readdir(relative === '' ? dir : join(dir, relative), { withFileTypes: true });
    for (const entry of entries) {
      const path = relative === '' ? entry.name : `${relative}/${entry.name}`;
      const isDirectory = entry.isDirectory() || (entry.isSymbolicLink() && (await stat(join(dir, path))).isDirectory());
      if (skip(path, isDirectory)) continue;
      if (isDirectory) await walk(path);
      else files.push(path);
    }
  };
  await walk('');
  return files.sort();
}
