/**
 * The edge contract: what the router in front of the gateway (Traefik with its ForwardAuth
 * middleware, or the built-in router) does to a request before the auth runtime or a bridge sees
 * it. It was written three times (templates/traefik/dynamic.yml, the built-in router, the auth
 * runtime) and the copies drifted: Traefik allowed the 2026-07-28 `Mcp-Method`/`Mcp-Name`
 * request headers, the built-in router refused them in its preflight answer. Now the built-in
 * router and the auth runtime import these values, `render` writes them into the Traefik
 * templates, and test/edge-contract.test.ts compares what both routers do with them.
 *
 * A leaf module on purpose (no imports): runtime/auth and runtime/router both depend on it.
 * Header names are written as the specs spell them; HTTP compares them case-insensitively
 * (RFC 9110 section 5.1), Node's `req.headers` holds them lowercased.
 */

/** A CORS policy as both routers apply it: a preflight gets these headers and 204; other answers carry them too. */
export interface CorsPolicy {
  readonly allowOrigin: '*';
  readonly allowMethods: readonly string[];
  readonly allowHeaders: readonly string[];
  readonly exposeHeaders: readonly string[];
  readonly maxAgeSeconds: number;
}

/**
 * CORS of the MCP endpoints (`/NAME/mcp`), for browser-based clients such as MCP Inspector. The
 * union of the protocol revisions in use: GET (the standalone SSE stream), DELETE (ending a
 * session), `Mcp-Session-Id` and `Last-Event-ID` of 2025-03-26..2025-11-25; `MCP-Protocol-Version`
 * since 2025-06-18; `Mcp-Method` and `Mcp-Name`, required on every POST by 2026-07-28
 * (basic/transports/streamable-http, "Standard Request Headers"). Not listed: the per-tool
 * `Mcp-Param-{Name}` headers of that revision, whose names a static list cannot know.
 * No credentials mode: the token travels in Authorization, never in a cookie, so `*` is safe.
 */
export const MCP_CORS: CorsPolicy = {
  allowOrigin: '*',
  allowMethods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
  allowHeaders: ['Authorization', 'Content-Type', 'Accept', 'Mcp-Session-Id', 'MCP-Protocol-Version', 'Last-Event-ID', 'Mcp-Method', 'Mcp-Name'],
  // WWW-Authenticate: a browser client must read the RFC 9728 resource_metadata of a 401.
  exposeHeaders: ['Mcp-Session-Id', 'MCP-Protocol-Version', 'WWW-Authenticate'],
  maxAgeSeconds: 600,
};

/**
 * CORS of the public OAuth endpoints (discovery, registration, token, revocation, introspection,
 * JWKS). PUT and DELETE are RFC 7592 client management on `/register/<client_id>`.
 */
export const OAUTH_CORS: CorsPolicy = {
  allowOrigin: '*',
  allowMethods: ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
  allowHeaders: ['Authorization', 'Content-Type', 'MCP-Protocol-Version'],
  exposeHeaders: [],
  maxAgeSeconds: 600,
};

/** A policy as response headers (what Traefik's headers middleware writes for the same policy). */
export function corsResponseHeaders(policy: CorsPolicy): Record<string, string> {
  const headers: Record<string, string> = {
    'Access-Control-Allow-Origin': policy.allowOrigin,
    'Access-Control-Allow-Methods': policy.allowMethods.join(', '),
    'Access-Control-Allow-Headers': policy.allowHeaders.join(', '),
    'Access-Control-Max-Age': String(policy.maxAgeSeconds),
  };
  if (policy.exposeHeaders.length > 0) headers['Access-Control-Expose-Headers'] = policy.exposeHeaders.join(', ');
  return headers;
}

/**
 * The identity the auth runtime's `/verify` answers with and the router copies onto the request
 * for the bridge (Traefik's `authResponseHeaders`). The router deletes any the client sent itself
 * first, so a bridge may trust them. `sub` is the one to key anything by (the provider's
 * immutable id, e.g. `github:12345`; bridges bind sessions to it); `login` is for display and can
 * be renamed and later taken by someone else.
 */
export const IDENTITY_HEADERS = {
  sub: 'X-User-Sub',
  login: 'X-User-Login',
  id: 'X-User-Id',
  clientId: 'X-User-Client-Id',
  scope: 'X-User-Scope',
  /** The user's groups that servers' `access` rules name (`org:acme,team:acme/readers`): per-tool access in the bridge. */
  groups: 'X-User-Groups',
  /**
   * `Bearer <token>`: the user's own token at a remote server with `oauth` (runtime/auth/upstream-oauth/),
   * which the proxy of that server sends upstream as Authorization. Only for such a server, and
   * only on the request to its proxy: it never reaches the client, another server or a log.
   */
  upstreamAuthorization: 'X-Upstream-Authorization',
  /**
   * The gateway page where the user connects a remote server with `oauth` again
   * (`<public-url>/upstream/connect/NAME`): set with the token above, and alone on a request of a
   * session whose user holds no usable grant there any more, so the proxy can answer a client that
   * supports URL-mode elicitation with that link (-32042) instead of a 401.
   */
  upstreamConnect: 'X-Upstream-Connect',
} as const;

export const IDENTITY_HEADER_NAMES: readonly string[] = Object.values(IDENTITY_HEADERS);

/**
 * A remote server with `oauth` refused the user's upstream token: the proxy marks its 401 with
 * this response header, and the built-in router (which removes it before the client sees it)
 * tells the auth runtime on /verify with the same name as a request header carrying the refused
 * token, so the vault refreshes it or forgets the grant at once (a bridge container cannot reach
 * the auth runtime). Only the token the vault holds now counts: any other value changes nothing.
 */
export const UPSTREAM_REJECTED_HEADER = 'Mcp-Gateway-Upstream-Rejected';

/** The client's credentials: the MCP server behind the gateway never sees them (the token is for the gateway alone). */
export const CLIENT_CREDENTIAL_HEADERS: readonly string[] = ['Authorization', 'Cookie', 'Proxy-Authorization'];

/**
 * What the router removes from a client's request before a bridge: its credentials and any
 * identity header it forged. Traefik does it in two steps (forward-auth deletes the
 * `authResponseHeaders` before copying the answer's, strip-client-credentials empties the rest);
 * the built-in router deletes them all, then adds the answer's.
 */
export const STRIPPED_REQUEST_HEADERS: readonly string[] = [...CLIENT_CREDENTIAL_HEADERS, ...IDENTITY_HEADER_NAMES];

/** The port every runtime container (auth, bridges, relays) listens on inside the project's networks. */
export const RUNTIME_PORT = 8000;

/** The auth runtime's compose service, which is its host name on the project network. */
export const AUTH_SERVICE = 'auth';

/** Where the router reaches the auth runtime in a deployment (MCPGW_AUTH_URL's default, Traefik's auth service). */
export const AUTH_URL = `http://${AUTH_SERVICE}:${RUNTIME_PORT}`;

/** The ForwardAuth endpoint of the auth runtime. */
export const VERIFY_PATH = '/verify';

/** The ForwardAuth address for an auth runtime's base URL (a trailing slash is not doubled). */
export function verifyUrl(authUrl: string = AUTH_URL): string {
  return `${authUrl.replace(/\/+$/, '')}${VERIFY_PATH}`;
}
