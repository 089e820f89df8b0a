import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayMetrics } from './gateway-metrics.js';
import { startTiming } from './request-timing.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * The gateway's listener with every answer counted (`mcp_gateway_http_requests_total`) and the
 * gateway's own time of each MCP request that reached a server measured (request-timing.ts).
 * `routeOf` names the request's route from a bounded set (http-routes.ts, `mcp`). A request
 * whose client left before the answer was sent counts with status `aborted`.
 *
 * Per request: one clock read, one WeakMap entry for MCP requests, one `close` listener.
 */
export function meteredHandler(handler: Handler, metrics: GatewayMetrics, routeOf: (req: IncomingMessage) => string): Handler {
  return (req, res) => {
    const start = performance.now();
    const route = routeOf(req);
    const timing = route === 'mcp' ? startTiming(req, start) : undefined;
    res.once('close', () => {
      metrics.httpRequest(route, res.writableFinished ? res.statusCode : 'aborted');
      if (timing !== undefined && timing.calls > 0) metrics.overhead(Math.max(0, performance.now() - start - timing.upstreamMs) / 1000);
    });
    handler(req, res);
  };
}
