import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Writes a folder as a whole: `fill` writes into a fresh temp folder beside `target`, which then
 * takes `target`'s place (two renames on one file system). A failure while filling leaves
 * `target` exactly as it was and removes the temp folder, so a failed render never leaves half a
 * deploy folder behind.
 */
export async function replaceDirectory(target: string, fill: (dir: string) => Promise<void>, { mode = 0o755 }: { mode?: number } = {}): Promise<void> {
  const parent = dirname(target);
  await mkdir(parent, { recursive: true });
  const temp = await mkdtemp(join(parent, `.${basename(target)}.tmp-`));
  try {
    await fill(temp);
    await chmod(temp, mode);
  } catch (err) {
    await rm(temp, { recursive: true, force: true });
    throw err;
  }
  const old = join(parent, `.${basename(target)}.old-${randomBytes(4).toString('hex')}`);
  let hadOld = true;
  try {
    await rename(target, old);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      await rm(temp, { recursive: true, force: true });
      throw err;
    }
    hadOld = false;
  }
  try {
    await rename(temp, target);
  } catch (err) {
    if (hadOld) await rename(old, target).catch(() => {});
    await rm(temp, { recursive: true, force: true });
    throw err;
  }
  if (hadOld) await rm(old, { recursive: true, force: true });
}
