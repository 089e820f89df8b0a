import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { clientAddress } from './http/client-address.js';
import { createAuthHandler } from './auth/auth-app.js';
import { type AuthDeps, createAuthContext } from './auth/auth-context.js';
import { createRequestVerifier } from './auth/tokens/verify-request.js';
import type { Bridge } from './bridge/bridge.js';
import type { GatewayConfig } from './config/schema.js';
import { createHealthHandler, createMcpServices } from './mcp-services.js';
import { createBuiltinRouter } from './router/builtin-router.js';
import { createDrain } from './http/graceful-drain.js';
import { applyReload, type ReloadDeps } from './reload/apply-reload.js';
import type { ReloadPlan } from './reload/reload-plan.js';

import { deferContinue } from './http/expect-continue.js';
import { listenOn, parseListen, type ListenAddress } from './http/listen-address.js';
import { GatewayMetrics } from './metrics/gateway-metrics.js';
import { meteredHandler } from './metrics/metered-handler.js';
import { meteredStore } from './metrics/metered-store.js';
import { routeClassifier } from './metrics/http-routes.js';
import { startMetricsListener } from './metrics/metrics-endpoint.js';
import { verifierWithMetrics } from './metrics/verify-decisions.js';
import { startTracing } from './tracing/start-tracing.js';
import { tracedEndpoints } from './router/traced-endpoints.js';
import type { OtelEnv } from './tracing/tracing-settings.js';
import { createRecentAudit } from './logging/recent-audit.js';

export interface GatewayDeps extends AuthDeps {
  /** Working directory for stdio servers that configure none (the project directory). */
  projectDir: string;
  /** Static upstream header values of remote servers, by server name (from `.secrets/servers/`). */
  upstreamHeaders?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Re-reads remote servers' header values for a reloaded config. */
  loadUpstreamHeaders?: (config: GatewayConfig) => Promise<Readonly<Record<string, Readonly<Record<string, string>>>>>;
  /** The gateway's metrics (runtime/metrics/); one without the process defaults when absent. */
  metrics?: GatewayMetrics;
  /** The OTEL_* variables that turn traces on (runtime/tracing/, docs/tracing.md); process.env by default. */
  otelEnv?: OtelEnv;
}

export interface RunningGateway {
  /** Where the HTTP server actually listens (port resolved when 0 was asked for). */
  address: ListenAddress;
  bridges: ReadonlyMap<string, Bridge>;
  metrics: GatewayMetrics;
  /** Where `metrics.listen` serves GET /metrics, when configured. */
  metricsAddress?: ListenAddress;
  /** Picks up rotated signing keys now (`mcp-gateway reload`); resolves true when they changed. */
  reloadKeys(): Promise<boolean>;
  /** Serves a new config's servers and allowlist without a restart (runtime/reload/); rejects, changing nothing, when it cannot. */
  applyConfig(next: GatewayConfig): Promise<ReloadPlan>;
  close(): Promise<void>;
}

export { launchFor } from './mcp-services.js';

/**
 * The embedded gateway: built-in router + auth runtime + one bridge per server in this process,
 * on one HTTP listener. Resolves once it listens; `/health` answers 200 from then on while the
 * store is reachable.
 */
