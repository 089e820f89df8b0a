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
  /**
   * The server a request addresses: by path (`/NAME/mcp`, query ignored) in the path style, by
   * host (`NAME.<domain>`) and path `/mcp` in the subdomain style; undefined when none.
   */
  serverForRequest(host: string | undefined, path: string): string | undefined;
  /** The server whose subdomain this host is (subdomain style), for the metadata served on every subdomain. */
  serverForHost(host: string | undefined): string | undefined;
  routing: 'path' | 'subdomain';
}

export function gatewayUrls(
  config: Pick<GatewayConfig, 'publicUrl' | 'servers'> & { deploy?: Pick<GatewayConfig['deploy'], 'routing' | 'domain'> },
): GatewayUrls {
  const publicUrl = config.publicUrl;
  const issuer = publicUrl.origin;
  const routing = config.deploy?.routing ?? 'path';
  const domain = (config.deploy?.domain ?? publicUrl.hostname).toLowerCase();
  const port = publicUrl.port === '' ? '' : `:${publicUrl.port}`;
  const serverNames = Object.keys(config.servers);
  const has = (name: string | undefined): name is string => name !== undefined && Object.hasOwn(config.servers, name);
  const resourceFor = (name: string): string => (routing === 'subdomain' ? `${publicUrl.protocol}//${name}.${domain}${port}/mcp` : `${issuer}/${name}/mcp`);
  const resources = new Map(serverNames.map((name) => [resourceFor(name), name]));
  const serverForHost = (host: string | undefined): string | undefined => {
    if (routing !== 'subdomain' || host === undefined) return undefined;
    const hostname = host.toLowerCase().replace(/:\d+$/, '');
    if (!hostname.endsWith(`.${domain}`)) return undefined;
    const label = hostname.slice(0, -(domain.length + 1));
    return has(label) ? label : undefined;
  };
  return {
    issuer,
    routing,
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
    resourceFor,
    protectedResourceMetadataFor: (name) =>
      routing === 'subdomain'
        ? `${publicUrl.protocol}//${name}.${domain}${port}/.well-known/oauth-protected-resource/mcp`
        : `${issuer}/.well-known/oauth-protected-resource/${name}/mcp`,
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
    serverForRequest(host, path) {
      const pathname = path.split('?', 1)[0] ?? '';
      if (routing === 'subdomain') return /^\/mcp\/?$/.test(pathname) ? serverForHost(host) : undefined;
      const name = /^\/([^/]+)\/mcp\/?$/.exec(pathname)?.[1];
      return has(name) ? name : undefined;
    },
    serverForHost,
  };
}
