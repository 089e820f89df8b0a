import { z } from 'zod';
import type { AdminStatus } from '../../runtime/auth/admin/admin-status.js';
import { readAdminToken } from '../../runtime/config/admin-token.js';
import { urlText } from '../../runtime/config/config-codecs.js';
import { createAdminHttpClient, type AdminHttpClientOptions } from '../admin/admin-http-client.js';
import { dockerTarget } from '../admin-session.js';
import { dockerDeployment } from '../deploy/docker-deployment.js';
import { formatDurationMs } from '../../runtime/metrics/metrics-summary.js';
import { gatewayUrls } from '../../runtime/auth/gateway-urls.js';
import type { GatewayConfig } from '../../runtime/config/schema.js';
import type { ProjectPaths } from '../../runtime/config/project-paths.js';
import { embeddedStoreFiles } from '../../runtime/config/store-files.js';
import { GatewayError, isGatewayError } from '../../runtime/errors.js';
import { defaultListen } from '../../runtime/http/listen-address.js';
import { runningGateway, type LockHolder } from '../../runtime/store/gateway-lock.js';
import { connectDocker, type DockerConnection } from '../deploy/docker/docker-connection.js';
import { dockerMessage } from '../deploy/docker/engine-error.js';
import { listProjectContainers, type ProjectContainer } from '../deploy/docker/project-containers.js';
import { projectTarget } from '../deployment-target.js';
import { projectName } from '../deploy/deploy-plan.js';
import { parseDeployTarget, UP_TARGETS } from '../deploy/deploy-target.js';
import { renderedTarget } from '../deploy/docker-deployment.js';
import { assertSwarmManager } from '../deploy/swarm/swarm-manager.js';
import { listProjectServices, type ProjectService } from '../deploy/swarm/swarm-objects.js';
import { dirArg } from '../dir-arg.js';
import { processOutput, type CliOutput } from '../output.js';
import { formatTable, printable, shortTime } from '../text-table.js';

export interface StatusOptions {
  dir: string;
  /** One JSON document on stdout, nothing else. */
  json?: boolean | undefined;
  /** Ask the admin API here instead of where /health answered (embedded) or the public URL (Docker). */
  url?: string | undefined;
  /** `--target`: compose or swarm; default the target deploy/ was rendered for, else compose. */
  target?: string | undefined;
}

export interface StatusDeps {
  output: CliOutput;
  connect?: () => Promise<DockerConnection>;
  /** Asks a running serve's /health. */
  fetch?: typeof fetch;
}

/** The `status --json` document: `mode` says which of the three it is. */
export type ProjectStatus = DeploymentStatus | SwarmStatus | EmbeddedStatus;

/** A swarm project (`up --target swarm`, or `docker stack deploy` under the project's name): its services. */
export interface SwarmStatus {
  mode: 'swarm';
  project: string;
  /** Why this is a swarm project: "deploy/stack.yaml was rendered", or "--target swarm". */
  reason: string;
  services: Array<{
    /** Key in stack.yaml: redis, auth, router, bridge-NAME. */
    service: string;
    server: string | null;
    /** The swarm service, `<project>_<service>`. */
    name: string;
    /** Tasks running; one with a healthcheck counts once it is healthy. */
    running: number;
    desired: number;
    image: string;
    /** `PUBLISHED->TARGET/PROTO (mode)`. */
    ports: string[];
    /** The last rolling update: updating, completed, paused, rollback_started, rollback_completed...; null before any. */
    update: { state: string; message: string | null } | null;
  }>;
  summary?: AdminStatus | null;
  summaryError?: StatusProblem | null;
}

/** A Docker project (`mcp-gateway up`): its containers. */
export interface DeploymentStatus {
  mode: 'docker';
  project: string;
  /** Why this is a Docker project, e.g. "deploy/compose.yaml was rendered". */
  reason: string;
  services: Array<{
    service: string | null;
    server: string | null;
    container: string;
    /** Docker's state: running, exited, restarting, created, paused, dead. */
    state: string;
    /** healthy, unhealthy, starting; null without a healthcheck or when not running. */
    health: string | null;
    /** `HOST_IP:HOST_PORT->PORT/PROTO`. */
    ports: string[];
    image: string;
    /** Docker's words, e.g. "Up 3 minutes (healthy)". */
    status: string;
  }>;
  /** From the auth runtime's GET /admin/status; present (maybe null) once a container runs. */
  summary?: AdminStatus | null;
  /** Why `summary` is null. */
  summaryError?: StatusProblem | null;
}

