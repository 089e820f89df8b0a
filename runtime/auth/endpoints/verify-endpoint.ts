import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestVerifier } from '../tokens/verify-request.js';
import { isStoreOutage, sendStoreOutage } from '../../http/store-outage.js';
import { UPSTREAM_REJECTED_HEADER, VERIFY_PATH } from '../../http/edge-contract.js';

const single = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

/**
 * The ForwardAuth endpoint (Traefik's contract): the original request is described by
 * X-Forwarded-Method/-Host/-Uri and carries the client's Authorization header; 2xx with the
 * X-User-* headers lets it through, anything else is sent to the client as is. Plain node:http,
 * no express: this runs on every MCP request and the framework was a third of its cost.
 */
export function handleVerify(verify: RequestVerifier, req: IncomingMessage, res: ServerResponse): void {
  const h = req.headers;
  verify({
    method: single(h['x-forwarded-method']) ?? req.method ?? 'GET',
    uri: single(h['x-forwarded-uri']) ?? '/',
    host: single(h['x-forwarded-host']) ?? h.host,
    authorization: h.authorization,
    upstreamRejected: single(h[UPSTREAM_REJECTED_HEADER.toLowerCase()]),
    // Traefik sends the original request's headers along.
    inSession: h['mcp-session-id'] !== undefined,
  }).then(
    (result) => {
      const headers: Record<string, string> = { ...result.headers, 'Cache-Control': 'no-store' };
      if (!result.body) {
        res.writeHead(result.status, headers).end();
        return;
      }
      headers['Content-Type'] = 'application/json; charset=utf-8';
      res.writeHead(result.status, headers).end(JSON.stringify(result.body));
    },
    (err: unknown) => {
      // Traefik's ForwardAuth hands this answer to the client: a 503 with Retry-After while the store is down.
      if (isStoreOutage(err)) return sendStoreOutage(res);
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' }).end('{"error":"server_error"}');
    },
  );
  // The request body, if any, is never read; drain it so keep-alive connections stay usable.
  req.resume();
}

export function isVerifyPath(url: string | undefined): boolean {
  return url === VERIFY_PATH || url?.startsWith(`${VERIFY_PATH}?`) === true;
}
