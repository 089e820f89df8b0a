import { randomBytes } from 'node:crypto';
import { GatewayError } from '../errors.js';
import { createSecretOnce, readSecret } from './secrets.js';

/**
 * The key that seals upstream credentials in the store (runtime/auth/sealed-box.ts). Created on
 * first use (mode 0600) so existing projects need no migration; losing it only means users
 * allowed by org/team membership log in again.
 */
export async function loadOrCreateStateKey(path: string): Promise<Uint8Array> {
  const existing = await readSecret(path);
  if (existing !== undefined) {
    const key = Buffer.from(existing, 'base64url');
    if (key.length !== 32)
      throw new GatewayError('ERR_KEYS_INVALID', `${path} does not hold a 32-byte key`, {
        hint: `delete it; a new one is created on the next start (users admitted by org/team membership log in again)`,
      });
    return key;
  }
  const key = randomBytes(32);
  if (await createSecretOnce(path, `${key.toString('base64url')}\n`)) return key;
  return loadOrCreateStateKey(path); // another process made it first: use theirs
}