/** A failure to read the summary: the GatewayError's code, message and hint. */
export interface StatusProblem {
  code: string;
  message: string;
  hint: string | null;
}

/** An embedded project (`mcp-gateway serve`): the serve that runs it, if one does. */
export interface EmbeddedStatus {
  mode: 'embedded';
  dir: string;
  publicUrl: string;
  /** Where serve listens by the config (`listen:`, else the public URL's host and port); null when it says nowhere (an https publicUrl). */
  listen: string | null;
  /** The running serve; null when none runs. */
  gateway: {
    /** From the gateway lock (`<database>.gateway.lock`); null with store.type redis, which leaves none. */
    pid: number | null;
    since: string | null;
    /** Its /health: ok (200), unavailable (503: the store or a server), unreachable (no answer at healthUrl). */
    health: 'ok' | 'unavailable' | 'unreachable';
    /** Where /health answered, or the last address asked. */
    healthUrl: string;
    /** Why it is not ok, in /health's words or ours. */
    reason: string | null;
  } | null;
  servers: Array<{
    name: string;
    url: string;
    /** From /health; null when no serve answered. */
    healthy: boolean | null;
    sessions: number | null;
    detail: string | null;
  }>;
  /**
   * What the admin page shows (clients, grants, sessions per user, calls/s, p50/p99, gateway
   * overhead), from the gateway's GET /admin/status; present (maybe null) whenever `gateway` is.
   */
  summary?: AdminStatus | null;
  /** Why `summary` is null. */
  summaryError?: StatusProblem | null;
}

/** How long each /health request may take: it answers within a second by design (runtime/mcp-services.ts). */
const HEALTH_TIMEOUT_MS = 3_000;

/** `mcp-gateway status`: a Docker project's containers, or the `serve` running an embedded one. */
export async function runStatus(options: StatusOptions, deps: Partial<StatusDeps> = {}): Promise<ProjectStatus> {
  const output = deps.output ?? processOutput;
  const target = await projectTarget(options.dir);
  const connect = deps.connect ?? (() => connectDocker());
  const chosen = options.target === undefined ? await renderedTarget(target.paths) : parseDeployTarget(options.target, UP_TARGETS);
  const status =
    chosen === 'swarm'
      ? await swarmStatus(
          target.mode.kind === 'docker' ? target.mode.project : projectName(target.config, target.paths.dir),
          options.target === undefined && target.mode.kind === 'docker' ? target.mode.reason : '--target swarm',
          connect,
        )
      : target.mode.kind === 'docker'
        ? await dockerStatus(target.mode.project, target.mode.reason, connect)
        : await embeddedStatus(target.config, target.paths, deps.fetch ?? globalThis.fetch, options.url);
  const running =
    status.mode === 'docker' ? status.services.some((s) => s.state === 'running') : status.mode === 'swarm' && status.services.some((s) => s.running > 0);
  if (status.mode !== 'embedded' && running) {
    const docker = await dockerDeployment(target.config, target.paths);
    Object.assign(
      status,
      await adminSummary(
        options.url ?? urlText(target.config.publicUrl),
        target.paths.adminToken,
        deps.fetch,
        docker === undefined ? undefined : dockerTarget(docker),
      ),
    );
  }
  if (options.json) output.stdout(`${JSON.stringify(status, null, 2)}\n`);
  else output.stdout(status.mode === 'docker' ? formatDocker(status) : status.mode === 'swarm' ? formatSwarm(status) : formatEmbedded(status));
  return status;
}

