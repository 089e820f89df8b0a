import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gatewayUrls } from '../auth/gateway-urls.js';
import type { GatewayConfig } from '../config/schema.js';
import type { ListenAddress } from '../http/listen-address.js';
import type { Logger } from '../logger.js';
import { createBuiltinRouter } from '../router/builtin-router.js';
import type { McpEndpoint } from '../bridge/bridge.js';
import { AUTH_URL, RUNTIME_PORT } from '../http/edge-contract.js';
import { createHttpForwardAuth } from '../router/http-forward-auth.js';
import { clientAddressBy, ignoredForwardingHint, proxyTrust } from '../http/client-address.js';
import type { LookupAll } from '../http/lookup-all.js';
import { trustedProxyHosts } from '../router/trusted-proxy-hosts.js';
import { createReverseProxy, type ReverseProxy } from '../router/reverse-proxy.js';
import { replyHealth, serveRuntime, type RunningRuntime } from './http-runtime.js';
import { DEFAULT_ROUTER_LISTEN, loadRuntimeConfig, runtimeListen, runtimeUrl, secretReader, type RuntimeEnv } from './runtime-env.js';
import { checkSessionKey } from '../config/session-key.js';
import { GatewayError } from '../errors.js';
import { createReplicaRouter } from '../router/replicas/replica-router.js';
import { createReplicaSet, dnsReplicas, type ReplicaAddress } from '../router/replicas/replica-set.js';
import { createSessionSeal } from '../router/replicas/session-seal.js';
import { METRICS_PORT, startRuntimeMetrics, type RuntimeMetrics } from './runtime-metrics.js';
import { routeClassifier } from '../metrics/http-routes.js';
import type { GatewayTracing } from '../tracing/gateway-tracing.js';
import { startTracing } from '../tracing/start-tracing.js';

export const DEFAULT_AUTH_URL = AUTH_URL;
export const DEFAULT_BRIDGE_URL = `http://bridge-{name}:${RUNTIME_PORT}`;

export interface RouterRuntimeDeps {
  config: GatewayConfig;
  /** The auth runtime's base URL: `/verify` for ForwardAuth, everything that is not MCP, `/health`. */
  authUrl: string;
  /** Base URL of each server's bridge; `{name}` is replaced by the server name. */
  bridgeUrl: string;
  logger: Logger;
  /** How long ForwardAuth may take before a request gets 503. */
  forwardAuthTimeoutMs?: number;
  /** MCPGW_TRUSTED_PROXY_HOSTS: proxies in front known by name (`tasks.traefik` on a swarm), trusted as trustedProxies are. */
  trustedProxyHosts?: readonly string[];
  /** How those names are looked up (tests); DNS by default. */
  lookupProxyHost?: LookupAll;
  /** How long the auth runtime's /health may take before the router reports itself unhealthy. */
  healthTimeoutMs?: number;
  /** Counts this container's requests (MCPGW_METRICS_LISTEN); closed with the runtime. */
  metrics?: RuntimeMetrics;
  /** OpenTelemetry (runtime/tracing/): each MCP request's root span, its token check, a traceparent to the bridge; shut down with the runtime. */
  tracing?: GatewayTracing | undefined;
  /** MCPGW_SESSION_KEY: seals session ids so any router replica routes a session to its bridge replica; a random one (this process only) when unset. */
  sessionKey?: Uint8Array;
  /** Every replica of a server's bridge now, as host:port; default: the addresses its bridge URL's host resolves to (replica-set.ts). */
  resolveReplicas?: (server: string, bridgeUrl: URL) => () => Promise<ReplicaAddress[]>;
}

/**
 * The `router` container (deploy.router: builtin): the same router as the embedded gateway,
 * with ForwardAuth over HTTP to the auth runtime and each MCP endpoint stream-proxied to its
 * bridge container. `/health` is the auth runtime's: without it no request could be admitted.
 */
