import type { GatewayConfig } from '../config/schema.js';

/**
 * Every URL the gateway publishes, derived once from `publicUrl`. The issuer has no trailing
 * slash (RFC 8414 §2: it must match exactly what clients compare); each server's resource is
 * its MCP endpoint URL (RFC 8707 / RFC 9728 `resource`).
 */
export interface GatewayUrls {
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  registrationEndpoint: string;
  revocationEndpoint: string;
  introspectionEndpoint: string;
  jwksUri: string;
  callback: string;
  consent: string;
  localLogin: string;
  serverNames: readonly string[];
  resourceFor(name: string): string;
  protectedResourceMetadataFor(name: string): string;
  /** The server whose resource URL this is, or undefined. Compares the parsed, normalised URL. */
  serverForResource(resource: string): string | undefined;
  /** The server addressed by a request path such as `/NAME/mcp` (query ignored), or undefined. */
  serverForPath(path: string): string | undefined;
}

export function gatewayUrls(config: Pick<GatewayConfig, 'publicUrl' | 'servers'>): GatewayUrls {
  const issuer = new URL(config.publicUrl).origin;
  const serverNames = Object.keys(config.servers);
  const resources = new Map(serverNames.map((name) => [`${issuer}/${name}/mcp`, name]));
  return {
    issuer,
    authorizationEndpoint: `${issuer}/authorize`,
    tokenEndpoint: `${issuer}/token`,
    registrationEndpoint: `${issuer}/register`,
    revocationEndpoint: `${issuer}/revoke`,
    introspectionEndpoint: `${issuer}/introspect`,
    jwksUri: `${issuer}/jwks.json`,
    callback: `${issuer}/callback`,
    consent: `${issuer}/consent`,
    localLogin: `${issuer}/login/local`,
    serverNames,
    resourceFor: (name) => `${issuer}/${name}/mcp`,
    protectedResourceMetadataFor: (name) => `${issuer}/.well-known/oauth-protected-resource/${name}/mcp`,
    serverForResource(resource) {
      let url: URL;
      try {
        url = new URL(resource);
      } catch {
        return undefined;
      }
      if (url.hash !== '' || url.search !== '') return undefined;
      // URL parsing lowercases scheme and host and drops default ports: the canonical form.
      return resources.get(`${url.origin}${url.pathname.replace(/\/$/, '')}`);
    },
    serverForPath(path) {
      const pathname = path.split('?', 1)[0] ?? '';
      const match = /^\/([^/]+)\/mcp\/?$/.exec(pathname);
      const name = match?.[1];
      return name !== undefined && Object.hasOwn(config.servers, name) ? name : undefined;
    },
  };
}
