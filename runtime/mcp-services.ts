import type { IncomingMessage, ServerResponse } from 'node:http';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { StdioLaunch } from './bridge/child-process-session.js';
import { createRemoteProxy } from './bridge/remote-proxy.js';
import { createStdioBridge } from './bridge/streamable-http-bridge.js';
import type { Bridge } from './bridge/bridge.js';
import type { AggregateServerConfig, GatewayConfig, MemberServerConfig, RemoteServerConfig } from './config/schema.js';
import { GatewayError } from './errors.js';
import type { Logger } from './logger.js';
import type { Store } from './store/store.js';
import type { GatewayMetrics } from './metrics/gateway-metrics.js';
import type { RecentAudit } from './logging/recent-audit.js';
import { memoryRateCounter, type RateCounter } from './store/rate-counter.js';
import { toolGateFor } from './access/server-gate.js';
import type { ToolGate } from './access/tool-gate.js';
import { createAggregateGate } from './aggregate/aggregate-gate.js';
import { AGGREGATE_SPEC_ENV, type AggregateSpec } from './aggregate/aggregate-spec.js';
import { confinedLaunch } from './bridge/sandbox/confined-launch.js';
import { gatewayUrls } from './auth/gateway-urls.js';
import { hostSandbox, type SandboxAvailability } from './bridge/sandbox/sandbox-probe.js';

/** A server the bridge starts as a child process: a command, or one shipped in this package. */
export type StdioLikeServer = Exclude<MemberServerConfig, RemoteServerConfig>;

const AGGREGATE_SERVER_SCRIPT = builtScript('aggregate/aggregate-server.js');
const DEMO_SERVER_SCRIPT = builtScript('demo/demo-mcp-server.js');

/**
 * A script of this package that runs as a child process: beside this module once built
 * (dist/runtime/), or, when this module runs from its TypeScript source (the test runner), the
 * built copy under dist/ (npm test builds first).
 */
function builtScript(relative: string): string {
  const beside = fileURLToPath(new URL(`./${relative}`, import.meta.url));
  return existsSync(beside) ? beside : fileURLToPath(new URL(`../dist/runtime/${relative}`, import.meta.url));
}

/** How to start a configured stdio server: a command line, or a server shipped with this package. */
export function launchFor(server: StdioLikeServer, projectDir: string): StdioLaunch {
  if ('builtin' in server) return { command: process.execPath, args: [DEMO_SERVER_SCRIPT], env: {}, cwd: projectDir };
  return { command: server.command, args: server.args, env: server.env, cwd: server.cwd ?? projectDir };
}

export interface McpServicesDeps {
  /** Working directory for stdio servers that configure none (the project directory). */
  projectDir: string;
  logger: Logger;
  /** Static upstream header values of remote servers, by server name (from `.secrets/servers/`). */
  upstreamHeaders?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /**
   * What confines stdio servers: `host` (default, `serve`) wraps each child in the OS sandbox
   * (runtime/bridge/sandbox/); `container` runs it as is, because the bridge container is the
   * boundary (read-only root, no capabilities, no secrets; runtime/deploy).
   */
  confinement?: 'host' | 'container';
  /** The host's sandbox (probed once per process by default; tests pass one). */
  sandbox?: SandboxAvailability;
  /** Where rate limits count (the store's counters: shared on Redis); this process's memory by default. */
  rates?: RateCounter;
  /** Tool-call counts and durations, and which tool names may be labels (runtime/metrics/). */
  metrics?: GatewayMetrics;
  /** Where the tool-call audit also goes for the admin page (runtime/logging/recent-audit.ts). */
  recentAudit?: RecentAudit;
  /**
   * A remote server with `oauth` refused a user's upstream token (serve: the vault marks it, so
   * the next request refreshes it or asks the user to authorize again). Absent in a bridge
   * container, which cannot reach the auth runtime; the token then lasts until it is refreshed.
   */
  onUpstreamRejected?: (server: string, user: string, authorization: string) => void;
}