export async function startRouterRuntime(deps: RouterRuntimeDeps, listen: ListenAddress): Promise<RunningRuntime> {
  const { config, authUrl, bridgeUrl, logger, healthTimeoutMs = 2_000 } = deps;
  const urls = gatewayUrls(config);
  const forwardAuth = createHttpForwardAuth({ authUrl, logger, ...(deps.forwardAuthTimeoutMs === undefined ? {} : { timeoutMs: deps.forwardAuthTimeoutMs }) });
  // Behind an Ingress or a load balancer the operator trusts (trustedProxies), the client is who it forwards for.
  const proxyHosts = deps.trustedProxyHosts?.length
    ? trustedProxyHosts({ names: deps.trustedProxyHosts, logger, ...(deps.lookupProxyHost ? { lookup: deps.lookupProxyHost } : {}) })
    : undefined;
  await proxyHosts?.ready;
  const trust = proxyTrust(config.trustedProxies ?? [], proxyHosts === undefined ? {} : { trustedPeer: proxyHosts.has });
  const forwardedFor = clientAddressBy(trust);
  const hint = ignoredForwardingHint(trust, logger);
  const clientAddressOf = (req: IncomingMessage): string | undefined => {
    hint(req);
    return forwardedFor(req);
  };
  const auth = createReverseProxy({ name: 'auth', target: authUrl, logger, clientAddress: clientAddressOf });
  const seal = createSessionSeal(deps.sessionKey ?? randomBytes(32));
  const resolveReplicas = deps.resolveReplicas ?? ((_server: string, url: URL) => dnsReplicas(url));
  // Each server's replicas (one in compose, `servers.NAME.replicas` in a swarm or Kubernetes), each session to its owner.
  const bridges = new Map<string, ReverseProxy>(
    urls.serverNames.map((name) => {
      const target = new URL(bridgeUrl.replaceAll('{name}', name));
      const replicas = createReplicaSet({ resolve: resolveReplicas(name, target) });
      return [name, createReplicaRouter({ server: name, replicas, seal, logger, basePath: target.pathname, clientAddress: clientAddressOf })];
    }),
  );
  const healthUrl = `${authUrl}/health`;

  function health(_req: IncomingMessage, res: ServerResponse): void {
    fetch(healthUrl, { signal: AbortSignal.timeout(healthTimeoutMs) }).then(
      async (answer) => {
        await answer.body?.cancel();
        if (answer.status !== 200) logger.warn({ event: 'health_failed', auth: answer.status });
        replyHealth(res, answer.status === 200, answer.status === 200 ? {} : { reason: `auth answered /health with HTTP ${answer.status}` });
      },
      (err: unknown) => {
        logger.warn({ event: 'health_failed', err: (err as Error).message });
        replyHealth(res, false, { reason: 'auth unreachable' });
      },
    );
  }

  const router = createBuiltinRouter({
    urls,
    forwardAuth: forwardAuth.verify,
    services: bridges as ReadonlyMap<string, McpEndpoint>,
    auth: (req, res) => void auth.handle(req, res),
    health,
    clientAddress: clientAddressOf,
    logger,
    tracing: deps.tracing,
  });
  const { metrics } = deps;
  return serveRuntime('router', metrics === undefined ? router : metrics.meter(router, routeClassifier(urls)), listen, {
    logger,
    deferContinue: true,
    cleanup: async () => {
      for (const proxy of [auth, ...bridges.values()]) proxy.close();
      forwardAuth.close();
      proxyHosts?.close();
      metrics?.close();
      await deps.tracing?.shutdown();
    },
  });
}

/** `mcp-gateway runtime router`: MCPGW_CONFIG, MCPGW_LISTEN (default 0.0.0.0:8080), MCPGW_AUTH_URL, MCPGW_BRIDGE_URL. */
export async function startRouterRuntimeFromEnv({ env, logger }: { env: RuntimeEnv; logger: Logger }): Promise<RunningRuntime> {
  const { config } = await loadRuntimeConfig(env);
  const bridgeUrl = runtimeUrl(env, 'MCPGW_BRIDGE_URL', DEFAULT_BRIDGE_URL);
  // Each networked bridge's metrics, relayed at /metrics/bridge-NAME (a network: none bridge has no port to read).
  const relayed = new Map(
    Object.entries(config.servers)
      .filter(([, server]) => !('network' in server && server.network === 'none'))
      .map(([name]) => {
        const bridge = new URL(bridgeUrl.replaceAll('{name}', name));
        return [`bridge-${name}`, `${bridge.protocol}//${bridge.hostname}:${METRICS_PORT}/metrics`] as const;
      }),
  );
  const keyText = await secretReader(env).optional('MCPGW_SESSION_KEY');
  if (keyText === undefined) {
    logger.warn(
      { event: 'session_key_missing' },
      'MCPGW_SESSION_KEY is not set: session ids are sealed with a key of this process only, so they end when it restarts and no other router replica can route them; render the deploy folder again',
    );
  }
  const sessionKey = keyText === undefined ? undefined : Buffer.from(checkSessionKey(keyText, 'MCPGW_SESSION_KEY'), 'base64url');
  const metrics = await startRuntimeMetrics(env, logger, relayed);
  const tracing = await startTracing({ env, logger, runtime: 'router' });
  try {
    return await startRouterRuntime(
      {
        config,
        authUrl: runtimeUrl(env, 'MCPGW_AUTH_URL', DEFAULT_AUTH_URL),
        bridgeUrl,
        logger,
        metrics,
        tracing,
        ...(sessionKey === undefined ? {} : { sessionKey }),
        trustedProxyHosts: trustedProxyHostsOf(env),
      },
      runtimeListen(env, DEFAULT_ROUTER_LISTEN),
    );
  } catch (err) {
    metrics.close();
    await tracing?.shutdown();
    throw err;
  }
}

const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** MCPGW_TRUSTED_PROXY_HOSTS: comma-separated host names of proxies in front (render sets `tasks.traefik` on a swarm with router: traefik). */
function trustedProxyHostsOf(env: RuntimeEnv): string[] {
  const names = (env['MCPGW_TRUSTED_PROXY_HOSTS'] ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const wrong = names.find((name) => !HOST_NAME.test(name));
  if (wrong !== undefined) {
    throw new GatewayError('ERR_CONFIG_INVALID', `MCPGW_TRUSTED_PROXY_HOSTS holds ${JSON.stringify(wrong.slice(0, 60))}, which is not a host name`, {
      hint: 'comma-separated host names such as tasks.traefik; addresses and ranges belong in trustedProxies of mcp-gateway.yaml',
    });
  }
  return names;
}
