import { isLoopbackHost } from '../../../config/schema.js';

export interface ClientIdUrlOptions {
  /** Accept `http://` on a loopback host: only for tests and local development (CIMD §8.6). */
  allowLoopbackHttp?: boolean;
}

const MAX_LENGTH = 2000;
const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;

/**
 * Why `clientId` is not a Client Identifier URL (CIMD §3, draft-ietf-oauth-client-id-metadata-document),
 * or undefined when it is one: https; no userinfo; a path; no `.`/`..` segments; no fragment.
 * A port and a query are allowed (the query only SHOULD NOT be used).
 *
 * Beyond the draft we require the URL to be in its WHATWG-canonical form (`new URL(id).href === id`):
 * client IDs are compared as exact strings (§3, RFC 3986 §6.2.1), so `https://Example.com/c` or
 * `https://example.com:443/c` would name a different client than the URL we actually fetch. Refusing
 * them up front gives the client author a clear message instead of a client_id mismatch later.
 */
export function clientIdUrlProblem(clientId: string, { allowLoopbackHttp = false }: ClientIdUrlOptions = {}): string | undefined {
  if (clientId.length > MAX_LENGTH) return `is longer than ${MAX_LENGTH} characters`;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(clientId)?.[1]?.toLowerCase();
  if (scheme !== 'https' && scheme !== 'http') return 'is not an https URL';
  let url: URL;
  try {
    url = new URL(clientId);
  } catch {
    return 'is not a valid URL';
  }
  if (scheme === 'http' && !(allowLoopbackHttp && isLoopbackHost(url.hostname))) return 'must use the https scheme';
  if (clientId.includes('#')) return 'must not contain a fragment';
  const authorityAndRest = clientId.slice(scheme.length + 3);
  const authorityEnd = authorityAndRest.search(/[/?]/);
  const authority = authorityEnd === -1 ? authorityAndRest : authorityAndRest.slice(0, authorityEnd);
  if (authority.includes('@') || url.username !== '' || url.password !== '') return 'must not contain a user name or password';
  if (authorityEnd === -1 || authorityAndRest[authorityEnd] !== '/') return 'must contain a path (for example https://example.com/client.json)';
  const path = authorityAndRest.slice(authorityEnd).split('?')[0] ?? '';
  if (path.split('/').some((segment) => DOT_SEGMENT.test(segment))) return 'must not contain "." or ".." path segments';
  if (url.href !== clientId) return `is not in canonical form (it would be fetched as ${url.href}); use exactly that string`;
  return undefined;
}
