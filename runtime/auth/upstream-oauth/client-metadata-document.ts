import { SERVER_NAME, SERVER_NAME_HINT } from '../../config/schema.js';

/**
 * How the gateway describes itself as an OAuth client to a remote MCP server's authorization
 * server: one client per configured server, with the gateway's callback as its only redirect URI.
 * The same metadata goes into the Client ID Metadata Document the gateway serves (when the
 * authorization server fetches those) and into an RFC 7591 registration request (when it does
 * not), so the two cannot drift apart.
 */
export interface UpstreamClientMetadata {
  client_name: string;
  redirect_uris: string[];
  grant_types: ['authorization_code', 'refresh_token'];
  response_types: ['code'];
  /** A public client: PKCE protects the code, and no secret has to be kept for a CIMD client. */
  token_endpoint_auth_method: 'none';
}

/** draft-ietf-oauth-client-id-metadata-document §3: the document names its own URL as client_id. */
export interface UpstreamClientIdMetadataDocument extends UpstreamClientMetadata {
  client_id: string;
}

export function upstreamClientMetadata(server: string, redirectUri: URL): UpstreamClientMetadata {
  assertServerName(server);
  return {
    client_name: `mcp-gateway (${server})`,
    redirect_uris: [redirectUri.href],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  };
}

/**
 * `<publicUrl origin>/.well-known/oauth-client/<server>.json`: the client_id the gateway uses at
 * an authorization server that fetches Client ID Metadata Documents. The origin, as every URL
 * the gateway publishes (gateway-urls.ts), so a public URL's trailing slash cannot change it.
 */
export function upstreamClientIdUrl(publicUrl: URL, server: string): string {
  assertServerName(server);
  return `${publicUrl.origin}/.well-known/oauth-client/${server}.json`;
}

/** The document served at `upstreamClientIdUrl(publicUrl, server)`. */
export function upstreamClientIdMetadataDocument({
  publicUrl,
  server,
  redirectUri,
}: {
  publicUrl: URL;
  server: string;
  redirectUri: URL;
}): UpstreamClientIdMetadataDocument {
  return { client_id: upstreamClientIdUrl(publicUrl, server), ...upstreamClientMetadata(server, redirectUri) };
}

/** Server names come from the validated config; anything else here is our caller's mistake, and would become a path. */
function assertServerName(server: string): void {
  if (!SERVER_NAME.test(server)) throw new TypeError(`not a server name (${SERVER_NAME_HINT}): ${JSON.stringify(server)}`);
}
