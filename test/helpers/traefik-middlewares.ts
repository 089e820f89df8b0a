/**
 * What Traefik v3 does with a request in the two middleware kinds our dynamic.yml uses on MCP
 * routes, so a test can compare the rendered config with the built-in router (Traefik itself is
 * not installable here, DESIGN.md). Modelled on Traefik's documented behaviour and its source:
 * - `headers` (pkg/middlewares/headers/header.go): an OPTIONS request with Origin and
 *   Access-Control-Request-Method is a preflight, answered by the middleware itself with the
 *   allow lists joined by "," and the max age, never reaching the next middleware; any other
 *   request with an Origin gets Allow-Origin and Expose-Headers on its response. A
 *   `customRequestHeaders` entry with an empty value removes that request header.
 * - `forwardAuth` (pkg/middlewares/auth/forward.go): for each `authResponseHeaders` name the
 *   client's header is deleted, then the auth server's value, if it sent one, is set.
 */
export interface TraefikCorsMiddleware {
  accessControlAllowOriginList?: string[];
  accessControlAllowMethods?: string[];
  accessControlAllowHeaders?: string[];
  accessControlExposeHeaders?: string[];
  accessControlMaxAge?: number;
}

export interface TraefikMiddleware {
  headers?: TraefikCorsMiddleware & { customRequestHeaders?: Record<string, string> };
  forwardAuth?: { address: string; trustForwardHeader?: boolean; authResponseHeaders?: string[] };
}

export type HeaderMap = Record<string, string>;

const lower = (headers: HeaderMap): HeaderMap => Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));

/** The origin a `headers` middleware allows for a request's Origin: `*` when listed, else the origin itself when listed. */
function allowOrigin(cors: TraefikCorsMiddleware, origin: string): string | undefined {
  const list = cors.accessControlAllowOriginList ?? [];
  if (list.includes('*')) return '*';
  return list.includes(origin) ? origin : undefined;
}

/** Traefik's own answer to a CORS preflight (lowercase header names), or undefined when no middleware of the chain answers it. */
export function traefikPreflight(chain: readonly TraefikMiddleware[], request: { origin: string; method: string }): HeaderMap | undefined {
  for (const middleware of chain) {
    const cors = middleware.headers;
    if (cors?.accessControlAllowMethods === undefined && cors?.accessControlAllowHeaders === undefined) continue;
    const answer: HeaderMap = {};
    if (cors.accessControlAllowHeaders?.length) answer['access-control-allow-headers'] = cors.accessControlAllowHeaders.join(',');
    if (cors.accessControlAllowMethods?.length) answer['access-control-allow-methods'] = cors.accessControlAllowMethods.join(',');
    const origin = allowOrigin(cors, request.origin);
    if (origin !== undefined) answer['access-control-allow-origin'] = origin;
    answer['access-control-max-age'] = String(cors.accessControlMaxAge ?? 0);
    return answer;
  }
  // A middleware that cannot answer the preflight passes it on: forward-auth would challenge it.
  return undefined;
}

/** The CORS headers the chain adds to a non-preflight response for a request with an Origin. */
export function traefikCorsResponseHeaders(chain: readonly TraefikMiddleware[], origin: string): HeaderMap {
  const headers: HeaderMap = {};
  for (const { headers: cors } of chain) {
    if (cors?.accessControlAllowOriginList === undefined) continue;
    const allowed = allowOrigin(cors, origin);
    if (allowed !== undefined) headers['access-control-allow-origin'] = allowed;
    if (cors.accessControlExposeHeaders?.length) headers['access-control-expose-headers'] = cors.accessControlExposeHeaders.join(',');
  }
  return headers;
}

/**
 * The request headers the service behind the chain receives (lowercase names), given the
 * client's headers and what the ForwardAuth server answered with (a 2xx).
 */
export function traefikForwardedHeaders(chain: readonly TraefikMiddleware[], client: HeaderMap, authAnswer: HeaderMap): HeaderMap {
  const headers = lower(client);
  const answer = lower(authAnswer);
  for (const middleware of chain) {
    for (const name of middleware.forwardAuth?.authResponseHeaders ?? []) {
      const key = name.toLowerCase();
      delete headers[key];
      if (answer[key] !== undefined) headers[key] = answer[key];
    }
    for (const [name, value] of Object.entries(middleware.headers?.customRequestHeaders ?? {})) {
      if (value === '') delete headers[name.toLowerCase()];
      else headers[name.toLowerCase()] = value;
    }
  }
  return headers;
}