async function swarmStatus(project: string, reason: string, connect: () => Promise<DockerConnection>): Promise<SwarmStatus> {
  const connection = await connect();
  await assertSwarmManager(connection);
  let services: ProjectService[];
  try {
    services = await listProjectServices(connection.docker, project);
  } catch (err) {
    throw new GatewayError(
      'ERR_DOCKER_UNREACHABLE',
      `Docker at ${connection.endpoint} could not list the swarm services of ${project}: ${dockerMessage(err)}`,
      {
        hint: `check the engine (docker service ls --filter label=io.mcp-gateway.project=${project}) and run mcp-gateway status again`,
        cause: err,
      },
    );
  }
  return {
    mode: 'swarm',
    project,
    reason,
    services: services.map((s) => ({
      service: s.service,
      server: s.server ?? null,
      name: s.name,
      running: s.running,
      desired: s.desired,
      image: s.image,
      ports: s.ports,
      update: s.update === undefined ? null : { state: s.update.state, message: s.update.message ?? null },
    })),
  };
}

function formatSwarm(status: SwarmStatus): string {
  if (status.services.length === 0) return `${status.project}: no swarm services (start it with mcp-gateway up --target swarm)\n`;
  const rows = status.services.map((s) => [s.service, s.name, `${s.running}/${s.desired}`, s.update?.state ?? '-', s.ports.join(', ') || '-']);
  const table = `${status.project} (swarm)\n${formatTable(['SERVICE', 'NAME', 'REPLICAS', 'UPDATE', 'PORTS'], rows)}`;
  if (status.summary === undefined) return table;
  return `${table}\n${summaryLines(status.summary, status.summaryError ?? null).join('\n')}\n`;
}

async function dockerStatus(project: string, reason: string, connect: () => Promise<DockerConnection>): Promise<DeploymentStatus> {
  const connection = await connect();
  let containers: ProjectContainer[];
  try {
    containers = await listProjectContainers(connection.docker, project);
  } catch (err) {
    throw new GatewayError('ERR_DOCKER_UNREACHABLE', `Docker at ${connection.endpoint} could not list the containers of ${project}: ${dockerMessage(err)}`, {
      hint: `check the engine (docker ps --filter label=io.mcp-gateway.project=${project}) and run mcp-gateway status again`,
      cause: err,
    });
  }
  return { mode: 'docker', project, reason, services: containers.map(describe) };
}

function describe(c: ProjectContainer): DeploymentStatus['services'][number] {
  return {
    service: c.service ?? null,
    server: c.server ?? null,
    container: c.name,
    state: c.state,
    health: c.state === 'running' ? (c.health ?? null) : null,
    ports: c.ports,
    image: c.image,
    status: c.status,
  };
}

function formatDocker(status: DeploymentStatus): string {
  if (status.services.length === 0) return `${status.project}: no containers (start it with mcp-gateway up)\n`;
  const rows = status.services.map((s) => [s.service ?? '?', s.container, s.state, s.health ?? '-', s.ports.filter((p) => p.includes('->')).join(', ') || '-']);
  const table = `${status.project}\n${formatTable(['SERVICE', 'CONTAINER', 'STATE', 'HEALTH', 'PORTS'], rows)}`;
  if (status.summary === undefined) return table;
  return `${table}\n${summaryLines(status.summary, status.summaryError ?? null).join('\n')}\n`;
}

