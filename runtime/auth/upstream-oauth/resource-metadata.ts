import { z } from 'zod';
import { untrusted } from '../upstream/upstream-http.js';
import { MetadataProblem, problemFromZod, SCOPE_TOKEN } from './metadata-problem.js';
import { checkUpstreamUrl, isSameOriginPathPrefix } from './upstream-url.js';

/**
 * An MCP server's OAuth 2.0 Protected Resource Metadata (RFC 9728 §2), checked against the
 * endpoint the gateway was configured with. Only what the gateway uses is kept.
 */
export interface ResourceMetadata {
  /** The `resource` value as the document gives it: what the gateway sends as RFC 8707 `resource`. */
  resource: string;
  /** Issuer identifiers, in the document's order; at least one (MCP 2025-11-25 "Authorization Server Location"). */
  authorizationServers: [string, ...string[]];
  scopesSupported: string[] | undefined;
}

/** More would be a document listing every tenant of a provider, not the servers of one resource. */
const MAX_AUTHORIZATION_SERVERS = 20;

const shape = z.object({
  resource: z.string(),
  authorization_servers: z.array(z.string()).min(1, 'must name at least one authorization server').max(MAX_AUTHORIZATION_SERVERS),
  scopes_supported: z.array(z.string().regex(SCOPE_TOKEN, 'is not a scope token (RFC 6749 §3.3)')).optional(),
});

/**
 * Throws a MetadataProblem unless `json` is a protected resource metadata object for `endpoint`.
 *
 * The `resource` check (RFC 9728 §3.3). The RFC wants `resource` identical to the identifier the
 * metadata URL was built from: the endpoint for `/.well-known/oauth-protected-resource/<path>`
 * and for a `resource_metadata` from the endpoint's 401, the origin for the root document. We
 * accept exactly two things: the endpoint itself, or the same origin with a path that the
 * endpoint's path continues at a `/` (`https://remote.example`, `https://remote.example/api` for
 * `https://remote.example/api/mcp`), because the root document can only name the origin and
 * deployed servers answer a 401 with either form. Comparison is after URL parsing (MCP
 * 2025-11-25 asks clients to accept upper-case scheme and host) and ignores one trailing `/`.
 * Another origin, a sibling or longer path (`/mcp-admin`, `/mcp/other` for `/mcp`), a query or a
 * fragment is refused: the gateway would otherwise ask for tokens, and the user's consent, for a
 * resource that is not the one it was configured to reach.
 */
export function parseResourceMetadata(json: unknown, endpoint: URL, { allowLoopbackHttp }: { allowLoopbackHttp: boolean }): ResourceMetadata {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new MetadataProblem('the document is not a JSON object');
  const parsed = shape.safeParse(json);
  if (!parsed.success) throw problemFromZod(parsed.error);
  const doc = parsed.data;

  const resource = checkUpstreamUrl(doc.resource, { allowLoopbackHttp });
  if (!resource.ok) throw new MetadataProblem(`resource ${resource.problem}`);
  if (resource.url.search !== '' || doc.resource.includes('?'))
    throw new MetadataProblem('resource contains a query; the gateway expects the MCP endpoint URL');
  if (!isSameOriginPathPrefix(resource.url, endpoint)) {
    throw new MetadataProblem(
      `resource names "${untrusted(doc.resource)}", which is neither ${endpoint.href} nor a path above it on the same origin (RFC 9728 §3.3)`,
    );
  }

  doc.authorization_servers.forEach((issuer, index) => {
    const check = checkUpstreamUrl(issuer, { allowLoopbackHttp, issuer: true });
    if (!check.ok) throw new MetadataProblem(`authorization_servers.${index} ${check.problem}`);
  });

  const [first, ...others] = doc.authorization_servers;
  if (first === undefined) throw new MetadataProblem('authorization_servers must name at least one authorization server');
  return { resource: doc.resource, authorizationServers: [first, ...others], scopesSupported: doc.scopes_supported };
}