export async function startGateway(deps: GatewayDeps, listen: ListenAddress): Promise<RunningGateway> {
  const { config, logger } = deps;
  // First: a setting it cannot honour fails the start before anything runs.
  const tracing = await startTracing({ env: deps.otelEnv ?? process.env, logger, runtime: 'serve' });
  const metrics = deps.metrics ?? new GatewayMetrics({ defaults: false });
  const store = meteredStore(deps.store, metrics);
  // The admin page's last events: the auth audit and every server's tool-call audit feed it.
  const recentAudit = createRecentAudit();
  // `bridges` is read only when the admin page asks, long after it exists.
  const ctx = createAuthContext({ ...deps, store, metrics, recentAudit, servers: () => bridges });
  /** A remote server refused a user's own upstream token (servers.NAME.oauth): the vault refreshes it once, or forgets the grant. */
  const onUpstreamRejected = (server: string, user: string, authorization: string): void => {
    const token = authorization.replace(/^Bearer +/i, '');
    void ctx.upstreamOAuth.vault.markRejected(user, server, token).catch((err: unknown) => {
      logger.info(
        { event: 'upstream_grant_rejected', server, code: (err as { code?: string }).code },
        'the upstream refused the grant; the user authorizes again',
      );
    });
  };
  // One verifier, so the router and /verify share its verified-token cache.
  const verify = verifierWithMetrics(createRequestVerifier(ctx), metrics);
  // Behind the operator's TLS proxy (trustedProxies), the client's address is the one it forwards for.
  const client = clientAddress(config.trustedProxies ?? []);
  const authApp = createAuthHandler(ctx, { verify, trustedProxies: config.trustedProxies });
  const bridges = createMcpServices(config, {
    projectDir: deps.projectDir,
    logger,
    // Rate limits count in the store: shared by every gateway process on one Redis.
    rates: store.rates,
    metrics,
    recentAudit,
    ...(deps.upstreamHeaders ? { upstreamHeaders: deps.upstreamHeaders } : {}),
    onUpstreamRejected,
  });
  metrics.watchServers(() => bridges);
  const reloadDeps: ReloadDeps = {
    ctx,
    services: bridges,
    logger,
    serviceDeps: { projectDir: deps.projectDir, logger, rates: store.rates, metrics, recentAudit, onUpstreamRejected },
    ...(deps.loadUpstreamHeaders ? { loadUpstreamHeaders: deps.loadUpstreamHeaders } : {}),
  };
  const health = createHealthHandler(store, bridges, logger);

  const router = createBuiltinRouter({
    urls: ctx.urls,
    forwardAuth: verify,
    services: tracing === undefined ? bridges : tracedEndpoints(bridges, tracing),
    auth: (req, res) => authApp(req, res),
    health,
    clientAddress: client,
    logger,
    tracing,
  });
  const drain = createDrain(router);
  const handler = meteredHandler(drain.handler, metrics, routeClassifier(ctx.urls));
  const server = createServer(handler);
  deferContinue(server, handler);
  let metricsListener: Awaited<ReturnType<typeof startMetricsListener>> | undefined;
  try {
    await listenOn(server, listen);
    if (config.metrics?.listen !== undefined) metricsListener = await startMetricsListener(metrics, parseListen(config.metrics.listen), logger);
  } catch (err) {
    server.close();
    // Warm pools have started children already; a gateway that never listened must not leave them.
    await Promise.all([...bridges.values()].map((b) => b.close()));
    await tracing?.shutdown();
    throw err;
  }
  const { port } = server.address() as AddressInfo;
  logger.info({ event: 'gateway_listening', host: listen.host, port, publicUrl: config.publicUrl, servers: [...bridges.keys()] });

  let closing: Promise<void> | undefined;
  return {
    address: { host: listen.host, port },
    bridges,
    metrics,
    ...(metricsListener === undefined ? {} : { metricsAddress: metricsListener.address }),
    reloadKeys: () => ctx.reloadKeys({ force: true }),
    applyConfig: (next) => applyReload(next, reloadDeps),
    close() {
      closing ??= (async () => {
        // Still listening while draining: a new request gets a 503 with Retry-After, not a refused connection.
        const graceMs = config.shutdownGrace;
        if (drain.inFlight > 0) logger.info({ event: 'gateway_draining', inFlight: drain.inFlight, graceMs }, 'waiting for requests in flight');
        if (!(await drain.drain(graceMs)))
          logger.warn({ event: 'gateway_drain_timeout', inFlight: drain.inFlight, graceMs }, 'requests still in flight after the shutdown grace; ending them');
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        metricsListener?.server.close();
        metricsListener?.server.closeAllConnections();
        await Promise.all([...bridges.values()].map((b) => b.close()));
        // Open SSE streams ended with their sessions; drop idle keep-alive sockets too.
        server.closeAllConnections();
        await stopped;
        await store.close();
        // Last: every span has ended with its request; the queued ones are exported now.
        await tracing?.shutdown();
        logger.info({ event: 'gateway_stopped' });
      })();
      return closing;
    },
  };
}
