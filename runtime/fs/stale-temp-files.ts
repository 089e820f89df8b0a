import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** The name atomicWriteFile gives its temp file: `<target>.<pid>.<12 hex>.tmp`. */
const TEMP_NAME = /^.+\.(\d+)\.[0-9a-f]{12}\.tmp$/;

function running(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive, another user's process.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temp files of atomic writes that a killed command left behind (a `kill -9`
 * between the write and the rename). Only files whose writer is gone: a command writing right
 * now keeps its own. Returns the paths removed.
 */
export async function removeStaleTempFiles(dirs: readonly string[]): Promise<string[]> {
  const removed: string[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      continue; // a directory not created yet
    }
    for (const name of names) {
      const match = TEMP_NAME.exec(name);
      if (match === null || running(Number(match[1]))) continue;
      await rm(join(dir, name), { force: true });
      removed.push(join(dir, name));
    }
  }
  return removed;
}
