/**
 * The ForwardAuth response headers (Traefik's `authResponseHeaders`) that carry the
 * authenticated identity to the MCP service. The router deletes any the client sent itself.
 */
export const USER_HEADERS = {
  sub: 'x-user-sub',
  login: 'x-user-login',
  id: 'x-user-id',
  clientId: 'x-user-client-id',
  scope: 'x-user-scope',
} as const;

export const USER_HEADER_NAMES: readonly string[] = Object.values(USER_HEADERS);
