import { OAuthError } from './oauth-error.js';

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
