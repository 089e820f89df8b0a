import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../logger.js';
import { listenOn, type ListenAddress } from '../http/listen-address.js';
import type { GatewayMetrics } from './gateway-metrics.js';
import type { LookupAll } from '../http/lookup-all.js';
import { replicaMetrics } from './replica-metrics.js';

export const METRICS_PATH = '/metrics';

function sendJson(res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers }).end(JSON.stringify(body));
}

/**
 * GET /metrics in the Prometheus text format. `authorised` guards it on the public listener
 * (the admin token); the separate `metrics.listen` listener has none, being the operator's
 * internal address. Only GET and HEAD; the registry is read, never written, by a request.
 */
export function metricsHandler(metrics: GatewayMetrics, logger: Logger, authorised?: (authorization: string | undefined) => boolean) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { error: 'method_not_allowed', error_description: 'GET /metrics' }, { Allow: 'GET, HEAD' });
      return;
    }
    if (authorised !== undefined && !authorised(req.headers.authorization)) {
      sendJson(
        res,
        401,
        { error: 'unauthorized', error_description: 'GET /metrics needs Authorization: Bearer <the content of .secrets/admin-token>, or set metrics.listen' },
        { 'WWW-Authenticate': 'Bearer realm="mcp-gateway metrics"' },
      );
      return;
    }
    metrics.exposition().then(
      ({ contentType, body }) => {
        res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (err: unknown) => {
        logger.error({ event: 'metrics_error', err }, 'could not collect the metrics');
        sendJson(res, 500, { error: 'server_error', error_description: 'could not collect the metrics; see the gateway log' });
      },
    );
  };
}

const RELAY_TIMEOUT_MS = 3_000;

/**
 * `GET /metrics/NAME`: the metrics of a runtime this one reaches and a scraper does not (the
 * router container relays each bridge's, whose network only the router shares, so Prometheus
 * needs no way into a bridge's network, where X-User-* headers are trusted). Only the names
 * given; the target URL is fixed by the deployment, never taken from the request. A name with
 * several replicas (a swarm's tasks, a headless Service's pods) is read from each of them, every
 * sample labelled with its replica (replica-metrics.ts).
 */
function relayMetrics(url: string, req: IncomingMessage, res: ServerResponse, lookup: LookupAll | undefined): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendJson(res, 405, { error: 'method_not_allowed', error_description: 'GET /metrics/NAME' }, { Allow: 'GET, HEAD' });
    return;
  }
  replicaMetrics(url, { timeoutMs: RELAY_TIMEOUT_MS, ...(lookup === undefined ? {} : { lookup }) })
    .then(({ contentType, body }) => {
      res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    })
    .catch((err: unknown) => {
      sendJson(res, 502, { error: 'bad_gateway', error_description: `could not read ${url}: ${err instanceof Error ? err.message : String(err)}` });
    });
}

/**
 * The `metrics.listen` listener (and MCPGW_METRICS_LISTEN in containers): GET /metrics and,
 * when `relayed` names some, GET /metrics/NAME; nothing else, without authentication.
 */
export async function startMetricsListener(
  metrics: GatewayMetrics,
  listen: ListenAddress,
  logger: Logger,
  relayed: ReadonlyMap<string, string> = new Map(),
  /** How a relayed runtime's replicas are found (tests); DNS by default. */
  lookup?: LookupAll,
): Promise<{ server: Server; address: ListenAddress }> {
  const handle = metricsHandler(metrics, logger);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0]!;
    if (path === METRICS_PATH) return handle(req, res);
    const target = path.startsWith(`${METRICS_PATH}/`) ? relayed.get(path.slice(METRICS_PATH.length + 1)) : undefined;
    if (target !== undefined) return relayMetrics(target, req, res, lookup);
    sendJson(res, 404, { error: 'not_found', error_description: `this listener serves GET /metrics${relayed.size > 0 ? ' and /metrics/NAME' : ''} only` });
  });
  // Scrapers keep their connections; nothing here is worth holding a shutdown for.
  server.keepAliveTimeout = 65_000;
  await listenOn(server, listen);
  const bound = server.address();
  const port = typeof bound === 'object' && bound !== null ? bound.port : listen.port;
  logger.info({ event: 'metrics_listening', host: listen.host, port }, `metrics on http://${listen.host}:${port}${METRICS_PATH}`);
  return { server, address: { host: listen.host, port } };
}
