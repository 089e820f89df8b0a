import { randomBytes } from 'node:crypto';
import { GatewayError } from '../errors.js';
import { createSecretOnce, readSecret } from './secrets.js';

/** 32 bytes, base64url: the key the built-in router seals session ids with (runtime/router/replicas/session-seal.ts). */
const SESSION_KEY_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/**
 * `.secrets/session-key` (0600), created the first time a deployment with the built-in router is
 * rendered and the same afterwards: every router replica gets it (MCPGW_SESSION_KEY), so any of
 * them opens a session id another sealed, and a new render does not end live sessions.
 */
export async function loadOrCreateSessionKey(path: string): Promise<string> {
  const existing = await readSecret(path);
  if (existing !== undefined) return checkSessionKey(existing.trim(), path);
  const key = randomBytes(32).toString('base64url');
  if (await createSecretOnce(path, `${key}\n`)) return key;
  return loadOrCreateSessionKey(path); // another process made it first: use theirs
}

/** The key's 32 bytes from its text (the file, or MCPGW_SESSION_KEY in a router container). */
export function checkSessionKey(text: string, where: string): string {
  if (!SESSION_KEY_PATTERN.test(text)) {
    throw new GatewayError('ERR_SECRET_INVALID', `${where} does not hold a session key (32 bytes, base64url)`, {
      hint: 'delete .secrets/session-key and render again (live 2025 sessions behind the router end; clients re-initialize)',
    });
  }
  return text;
}
