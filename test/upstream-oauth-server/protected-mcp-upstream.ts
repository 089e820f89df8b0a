import {
  type AuthorizationServerRequest,
  type IssuedAccessToken,
  type StaticClient,
  startAuthorizationServer,
  type TokenRequestRecord,
} from './authorization-server.js';
import { type McpRequestRecord, startMcpResourceServer } from './mcp-resource-server.js';

export type { AuthorizationServerRequest, IssuedAccessToken, McpRequestRecord, StaticClient, TokenRequestRecord };

/**
 * A remote MCP server with its own OAuth, in this process, for end-to-end tests of the gateway
 * holding and refreshing each user's upstream tokens: an authorization server (oidc-provider,
 * ./authorization-server.ts) and a Streamable HTTP MCP server protected by it
 * (./mcp-resource-server.ts), each on its own 127.0.0.1 port, with everything they were sent
 * recorded for assertions.
 */

export interface ProtectedUpstreamOptions {
  /** The upstream accounts (their `sub`); the first is at the browser until `setCurrentUser`. */
  users: readonly string[];
  /** Access token lifetime, whole seconds (default 1 h). */
  accessTokenTtlMs?: number;
  /** Refresh token (and grant) lifetime, whole seconds (default 1 day). */
  refreshTokenTtlMs?: number;
  /** The scope the MCP server requires and advertises (default `mcp:tools`). */
  scope?: string;
  /** Clients registered out of band; others register dynamically (RFC 7591). */
  clients?: readonly StaticClient[];
  /**
   * Turns on Client ID Metadata Documents: the authorization server gets a `client_id` URL's
   * document from this function. Such client IDs must be https URLs (as the draft requires), which
   * nothing on 127.0.0.1 serves, so the test maps them to a server of its own.
   */
  fetchClientMetadata?: (url: URL) => Promise<Response>;
}

export interface ProtectedUpstream {
  /** The authorization server, e.g. http://127.0.0.1:PORT (metadata at its RFC 8414 and OpenID well-known URLs). */
  issuer: string;
  /** The MCP endpoint and RFC 8707 resource, e.g. http://127.0.0.1:PORT/mcp. */
  mcpUrl: string;
  /** The MCP server's RFC 9728 metadata. */
  resourceMetadataUrl: string;
  /** Who is at the browser when the authorization server asks; null declines (access_denied). */
  setCurrentUser(user: string | null): void;
  /** Every request to `/mcp`, in order, with the Authorization header as received. */
  mcpRequests: McpRequestRecord[];
  /** Every request the authorization server received, in order. */
  authorizationServerRequests: AuthorizationServerRequest[];
  /** Every token endpoint request, in order, with its grant type and the error answered. */
  tokenRequests: TokenRequestRecord[];
  /** How many token endpoint requests had this grant type (`refresh_token`, `authorization_code`, ...). */
  tokenRequestCount(grantType: string): number;
  /** Every access token issued, in order. */
  issuedAccessTokens: IssuedAccessToken[];
  /**
   * Revokes at the authorization server every grant `user` gave (refresh tokens and codes with
   * them), so the next refresh gets invalid_grant; resolves to the number of grants. Access tokens
   * already issued stay good at the MCP server, as JWTs do: follow with `expireAccessTokens`.
   */
  revokeGrants(user: string): Promise<number>;
  /** From now on the MCP server answers invalid_token to every access token issued so far (to `user`, or to anyone). */
  expireAccessTokens(user?: string): void;
  close(): Promise<void>;
}

const HOUR_MS = 3_600_000;

export async function startProtectedUpstream({
  users,
  accessTokenTtlMs = HOUR_MS,
  refreshTokenTtlMs = 24 * HOUR_MS,
  scope = 'mcp:tools',
  clients = [],
  fetchClientMetadata,
}: ProtectedUpstreamOptions): Promise<ProtectedUpstream> {
  // oidc-provider counts lifetimes in whole seconds.
  for (const [name, ms] of Object.entries({ accessTokenTtlMs, refreshTokenTtlMs })) {
    if (!Number.isInteger(ms / 1000) || ms <= 0) throw new TypeError(`${name} must be a positive whole number of seconds, got ${ms} ms`);
  }
  if (users.length === 0) throw new TypeError('users must name at least one upstream account');

  const expired = new Set<string>();
  const mcp = await startMcpResourceServer({ scope, isExpired: (jti) => expired.has(jti) });
  const as = await startAuthorizationServer({
    resource: mcp.resource,
    scope,
    users,
    accessTokenTtlMs,
    refreshTokenTtlMs,
    clients,
    fetchClientMetadata,
  }).catch(async (err: unknown) => {
    await mcp.close();
    throw err;
  });
  await mcp.trust(as.issuer);

  return {
    issuer: as.issuer,
    mcpUrl: mcp.resource,
    resourceMetadataUrl: mcp.resourceMetadataUrl,
    setCurrentUser: (user) => as.setCurrentUser(user),
    mcpRequests: mcp.requests,
    authorizationServerRequests: as.requests,
    tokenRequests: as.tokenRequests,
    tokenRequestCount: (grantType) => as.tokenRequests.filter((r) => r.grantType === grantType).length,
    issuedAccessTokens: as.issuedAccessTokens,
    revokeGrants: (user) => as.revokeGrants(user),
    expireAccessTokens(user) {
      for (const token of as.issuedAccessTokens) if (user === undefined || token.user === user) expired.add(token.jti);
    },
    async close() {
      await Promise.all([mcp.close(), as.close()]);
    },
  };
}