/** How the bridge starts one stdio server: its configured command line, inside the host's sandbox unless the container already confines it. */
export function serverLaunch(
  name: string,
  server: StdioLikeServer,
  config: GatewayConfig,
  deps: Pick<McpServicesDeps, 'projectDir' | 'confinement' | 'sandbox'>,
): StdioLaunch {
  const launch = launchFor(server, deps.projectDir);
  if (deps.confinement === 'container') return launch;
  return confinedLaunch({ name, server, launch, config, projectDir: deps.projectDir, sandbox: deps.sandbox ?? hostSandbox() });
}

/**
 * One service per configured server: a stdio bridge (a child process per session) or a proxy to
 * a remote Streamable HTTP server. Browser requests are accepted from the public URL's origin
 * and the configured `allowedOrigins`.
 */
export function createMcpServices(config: GatewayConfig, deps: McpServicesDeps): Map<string, Bridge> {
  const allowedOrigins = [config.publicUrl, ...(config.allowedOrigins ?? [])].map((url) => url.origin);
  // Checked before any service exists: a warm pool starts children as soon as it is created.
  const upstreamHeaders = new Map<string, Record<string, string>>();
  for (const [name, server] of Object.entries(config.servers)) {
    if (!('url' in server)) continue;
    const names = server.headers ?? [];
    const values = deps.upstreamHeaders?.[name] ?? {};
    const missing = names.find((header) => values[header] === undefined);
    if (missing !== undefined) {
      throw new GatewayError('ERR_SECRET_MISSING', `the value of header ${missing} for server ${name} is missing`, {
        hint: `write it: mcp-gateway add-server ${name} --url ${server.url} --header ${missing}=VALUE --force`,
      });
    }
    upstreamHeaders.set(name, Object.fromEntries(names.map((header) => [header, values[header]!])));
  }
  // Also before any service exists: every server's sandbox is set up, or the gateway does not start.
  const launches = new Map<string, StdioLaunch>();
  for (const [name, server] of Object.entries(config.servers)) {
    if (!('url' in server) && !('aggregate' in server)) launches.set(name, serverLaunch(name, server, config, deps));
  }
  const rates = deps.rates ?? memoryRateCounter();
  const urls = gatewayUrls(config);
  // Every member's gate first: an aggregate puts each call to its member's.
  const gates = new Map<string, ToolGate>();
  for (const [name, server] of Object.entries(config.servers)) {
    if (!('aggregate' in server)) gates.set(name, toolGateFor(name, server, config, rates, deps.logger, deps.metrics, deps.recentAudit));
  }
  const services = new Map<string, Bridge>();
  for (const [name, server] of Object.entries(config.servers)) {
    if ('aggregate' in server) {
      services.set(
        name,
        createStdioBridge({
          serverName: name,
          launch: aggregateLaunch(name, server, config, launches, deps.projectDir),
          logger: deps.logger,
          allowedOrigins,
          gate: createAggregateGate(new Map(server.aggregate.map((member) => [member, gates.get(member)!]))),
        }),
      );
      continue;
    }
    const gate = gates.get(name)!;
    if ('url' in server) {
      const maxMessageBytes = server.limits?.maxMessageBytes;
      services.set(
        name,
        createRemoteProxy({
          serverName: name,
          url: server.url,
          headers: upstreamHeaders.get(name) ?? {},
          logger: deps.logger,
          allowedOrigins,
          maxMessageBytes,
          gate,
          ...(server.oauth === undefined
            ? {}
            : {
                upstreamOAuth: {
                  challenge: reauthorizationChallenge(urls.protectedResourceMetadataFor(name), name),
                  ...(deps.onUpstreamRejected === undefined
                    ? {}
                    : { onRejected: (user: string, authorization: string) => deps.onUpstreamRejected?.(name, user, authorization) }),
                },
              }),
        }),
      );
      continue;
    }
    const limits = server.limits ?? {};
    services.set(
      name,
      createStdioBridge({
        serverName: name,
        launch: launches.get(name)!,
        logger: deps.logger,
        allowedOrigins,
        pool: server.pool,
        maxSessions: limits.maxSessions,
        maxSessionsPerUser: limits.maxSessionsPerUser,
        maxMessageBytes: limits.maxMessageBytes,
        idleTimeoutMs: limits.idleTimeout,
        requestTimeoutMs: limits.requestTimeout,
        gate,
      }),
    );
  }
  return services;
}

