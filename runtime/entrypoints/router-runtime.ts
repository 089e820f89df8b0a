import type { IncomingMessage, ServerResponse } from 'node:http';
import { gatewayUrls } from '../auth/gateway-urls.js';
import type { GatewayConfig } from '../config/schema.js';
import type { ListenAddress } from '../http/listen-address.js';
import type { Logger } from '../logger.js';
import { createBuiltinRouter } from '../router/builtin-router.js';
import type { McpEndpoint } from '../bridge/bridge.js';
import { AUTH_URL, RUNTIME_PORT } from '../http/edge-contract.js';
import { createHttpForwardAuth } from '../router/http-forward-auth.js';
import { createReverseProxy, type ReverseProxy } from '../router/reverse-proxy.js';
import { replyHealth, serveRuntime, type RunningRuntime } from './http-runtime.js';
import { DEFAULT_ROUTER_LISTEN, loadRuntimeConfig, runtimeListen, runtimeUrl, type RuntimeEnv } from './runtime-env.js';

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
  /** How long the auth runtime's /health may take before the router reports itself unhealthy. */
  healthTimeoutMs?: number;
}

/**
 * The `router` container (deploy.router: builtin): the same router as the embedded gateway,
 * with ForwardAuth over HTTP to the auth runtime and each MCP endpoint stream-proxied to its
 * bridge container. `/health` is the auth runtime's: without it no request could be admitted.
 */
export function startRouterRuntime(deps: RouterRuntimeDeps, listen: ListenAddress): Promise<RunningRuntime> {
  const { config, authUrl, bridgeUrl, logger, healthTimeoutMs = 2_000 } = deps;
  const urls = gatewayUrls(config);
  const forwardAuth = createHttpForwardAuth({ authUrl, logger, ...(deps.forwardAuthTimeoutMs === undefined ? {} : { timeoutMs: deps.forwardAuthTimeoutMs }) });
  const auth = createReverseProxy({ name: 'auth', target: authUrl, logger });
  const bridges = new Map<string, ReverseProxy>(
    urls.serverNames.map((name) => [name, createReverseProxy({ name: `bridge-${name}`, target: bridgeUrl.replaceAll('{name}', name), logger })]),
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
    logger,
  });
  return serveRuntime('router', router, listen, {
    logger,
    deferContinue: true,
    cleanup: async () => {
      for (const proxy of [auth, ...bridges.values()]) proxy.close();
      forwardAuth.close();
    },
  });
}

/** `mcp-gateway runtime router`: MCPGW_CONFIG, MCPGW_LISTEN (default 0.0.0.0:8080), MCPGW_AUTH_URL, MCPGW_BRIDGE_URL. */
export async function startRouterRuntimeFromEnv({ env, logger }: { env: RuntimeEnv; logger: Logger }): Promise<RunningRuntime> {
  const { config } = await loadRuntimeConfig(env);
  return startRouterRuntime(
    {
      config,
      authUrl: runtimeUrl(env, 'MCPGW_AUTH_URL', DEFAULT_AUTH_URL),
      bridgeUrl: runtimeUrl(env, 'MCPGW_BRIDGE_URL', DEFAULT_BRIDGE_URL),
      logger,
    },
    runtimeListen(env, DEFAULT_ROUTER_LISTEN),
  );
}
