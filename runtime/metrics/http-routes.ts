import type { IncomingMessage } from 'node:http';
import { VERIFY_PATH } from '../http/edge-contract.js';

/**
 * The `route` label of `mcp_gateway_http_requests_total`: a fixed table of the auth runtime's
 * paths (auth-app.ts), so a client requesting made-up paths cannot create series. MCP endpoints
 * are `mcp` (the server is a label of the tool metrics, not of this one).
 */
const ROUTES: ReadonlyMap<string, string> = new Map([
  ['/authorize', 'authorize'],
  ['/token', 'token'],
  ['/register', 'register'],
  ['/revoke', 'revoke'],
  ['/introspect', 'introspect'],
  ['/consent', 'consent'],
  ['/callback', 'login'],
  ['/login', 'login'],
  ['/jwks.json', 'jwks'],
  ['/.well-known', 'metadata'],
  [VERIFY_PATH, 'verify'],
  ['/health', 'health'],
  ['/metrics', 'metrics'],
  ['/admin', 'admin'],
]);

/** The route of a request path that is not an MCP endpoint: its first segment, looked up. */
export function routeOfPath(path: string): string {
  const end = path.indexOf('/', 1);
  const first = end === -1 ? path : path.slice(0, end);
  return ROUTES.get(first) ?? 'other';
}

/** The route of any request to a router (built-in or the router container): `mcp` for an MCP endpoint, else routeOfPath. */
export function routeClassifier(urls: { serverForRequest(host: string | undefined, path: string): string | undefined }): (req: IncomingMessage) => string {
  return (req) => {
    const path = (req.url ?? '/').split('?', 1)[0]!;
    return path !== '/health' && urls.serverForRequest(req.headers.host, path) !== undefined ? 'mcp' : routeOfPath(path);
  };
}
