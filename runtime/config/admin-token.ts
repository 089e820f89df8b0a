import { randomBytes } from 'node:crypto';
import { GatewayError } from '../errors.js';
import { createSecretOnce, readSecret } from './secrets.js';

/** 256 bits, base64url: what `.secrets/admin-token` holds and the admin API compares against. */
export const ADMIN_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43,128}$/;

/**
 * The bearer secret of the gateway's admin API (`/admin/*`, used by `mcp-gateway clients` and
 * `tokens`). Created on first use (mode 0600) by `serve` and `render`, so existing projects need
 * no migration; the auth container gets it as MCPGW_ADMIN_TOKEN.
 */
export async function loadOrCreateAdminToken(path: string): Promise<string> {
  const existing = await readAdminToken(path);
  if (existing !== undefined) return existing;
  const token = randomBytes(32).toString('base64url');
  if (await createSecretOnce(path, `${token}\n`)) return token;
  return loadOrCreateAdminToken(path); // another process made it first: use theirs
}

/** The token, or undefined when the file does not exist; refuses a file others can read or one that holds no token. */
export async function readAdminToken(path: string): Promise<string | undefined> {
  const text = await readSecret(path);
  if (text === undefined) return undefined;
  if (!ADMIN_TOKEN_PATTERN.test(text)) {
    throw new GatewayError('ERR_KEYS_INVALID', `${path} does not hold an admin token`, {
      hint: `delete it; \`mcp-gateway serve\` or \`render\` writes a new one (then restart the gateway or render and up again)`,
    });
  }
  return text;
}
