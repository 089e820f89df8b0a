/**
 * Where metadata is looked for, in the order MCP 2025-11-25 "Authorization Server Discovery"
 * prescribes. Both lists insert the well-known string between the host and the path (RFC 5785
 * style, RFC 9728 §3.1, RFC 8414 §3.1); only OpenID Connect Discovery 1.0 §4 also appends it.
 */

export type ResourceMetadataSource = 'www-authenticate' | 'well-known-path' | 'well-known-root';

export interface ResourceMetadataCandidate {
  url: URL;
  source: ResourceMetadataSource;
}

/**
 * RFC 9728 §3.1 for the MCP endpoint (`https://remote.example/public/mcp`):
 * `/.well-known/oauth-protected-resource/public/mcp` (the query, if any, kept after it), then
 * `/.well-known/oauth-protected-resource` at the origin. An endpoint at the root has only the second.
 */
export function resourceMetadataCandidates(endpoint: URL): ResourceMetadataCandidate[] {
  const root = at(endpoint, '/.well-known/oauth-protected-resource');
  if (endpoint.pathname === '/' || endpoint.pathname === '') return [{ url: root, source: 'well-known-root' }];
  const withPath = at(endpoint, `/.well-known/oauth-protected-resource${endpoint.pathname}${endpoint.search}`);
  return [
    { url: withPath, source: 'well-known-path' },
    { url: root, source: 'well-known-root' },
  ];
}

/**
 * For an issuer with a path (`https://auth.example/tenant1`): RFC 8414 path insertion, OpenID
 * Connect path insertion, OpenID Connect path appending. Without a path: RFC 8414, then OpenID
 * Connect. RFC 8414 §3.1: a terminating `/` of the issuer is removed first, so
 * `https://auth.example/` counts as having no path.
 */
export function authorizationServerMetadataCandidates(issuer: URL): URL[] {
  const path = issuer.pathname.replace(/\/$/, '');
  if (path === '') {
    return [at(issuer, '/.well-known/oauth-authorization-server'), at(issuer, '/.well-known/openid-configuration')];
  }
  return [
    at(issuer, `/.well-known/oauth-authorization-server${path}`),
    at(issuer, `/.well-known/openid-configuration${path}`),
    at(issuer, `${path}/.well-known/openid-configuration`),
  ];
}

/**
 * `path` on `base`'s origin, by concatenation: `new URL(path, origin)` would read a path that
 * starts with `//` (an issuer `https://auth.example//evil.example`) as another host.
 */
function at(base: URL, path: string): URL {
  return new URL(`${base.origin}${path}`);
}