/** The admin page's figures as `status` lines, or why there are none. */
function summaryLines(summary: AdminStatus | null, problem: StatusProblem | null): string[] {
  if (summary === null) {
    return [
      `  summary     unavailable: ${printable(problem?.message ?? 'no answer', 400)}`,
      ...(problem?.hint ? [`              hint: ${printable(problem.hint, 400)}`] : []),
    ];
  }
  const { clients, grants, metrics } = summary;
  const lines = [
    `  clients     ${clients.registered} registered`,
    `  grants      ${grants.active} active (${plural(grants.users, 'user')}), ${grants.revoked} revoked`,
  ];
  if (metrics === null) lines.push(`  tool calls  - (${printable(summary.metricsNote ?? 'no metrics', 300)})`);
  else {
    const window = `${metrics.toolCalls} in the last ${metrics.windowSeconds} s`;
    lines.push(
      `  tool calls  ${metrics.callsPerSecond}/s (${window}); p50 ${formatDurationMs(metrics.toolCallMs.p50)}, p99 ${formatDurationMs(metrics.toolCallMs.p99)}`,
      `  overhead    p50 ${formatDurationMs(metrics.overheadMs.p50)}, p99 ${formatDurationMs(metrics.overheadMs.p99)} (the gateway's own time per call)`,
    );
  }
  return lines;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

const healthDocument = z.object({
  status: z.string(),
  reason: z.string().optional(),
  servers: z.record(z.string(), z.object({ healthy: z.boolean(), sessions: z.number().optional(), detail: z.string().optional() })).optional(),
});
type HealthDocument = z.infer<typeof healthDocument>;

async function embeddedStatus(config: GatewayConfig, paths: ProjectPaths, fetchFn: typeof fetch, adminUrl: string | undefined): Promise<EmbeddedStatus> {
  const urls = gatewayUrls(config);
  const listen = configuredListen(config);
  const base: EmbeddedStatus = {
    mode: 'embedded',
    dir: paths.dir,
    publicUrl: urls.issuer,
    listen: listen === undefined ? null : hostPort(listen.host, listen.port),
    gateway: null,
    servers: urls.serverNames.map((name) => ({ name, url: urls.resourceFor(name), healthy: null, sessions: null, detail: null })),
  };
  // With the embedded store a running serve always holds the lock, so no lock means none runs;
  // with Redis there is no lock, and only an answer at /health tells.
  const holder = config.store.type === 'embedded' ? await lockHolder(embeddedStoreFiles(config.store, paths).database) : undefined;
  if (config.store.type === 'embedded' && holder === undefined) return base;

  const candidates = [...new Set([...(listen === undefined ? [] : [`http://${hostPort(reachableHost(listen.host), listen.port)}`]), urls.issuer])];
  let answer: { url: string; status: number; body: HealthDocument } | undefined;
  const failures: string[] = [];
  for (const origin of candidates) {
    const url = `${origin}/health`;
    const found = await askHealth(fetchFn, url);
    if (typeof found === 'string') failures.push(`${url}: ${found}`);
    else {
      answer = { url, ...found };
      break;
    }
  }
  if (answer === undefined) {
    if (holder === undefined) return base;
    return {
      ...base,
      gateway: {
        pid: holder.pid,
        since: holder.since ?? null,
        health: 'unreachable',
        healthUrl: `${candidates.at(-1)}/health`,
        reason: `no answer from /health (${failures.join('; ')}); if serve was started with --listen, it listens elsewhere`,
      },
      ...(adminUrl === undefined
        ? {
            summary: null,
            summaryError: {
              code: 'ERR_GATEWAY_UNREACHABLE',
              message: `the serve (process ${holder.pid}) does not answer at ${candidates.join(' or ')}`,
              hint: 'pass --url with the address it listens on (e.g. --url http://127.0.0.1:8080)',
            },
          }
        : await adminSummary(adminUrl, paths.adminToken, fetchFn)),
    };
  }
  const reported = answer.body.servers ?? {};
  return {
    ...base,
    gateway: {
      pid: holder?.pid ?? null,
      since: holder?.since ?? null,
      health: answer.status === 200 && answer.body.status === 'ok' ? 'ok' : 'unavailable',
      healthUrl: answer.url,
      reason: answer.body.reason ?? null,
    },
    servers: base.servers.map((s) => {
      const found = reported[s.name];
      return found === undefined ? s : { ...s, healthy: found.healthy, sessions: found.sessions ?? null, detail: found.detail ?? null };
    }),
    // Where /health answered is where this serve is reached from here.
    ...(await adminSummary(adminUrl ?? new URL(answer.url).origin, paths.adminToken, fetchFn)),
  };
}

/**
 * GET /admin/status with the project's admin token: the same summary as the admin page. A
 * failure is reported beside the rest of the status, by its code and hint, not thrown: what
 * Docker or /health said is still worth printing.
 */
async function adminSummary(
  baseUrl: string,
  tokenFile: string,
  fetchFn: typeof fetch | undefined,
  describe?: Pick<AdminHttpClientOptions, 'target' | 'hints'>,
): Promise<{ summary: AdminStatus | null; summaryError: StatusProblem | null }> {
  try {
    const token = await readAdminToken(tokenFile);
    if (token === undefined) {
      throw new GatewayError('ERR_SECRET_MISSING', `the admin token is missing (${tokenFile}), so the gateway's summary cannot be asked for`, {
        hint: 'it is created when `mcp-gateway serve` or `render` first runs in this project; restart serve, or render and up again',
      });
    }
    const client = createAdminHttpClient({ baseUrl, token, timeoutMs: HEALTH_TIMEOUT_MS, ...(fetchFn ? { fetch: fetchFn } : {}), ...describe });
    return { summary: await client.status(), summaryError: null };
  } catch (err) {
    if (!isGatewayError(err)) throw err;
    return { summary: null, summaryError: { code: err.code, message: err.message, hint: err.hint ?? null } };
  }
}

/** GET /health: the parsed document and HTTP status, or why there is none. */
async function askHealth(fetchFn: typeof fetch, url: string): Promise<{ status: number; body: HealthDocument } | string> {
  let res: Response;
  let text: string;
  try {
    res = await fetchFn(url, { headers: { accept: 'application/json' }, redirect: 'manual', signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
    text = await res.text();
  } catch (err) {
    if (err instanceof Error && err.name === 'TimeoutError') return `no answer within ${HEALTH_TIMEOUT_MS / 1000}s`;
    const cause = (err as { cause?: { code?: unknown } }).cause;
    return typeof cause?.code === 'string' ? cause.code : err instanceof Error ? err.message : String(err);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return `HTTP ${res.status}, not the gateway's /health`;
  }
  const body = healthDocument.safeParse(parsed);
  return body.success ? { status: res.status, body: body.data } : `HTTP ${res.status}, not the gateway's /health`;
}

async function lockHolder(database: string): Promise<LockHolder | undefined> {
  try {
    return await runningGateway(database);
  } catch (err) {
    if (isGatewayError(err)) throw err;
    throw new GatewayError('ERR_GATEWAY_UNREACHABLE', `cannot read the gateway lock ${database}.gateway.lock: ${(err as Error).message}`, {
      hint: 'run mcp-gateway status as the user that runs mcp-gateway serve (the lock is theirs, mode 0600)',
      cause: err,
    });
  }
}

function configuredListen(config: GatewayConfig): { host: string; port: number } | undefined {
  try {
    return defaultListen(config);
  } catch (err) {
    // An https publicUrl without `listen:`: serve needs --listen, which nothing on disk records.
    if (isGatewayError(err) && err.code === 'ERR_USAGE') return undefined;
    throw err;
  }
}

/** A wildcard bind answers on loopback. */
function reachableHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}

function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function formatEmbedded(status: EmbeddedStatus): string {
  const { gateway } = status;
  const lines: string[] = [];
  if (gateway === null) {
    lines.push(`no mcp-gateway serve is running for ${status.dir} (start it with mcp-gateway serve${dirArg(status.dir)})`);
  } else {
    const who = gateway.pid === null ? '' : ` (pid ${gateway.pid}${gateway.since === null ? '' : `, since ${shortTime(gateway.since)}`})`;
    lines.push(`mcp-gateway serve is running for ${status.dir}${who}`);
  }
  lines.push(`  listen      ${status.listen ?? '- (set listen: or pass serve --listen)'}`, `  public URL  ${status.publicUrl}`);
  if (gateway !== null) {
    const why = gateway.reason === null ? '' : `: ${printable(gateway.reason, 400)}`;
    lines.push(`  health      ${gateway.health}${why} (${gateway.healthUrl})`);
  }
  if (status.summary !== undefined) lines.push(...summaryLines(status.summary, status.summaryError ?? null));
  lines.push('');
  if (status.servers.length === 0) return `${lines.join('\n')}no servers configured (add one with mcp-gateway add-server NAME${dirArg(status.dir)})\n`;
  const health = (s: EmbeddedStatus['servers'][number]): string =>
    s.healthy === null ? '-' : s.healthy ? 'healthy' : `unhealthy${s.detail === null ? '' : `: ${s.detail}`}`;
  const rows = status.servers.map((s) => [s.name, s.sessions === null ? '-' : String(s.sessions), s.url, health(s)]);
  const perUser = (status.summary?.servers ?? []).flatMap((s) => s.users.map((u) => [s.name, u.login, u.sub, String(u.sessions)]));
  const users = perUser.length === 0 ? '' : `\n${formatTable(['SERVER', 'USER', 'SUBJECT', 'SESSIONS'], perUser)}`;
  return `${lines.join('\n')}${formatTable(['SERVER', 'SESSIONS', 'URL', 'HEALTH'], rows)}${users}`;
}
