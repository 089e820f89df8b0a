import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseListen } from '../http/listen-address.js';
import type { Logger } from '../logger.js';
import { GatewayMetrics } from '../metrics/gateway-metrics.js';
import { meteredHandler } from '../metrics/metered-handler.js';
import { startMetricsListener } from '../metrics/metrics-endpoint.js';
import type { RuntimeEnv } from './runtime-env.js';

/** Where each container serves GET /metrics without authentication: on its project network only, never published. */
export const METRICS_LISTEN_ENV = 'MCPGW_METRICS_LISTEN';
/** The port compose gives MCPGW_METRICS_LISTEN in every runtime (templates/compose/). */
export const METRICS_PORT = 9464;

export interface RuntimeMetrics {
  metrics: GatewayMetrics;
  /** The runtime's handler with its requests counted (metered-handler.ts). */
  meter(
    handler: (req: IncomingMessage, res: ServerResponse) => void,
    routeOf: (req: IncomingMessage) => string,
  ): (req: IncomingMessage, res: ServerResponse) => void;
  close(): void;
}

/**
 * The metrics of one container runtime (auth, a bridge, the router): Node's process metrics
 * and the runtime's own, on MCPGW_METRICS_LISTEN (compose sets 0.0.0.0:9464) when set.
 * `relayed`: other runtimes' metrics URLs this one serves at /metrics/NAME (the router's bridges).
 */
export async function startRuntimeMetrics(env: RuntimeEnv, logger: Logger, relayed?: ReadonlyMap<string, string>): Promise<RuntimeMetrics> {
  const metrics = new GatewayMetrics();
  const listen = env[METRICS_LISTEN_ENV];
  const listener = listen === undefined || listen === '' ? undefined : await startMetricsListener(metrics, parseListen(listen), logger, relayed);
  return {
    metrics,
    meter: (handler, routeOf) => meteredHandler(handler, metrics, routeOf),
    close() {
      listener?.server.close();
      listener?.server.closeAllConnections();
    },
  };
}
