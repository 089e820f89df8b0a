/**
 * The ForwardAuth response headers (Traefik's `authResponseHeaders`) that carry the
 * authenticated identity to the MCP service. The router deletes any the client sent itself.
 * `sub` is the one to key anything by (the provider's immutable id, e.g. `github:12345`; bridges
 * bind sessions to it); `login` is for display and can be renamed and later taken by someone else.
 */
export const USER_HEADERS = {
  sub: 'x-user-sub',
  login: 'x-user-login',
  id: 'x-user-id',
  clientId: 'x-user-client-id',
  scope: 'x-user-scope',
} as const;

export const USER_HEADER_NAMES: readonly string[] = Object.values(USER_HEADERS);
