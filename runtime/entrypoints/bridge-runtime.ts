import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Bridge } from '../bridge/bridge.js';
import type { GatewayConfig } from '../config/schema.js';
import { GatewayError } from '../errors.js';
import type { Logger } from '../logger.js';
import { createMcpServices } from '../mcp-services.js';
import { isHealthRequest, replyHealth, serveRuntime, type RunningRuntime, type RuntimeAddress } from './http-runtime.js';
import { loadRuntimeConfig, runtimeAddress, secretReader, type RuntimeEnv } from './runtime-env.js';
import { startRuntimeMetrics, type RuntimeMetrics } from './runtime-metrics.js';
import type { GatewayTracing } from '../tracing/gateway-tracing.js';
import { startTracing } from '../tracing/start-tracing.js';
import { createBridgeDrain } from './bridge-drain.js';

export interface BridgeRuntimeDeps {
  serverName: string;
  /** The stdio bridge or the remote proxy, as the embedded gateway builds it. */
  bridge: Bridge;
  logger: Logger;
  /** Counts this container's requests (MCPGW_METRICS_LISTEN); closed with the runtime. */
  metrics?: RuntimeMetrics;
  /** OpenTelemetry (runtime/tracing/): each request's `mcp.bridge` span, a child of the router's traceparent; shut down with the runtime. */
  tracing?: GatewayTracing | undefined;
  /** MCPGW_DRAIN_MS (swarm, Kubernetes): on SIGTERM, keep serving the sessions this long, taking no new one (bridge-drain.ts). */
  drainMs?: number;
}

/**
 * A `bridge-NAME` container: one server's bridge on its own port, or with `network: none` on a
 * Unix socket that only its relay container reaches (relay-runtime.ts). `GET /health` is the
 * bridge's cached initialize probe (no session per probe); every other request goes to the
 * bridge, which refuses any without `X-User-Sub`. Only the router (or Traefik after ForwardAuth)
 * reaches this port: it is never published.
 */
export async function startBridgeRuntime(
  { serverName, bridge, logger, metrics, tracing, drainMs = 0 }: BridgeRuntimeDeps,
  listen: RuntimeAddress,
): Promise<RunningRuntime<RuntimeAddress>> {
  const drain = createBridgeDrain({ drainMs, sessions: () => bridge.sessionCount });
  function health(req: IncomingMessage, res: ServerResponse): void {
    // Readiness (`/health?ready=1`, Kubernetes' readinessProbe): a draining replica is alive but takes no new session.
    if (drain.draining && new URLSearchParams((req.url ?? '').split('?')[1] ?? '').has('ready')) {
      replyHealth(res, false, { server: serverName, reason: 'draining: this replica is being replaced', sessions: bridge.sessionCount });
      return;
    }
    void bridge.health().then(({ ok, detail }) => {
      if (!ok) logger.warn({ event: 'health_failed', detail });
      replyHealth(res, ok, { server: serverName, detail, sessions: bridge.sessionCount });
    });
  }
  const handler = drain.wrap((req: IncomingMessage, res: ServerResponse): void => {
    if (isHealthRequest(req)) health(req, res);
    else {
      tracing?.bridge(req, res, serverName);
      void bridge.handle(req, res);
    }
  });
  metrics?.metrics.watchServers(() => new Map([[serverName, bridge]]));
  const running = await serveRuntime(
    `bridge-${serverName}`,
    metrics === undefined ? handler : metrics.meter(handler, (req) => (isHealthRequest(req) ? 'health' : 'mcp')),
    listen,
    {
      logger,
      whileStopping: drain.stopping,
      // Ends every session and waits for the children to exit.
      cleanup: async () => {
        await bridge.close();
        metrics?.close();
        await tracing?.shutdown();
      },
    },
  );
  if (drainMs <= 0) return running;
  let closing: Promise<void> | undefined;
  return {
    address: running.address,
    close() {
      closing ??= (async () => {
        logger.info(
          { event: 'bridge_draining', sessions: bridge.sessionCount, drainMs },
          `draining: no new session; serving ${bridge.sessionCount} for up to ${drainMs} ms`,
        );
        await drain.drain();
        await running.close();
      })();
      return closing;
    },
  };
}

