import type { AuthorizationServerMetadata } from './authorization-server-metadata.js';
import type { ResourceMetadataSource } from './well-known-urls.js';

/**
 * Everything the gateway learned about how to get tokens for one remote MCP server: which
 * resource it is, which authorization server issues its tokens, and that server's endpoints and
 * capabilities, every value already checked (upstream-discovery.ts).
 *
 * URLs are strings in their WHATWG-serialised form rather than `URL` objects, unlike elsewhere
 * in the gateway: this value is kept (in memory and in the store) and shared by every login and
 * refresh, and a `URL` is mutable (one caller's `searchParams.set` would change the next
 * caller's authorization URL) and does not survive JSON. Build a `new URL(...)` per use.
 */
export interface UpstreamAuthorization extends AuthorizationServerMetadata {
  /** The MCP endpoint discovery started from. */
  endpoint: string;
  /** RFC 9728 `resource`, as the server gives it: the RFC 8707 `resource` of authorization and token requests. */
  resource: string;
  /** The protected resource metadata document used, and how it was found. */
  resourceMetadataUrl: string;
  resourceMetadataSource: ResourceMetadataSource;
  /** Every authorization server the resource names; `issuer` is the first, the one used. */
  authorizationServers: string[];
  /** The authorization server metadata document used (RFC 8414 or OpenID Connect Discovery). */
  authorizationServerMetadataUrl: string;
  /**
   * The `scope` of the endpoint's 401 challenge, split into scope tokens. MCP 2025-11-25 "Scope
   * Selection Strategy": these are requested first; else `resourceScopesSupported`; else no scope.
   */
  challengedScopes: string[] | undefined;
  /** `scopes_supported` of the protected resource metadata (not of the authorization server, `scopesSupported`). */
  resourceScopesSupported: string[] | undefined;
}