const JSON_NO_STORE = { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' };
/** /health answers within a second: the store gets this long, each server's cached probe as long (cached-health.ts). */
const STORE_PING_MS = 800;

function withinMs<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
    timer.unref();
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * `/health`: 200 `{"status":"ok"}` when the store answers and every server answers initialize
 * (each server's probe is cached, see the bridge); 503 with per-server detail otherwise.
 */
export function createHealthHandler(store: Store, services: ReadonlyMap<string, Bridge>, logger: Logger) {
  return function health(_req: IncomingMessage, res: ServerResponse): void {
    const checks = [...services].map(async ([name, service]) => [name, { sessions: service.sessionCount, ...(await service.health()) }] as const);
    Promise.all([withinMs(store.ping(), STORE_PING_MS, 'the store did not answer a ping within 800 ms'), Promise.all(checks)]).then(
      ([, results]) => {
        const servers = Object.fromEntries(
          results.map(([name, { ok, detail, sessions }]) => [name, ok ? { sessions, healthy: true } : { sessions, healthy: false, detail }]),
        );
        const unhealthy = results.filter(([, result]) => !result.ok).map(([name]) => name);
        if (unhealthy.length === 0) {
          res.writeHead(200, JSON_NO_STORE).end(JSON.stringify({ status: 'ok', servers }));
          return;
        }
        logger.warn({ event: 'health_failed', servers: unhealthy });
        res.writeHead(503, JSON_NO_STORE).end(JSON.stringify({ status: 'unavailable', reason: `unhealthy: ${unhealthy.join(', ')}`, servers }));
      },
      (err: unknown) => {
        logger.warn({ event: 'health_failed', err: (err as Error).message });
        // The reason stays generic: /health is public, and the store's error names internal addresses (logged above).
        res.writeHead(503, JSON_NO_STORE).end(JSON.stringify({ status: 'unavailable', reason: 'store unreachable' }));
      },
    );
  };
}

/**
 * The aggregate's own process (runtime/aggregate/aggregate-server.ts), given each member's launch
 * as the bridge would start it (confined in its sandbox) or its URL. The aggregate process itself
 * is the gateway's own code and runs unconfined, like the bridge: it only starts its members and
 * relays their messages.
 */
function aggregateLaunch(
  name: string,
  server: AggregateServerConfig,
  config: GatewayConfig,
  launches: ReadonlyMap<string, StdioLaunch>,
  projectDir: string,
): StdioLaunch {
  const spec: AggregateSpec = {
    name,
    members: server.aggregate.map((member) => {
      const own = config.servers[member]!;
      if ('url' in own) return { name: member, kind: 'remote', url: own.url.href };
      return { name: member, kind: 'stdio', launch: launches.get(member)! };
    }),
  };
  return { command: process.execPath, args: [AGGREGATE_SERVER_SCRIPT], env: { [AGGREGATE_SPEC_ENV]: JSON.stringify(spec) }, cwd: projectDir };
}

/**
 * What a client gets when a remote server refused the user's own upstream token: the gateway's
 * challenge (RFC 6750 §3, RFC 9728 §5.1), so it authorizes again at the gateway, whose flow
 * sends the browser on to the upstream.
 */
function reauthorizationChallenge(resourceMetadata: string, server: string): string {
  return `Bearer error="invalid_token", error_description="${server} refused your authorization there; authorize again", resource_metadata="${resourceMetadata}"`;
}