export interface BridgeRuntimeEnvOptions {
  serverName: string;
  env: RuntimeEnv;
  logger: Logger;
  secretsDir?: string;
  /** Working directory of stdio servers that set no `cwd` (the container's: the server's data volume). */
  cwd?: string;
}

/**
 * `mcp-gateway runtime bridge NAME`: NAME's entry of MCPGW_CONFIG, built by the same selection
 * as the embedded gateway (stdio bridge, or remote proxy for `url` servers, whose header values
 * come from MCPGW_UPSTREAM_HEADERS).
 */
export async function startBridgeRuntimeFromEnv({
  serverName,
  env,
  logger,
  secretsDir,
  cwd = process.cwd(),
}: BridgeRuntimeEnvOptions): Promise<RunningRuntime<RuntimeAddress>> {
  const { config } = await loadRuntimeConfig(env);
  const server = Object.hasOwn(config.servers, serverName) ? config.servers[serverName] : undefined;
  if (server === undefined) {
    const known = Object.keys(config.servers);
    throw new GatewayError('ERR_SERVER_UNKNOWN', `server ${serverName} is not in the config`, {
      hint:
        known.length > 0
          ? `configured servers: ${known.join(', ')}; render the deploy folder again if one was added`
          : 'add one with mcp-gateway add-server, then render the deploy folder again',
    });
  }
  const listen = runtimeAddress(env);
  const headerNames = 'url' in server ? (server.headers ?? []) : [];
  const upstreamHeaders =
    headerNames.length > 0
      ? {
          [serverName]: headerValues(
            await secretReader(env, secretsDir).required('MCPGW_UPSTREAM_HEADERS', `the header values of server ${serverName}`),
            headerNames,
          ),
        }
      : undefined;
  // The container is the boundary (read-only root, no capabilities, no secrets of the gateway, its
  // own network or, with network: none, none at all): no host sandbox inside it. Its working directory is the server's data volume
  // (compose working_dir), named as the server's cwd so the child starts there whatever the
  // embedded gateway's default is.
  const own = 'command' in server && server.cwd === undefined ? { ...server, cwd } : server;
  const single: GatewayConfig = { ...config, servers: { [serverName]: own } };
  const metrics = await startRuntimeMetrics(env, logger);
  const tracing = await startTracing({ env, logger, runtime: 'bridge', server: serverName });
  const bridge = createMcpServices(single, {
    projectDir: cwd,
    logger,
    confinement: 'container',
    metrics: metrics.metrics,
    ...(upstreamHeaders ? { upstreamHeaders } : {}),
  }).get(serverName)!;
  try {
    return await startBridgeRuntime({ serverName, bridge, logger, metrics, tracing, drainMs: drainPeriod(env) }, listen);
  } catch (err) {
    await bridge.close();
    metrics.close();
    await tracing?.shutdown();
    throw err;
  }
}

/** MCPGW_DRAIN_MS: whole milliseconds, 0 or unset for none (compose: docker stop's 10 s are the shutdown grace alone). */
function drainPeriod(env: RuntimeEnv): number {
  const text = env['MCPGW_DRAIN_MS'];
  if (text === undefined || text === '') return 0;
  if (!/^\d{1,9}$/.test(text)) {
    throw new GatewayError('ERR_CONFIG_INVALID', `MCPGW_DRAIN_MS=${text} is not a whole number of milliseconds`, {
      hint: 'e.g. MCPGW_DRAIN_MS=30000 (deploy.drainPeriod); render the deploy folder again',
    });
  }
  return Number(text);
}

/** The JSON object of MCPGW_UPSTREAM_HEADERS, keyed by the configured names (matched case-insensitively, as from `.secrets/`). */
function headerValues(text: string, names: readonly string[]): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new GatewayError('ERR_CONFIG_INVALID', 'MCPGW_UPSTREAM_HEADERS must hold a JSON object of header names and values', {
      hint: 'it is the content of .secrets/servers/NAME.headers.json; render the deploy folder again (mcp-gateway render)',
    });
  }
  const stored = new Map(Object.entries(parsed).map(([key, value]) => [key.toLowerCase(), value] as const));
  const values: Record<string, string> = {};
  for (const name of names) {
    const value = stored.get(name.toLowerCase());
    if (typeof value === 'string') values[name] = value;
  }
  return values;
}
