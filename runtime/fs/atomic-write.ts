import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, chmod } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface AtomicWriteOptions {
  /** File mode; secrets use 0o600. Applied before the rename so the file is never briefly world-readable. */
  mode?: number;
  /** Mode for a parent directory this call creates. */
  dirMode?: number;
}

/**
 * Writes `data` to `path` so that readers see either the old file or the whole new one:
 * temp file in the same directory, fsync, rename. A crash or a failed command never leaves a
 * half-written config, secret or state file.
 */
export async function atomicWriteFile(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const mode = options.mode ?? 0o644;
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, ...(options.dirMode === undefined ? {} : { mode: options.dirMode }) });
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(tmp, 'wx', mode);
  try {
    await handle.writeFile(data);
    // The umask may have narrowed or widened nothing, but an explicit chmod makes the mode exact.
    await handle.chmod(mode);
    await handle.sync();
  } catch (err) {
    await handle.close().catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await chmod(path, mode);
}
