import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Authenticated encryption (AES-256-GCM) for upstream credentials kept in the store, such as the
 * GitHub token used to re-check org membership on refresh. The key lives in `.secrets/`, not in
 * the store, so a copy of the store (a Redis dump, a stolen state file) reveals no token. The
 * associated data binds a sealed value to its grant family: it cannot be moved to another.
 */
export interface SealedBox {
  seal(plaintext: string, associatedData: string): string;
  /** Undefined when the value was tampered with, moved, or sealed with another key. */
  open(sealed: string, associatedData: string): string | undefined;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

export function createSealedBox(key: Uint8Array): SealedBox {
  if (key.length !== 32) throw new TypeError('createSealedBox: the key must be 32 bytes');
  return {
    seal(plaintext, associatedData) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(associatedData));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
    },
    open(sealed, associatedData) {
      const raw = Buffer.from(sealed, 'base64url');
      if (raw.length < IV_BYTES + TAG_BYTES) return undefined;
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
        decipher.setAAD(Buffer.from(associatedData));
        decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
        return Buffer.concat([decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]).toString('utf8');
      } catch {
        return undefined;
      }
    },
  };
}
