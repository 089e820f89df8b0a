import { randomBytes } from 'node:crypto';
import { link, readFile, rm, stat } from 'node:fs/promises';
import { GatewayError } from '../errors.js';
import { atomicWriteFile } from '../fs/atomic-write.js';

export const SECRET_FILE_MODE = 0o600;
export const SECRET_DIR_MODE = 0o700;

/** Secrets are separate files written 0600 in a 0700 directory, atomically. */
export async function writeSecret(path: string, value: string): Promise<void> {
  await atomicWriteFile(path, value, { mode: SECRET_FILE_MODE, dirMode: SECRET_DIR_MODE });
}

/**
 * Writes a secret only if none exists yet, for secrets made on first start (the state key, the
 * admin token): two gateways starting at once on one project (several `serve` on one Redis)
 * must end up with the same one, not each with its own and the last write on disk. The value
 * is written whole to a temporary file, then hard-linked into place, which fails when the file
 * exists: resolves false then, and the caller reads the winner's.
 */
export async function createSecretOnce(path: string, value: string): Promise<boolean> {
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.new`;
  await writeSecret(temp, value);
  try {
    await link(temp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await rm(temp, { force: true });
  }
}

/**
 * Reads a secret and refuses one that others can read: a leaked signing key lets anyone mint
 * tokens. Returns undefined when the file does not exist (callers decide whether that is fatal).
 */
export async function readSecret(path: string): Promise<string | undefined> {
  let mode: number;
  try {
    mode = (await stat(path)).mode;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  if ((mode & 0o077) !== 0) {
    throw new GatewayError('ERR_SECRET_UNSAFE', `${path} is readable by other users (mode ${(mode & 0o777).toString(8)})`, {
      hint: `run \`chmod 600 ${path}\``,
    });
  }
  return (await readFile(path, 'utf8')).trim();
}

export async function requireSecret(path: string, what: string, hint: string): Promise<string> {
  const value = await readSecret(path);
  if (value === undefined || value === '') {
    throw new GatewayError('ERR_SECRET_MISSING', `${what} is missing (${path})`, { hint });
  }
  return value;
}
