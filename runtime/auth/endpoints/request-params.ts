import { OAuthError } from '../oauth-error.js';

/**
 * One parameter of a query or form body. RFC 6749 §3.1/§3.2: parameters must not be repeated,
 * so an array (a repeated parameter) or a nested object is a client error, not a crash.
 */
export function param(source: unknown, name: string): string | undefined {
  if (source === null || typeof source !== 'object') return undefined;
  const value = (source as Record<string, unknown>)[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new OAuthError('invalid_request', `${name} must be given exactly once`);
  return value === '' ? undefined : value;
}

export function requiredParam(source: unknown, name: string): string {
  const value = param(source, name);
  if (value === undefined) throw new OAuthError('invalid_request', `${name} is required`);
  return value;
}

/**
 * The longest value any /authorize parameter may have. Everything there is short by nature
 * (ids, URLs, a 43-character PKCE challenge, scope names) except `state`, which the client picks
 * and the gateway keeps until the login ends and hands back; RFC 6749 sets no bound, so one is
 * ours to set. 1 KB is far above what clients send (Claude, ChatGPT and the SDK use under 100
 * bytes) and keeps a pending authorization at a few KB in the store.
 */
export const MAX_AUTHORIZE_PARAM_BYTES = 1024;

/** The name of the first parameter longer than `maxBytes` (UTF-8), if any; repeated ones count each value. */
export function oversizedParam(source: unknown, maxBytes: number = MAX_AUTHORIZE_PARAM_BYTES): string | undefined {
  if (source === null || typeof source !== 'object') return undefined;
  for (const [name, value] of Object.entries(source as Record<string, unknown>)) {
    const values: unknown[] = Array.isArray(value) ? value : [value];
    if (values.some((v) => typeof v === 'string' && Buffer.byteLength(v) > maxBytes)) return name;
  }
  return undefined;
}
