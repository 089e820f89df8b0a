import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayUrls } from '../auth/gateway-urls.js';
import type { ForwardedRequest, VerifyResult } from '../auth/tokens/verify-request.js';
import type { Logger } from '../logger.js';
import { type ClientAddress, peerAddress } from '../http/client-address.js';
import { discardBodyUpTo } from '../http/discard-body.js';
import { sendContinue } from '../http/expect-continue.js';
import { isStoreOutage, sendStoreOutage } from '../http/store-outage.js';
import { corsResponseHeaders, IDENTITY_HEADERS, MCP_CORS, STRIPPED_REQUEST_HEADERS, UPSTREAM_REJECTED_HEADER } from '../http/edge-contract.js';
import type { GatewayTracing } from '../tracing/gateway-tracing.js';
import type { EndpointLookup } from './traced-endpoints.js';

/** What the router needs of an MCP service: the bridge for stdio servers, a proxy for remote ones. */

export interface BuiltinRouterOptions {
  urls: GatewayUrls;
  /** ForwardAuth: in-process call to the auth runtime's verifier, or an HTTP client to `/verify`. */
  forwardAuth: (req: ForwardedRequest) => Promise<VerifyResult>;
  services: EndpointLookup;
  /** Everything that is not an MCP endpoint or /health: the auth runtime (OAuth, discovery, login, consent). */
  auth: (req: IncomingMessage, res: ServerResponse) => void;
  health: (req: IncomingMessage, res: ServerResponse) => void;
  /** Who the client is, for /verify's log lines: this connection's peer unless trustedProxies says otherwise. */
  clientAddress?: ClientAddress;
  logger: Logger;
  /** OpenTelemetry (runtime/tracing/): the root span of each MCP request and its token check; none when traces are off. */
  tracing?: GatewayTracing | undefined;
}

/** Headers the MCP server behind the gateway must never see: the client's credentials and forged identities (Node's lowercase keys). */
const STRIPPED_HEADERS = STRIPPED_REQUEST_HEADERS.map((name) => name.toLowerCase());

/** What is read of a refused request's body before the connection is cut (the rest never leaves the client's socket buffers). */
export const UNAUTHENTICATED_BODY_BYTES = 64 * 1024;

/** The edge contract's MCP CORS policy, the one Traefik's cors-mcp middleware is rendered from. */
const MCP_CORS_HEADERS = corsResponseHeaders(MCP_CORS);

/**
 * The built-in router: the same contract as Traefik with the ForwardAuth middleware (the edge
 * contract, edge-contract.ts). `/NAME/mcp` goes to NAME's service after ForwardAuth approves it,
 * with the identity in `X-User-*` headers and without the client's credentials; everything else
 * goes to the auth runtime.
 */
export function createBuiltinRouter({ urls, forwardAuth, services, auth, health, clientAddress = peerAddress, logger, tracing }: BuiltinRouterOptions) {
  const mcpRoute = urls.routing === 'subdomain' ? '/mcp' : '/{server}/mcp';
  return function route(req: IncomingMessage, res: ServerResponse): void {
    const uri = req.url ?? '/';
    const path = uri.split('?', 1)[0]!;
    const server = path === '/health' ? undefined : urls.serverForRequest(req.headers.host, path);
    const service = server === undefined ? undefined : services.get(server);
    if (server === undefined || service === undefined) {
      // Not an MCP endpoint: the auth runtime reads its own (size-limited) bodies.
      sendContinue(req, res);
      if (path === '/health') health(req, res);
      else auth(req, res);
      return;
    }
    for (const [name, value] of Object.entries(MCP_CORS_HEADERS)) res.setHeader(name, value);
    // CORS preflights carry no credentials by design; they must not be challenged.
    if (req.method === 'OPTIONS') {
      res.writeHead(204).end();
      return;
    }
    const forwarded: ForwardedRequest = {
      method: req.method ?? 'GET',
      uri,
      host: req.headers.host,
      authorization: req.headers.authorization,
      clientIp: clientAddress(req),
      inSession: req.headers['mcp-session-id'] !== undefined,
    };
    (tracing === undefined ? forwardAuth(forwarded) : tracing.request(req, res, server, mcpRoute).verify(() => forwardAuth(forwarded)))
      .then((result) => {
        if (result.status !== 200) {
          // No `100 Continue` was sent (deferContinue), and the body is not wanted: the answer
          // closes the connection, and at most UNAUTHENTICATED_BODY_BYTES are read meanwhile, so
          // a client without a token cannot make the gateway swallow a 1 GB upload.
          res.writeHead(result.status, { ...result.headers, 'Content-Type': 'application/json', 'Cache-Control': 'no-store', Connection: 'close' });
          res.end(JSON.stringify(result.body ?? { error: 'unauthorized' }));
          discardBodyUpTo(req, UNAUTHENTICATED_BODY_BYTES);
          return;
        }
        sendContinue(req, res);
        for (const name of STRIPPED_HEADERS) delete req.headers[name];
        Object.assign(req.headers, result.headers);
        const upstreamToken = result.headers[UPSTREAM_AUTHORIZATION];
        if (upstreamToken !== undefined) {
          onUpstreamRejection(res, () => {
            forwardAuth({ ...forwarded, upstreamRejected: upstreamToken }).catch((err: unknown) =>
              logger.warn({ event: 'upstream_rejection_unreported', server, err: (err as Error).message }, 'could not tell the auth runtime'),
            );
          });
        }
        return service.handle(req, res);
      })
      .catch((err: unknown) => {
        if (isStoreOutage(err)) {
          logger.warn({ event: 'store_unavailable', server, err: (err as Error).message }, 'store unreachable; answering 503');
          return sendStoreOutage(res);
        }
        logger.error({ event: 'router_error', server, err }, 'request failed in the router');
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: 'server_error' }));
        else res.destroy();
      });
  };
}

const UPSTREAM_AUTHORIZATION = IDENTITY_HEADERS.upstreamAuthorization.toLowerCase();
const UPSTREAM_REJECTED = UPSTREAM_REJECTED_HEADER.toLowerCase();

/**
 * Calls `report` when the server's proxy answers 401 marked UPSTREAM_REJECTED_HEADER (the
 * upstream refused the user's own token), and removes the mark, which is for the router alone.
 * writeHead is wrapped because a relayed answer passes its headers there, not via setHeader.
 */
function onUpstreamRejection(res: ServerResponse, report: () => void): void {
  const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
  (res as { writeHead: (...args: unknown[]) => ServerResponse }).writeHead = (...args: unknown[]) => {
    const headers = args.find((arg, i) => i > 0 && typeof arg === 'object' && arg !== null && !Array.isArray(arg)) as Record<string, unknown> | undefined;
    const marked = headers !== undefined && Object.keys(headers).find((name) => name.toLowerCase() === UPSTREAM_REJECTED);
    if (marked) delete headers[marked];
    const set = res.getHeader(UPSTREAM_REJECTED) !== undefined;
    if (set) res.removeHeader(UPSTREAM_REJECTED);
    // A 401, or the -32042 of a client that supports URL-mode elicitation (remote-proxy.ts).
    if (marked || set) report();
    return writeHead(...args);
  };
}
