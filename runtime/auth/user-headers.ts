import { IDENTITY_HEADERS } from '../http/edge-contract.js';

/**
 * The identity headers of the edge contract (runtime/http/edge-contract.ts: Traefik's
 * `authResponseHeaders`) as Node's `req.headers` keys them, lowercased. `sub` is the one to key
 * anything by; `login` is for display.
 */
export const USER_HEADERS = {
  sub: lower(IDENTITY_HEADERS.sub),
  login: lower(IDENTITY_HEADERS.login),
  id: lower(IDENTITY_HEADERS.id),
  clientId: lower(IDENTITY_HEADERS.clientId),
  scope: lower(IDENTITY_HEADERS.scope),
  groups: lower(IDENTITY_HEADERS.groups),
  upstreamAuthorization: lower(IDENTITY_HEADERS.upstreamAuthorization),
  upstreamConnect: lower(IDENTITY_HEADERS.upstreamConnect),
} as const;

export const USER_HEADER_NAMES: readonly string[] = Object.values(USER_HEADERS);

function lower<T extends string>(name: T): Lowercase<T> {
  return name.toLowerCase() as Lowercase<T>;
}
