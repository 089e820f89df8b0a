import type { LiveSession } from './live-servers.js';
import { createMetricsSummary, type MetricsSnapshot, type MetricsSummary } from '../../metrics/metrics-summary.js';
import type { AuthContext } from '../auth-context.js';
import { createAdminService } from './admin-service.js';
import type { AdminOps, ClientSummary, GrantSummary } from './admin-types.js';

/** Everything the admin page shows but the audit events, read at one moment. */
export interface AdminView {
  generatedAt: string;
  /** Null where this runtime runs no servers (the auth container of a Docker deployment). */
  servers: ServerView[] | null;
  clients: ClientSummary[];
  grants: GrantSummary[];
  /** Null where this runtime has no tool-call metrics. */
  metrics: MetricsSnapshot | null;
}

export interface ServerView {
  name: string;
  healthy: boolean;
  /** Why it is unhealthy, in the bridge's words; null when healthy. */
  reason: string | null;
  sessions: LiveSession[];
}

/**
 * GET /admin/status and `mcp-gateway status`: the admin page's figures as one JSON document.
 * Every key is always present (null when this runtime cannot know), so scripts can rely on it.
 */
export interface AdminStatus {
  generatedAt: string;
  servers: Array<{
    name: string;
    healthy: boolean;
    reason: string | null;
    sessions: number;
    /** Live sessions per user, most first. */
    users: Array<{ login: string; sub: string; sessions: number }>;
  }> | null;
  /** Why `servers` is null. */
  serversNote: string | null;
  clients: { registered: number };
  grants: { active: number; revoked: number; users: number };
  metrics: MetricsSnapshot | null;
  metricsNote: string | null;
}

export const NO_SERVERS_NOTE =
  'this auth runtime runs no MCP servers (Docker deployment): their health and sessions live in the bridge containers; see mcp-gateway status and mcp-gateway logs';
export const NO_METRICS_NOTE = 'this auth runtime counts no tool calls (Docker deployment): each bridge container serves its own GET /metrics';

/** A server that does not answer its health probe in time is reported as such, never waited for. */
const HEALTH_WAIT_MS = 1_500;

export interface AdminStatusSource {
  /** The operations on clients and grants, auditing what they do. */
  readonly service: AdminOps;
  view(): Promise<AdminView>;
  status(): Promise<AdminStatus>;
}

/** One per auth app: the metrics summary keeps its readings between requests (metrics-summary.ts). */
export function createAdminStatusSource(ctx: AuthContext, { metricsSummary }: { metricsSummary?: MetricsSummary } = {}): AdminStatusSource {
  const service = createAdminService({
    clients: ctx.clients,
    families: ctx.families,
    now: () => ctx.now(),
    lifetimes: ctx.clientLifetimes,
    audit: ctx.audit,
    vault: ctx.upstreamOAuth.vault,
  });
  // Tool calls are counted where the servers run: an auth container's registry (Docker) has none of them.
  const summary =
    metricsSummary ??
    (ctx.metrics === undefined || ctx.servers === undefined ? undefined : createMetricsSummary(ctx.metrics.registry, { now: () => ctx.now() }));

  async function view(): Promise<AdminView> {
    const [servers, clients, grants, metrics] = await Promise.all([serverViews(ctx), service.listClients(), service.listGrants({}), summary?.read() ?? null]);
    return { generatedAt: new Date(ctx.now()).toISOString(), servers, clients, grants, metrics };
  }

  return {
    service,
    view,
    async status() {
      return statusOf(await view());
    },
  };
}

/** The document of GET /admin/status, from the same view the page renders. */
export function statusOf(view: AdminView): AdminStatus {
  const active = view.grants.filter((g) => !g.revoked);
  return {
    generatedAt: view.generatedAt,
    servers:
      view.servers?.map((s) => ({
        name: s.name,
        healthy: s.healthy,
        reason: s.reason,
        sessions: s.sessions.length,
        users: sessionsPerUser(s.sessions),
      })) ?? null,
    serversNote: view.servers === null ? NO_SERVERS_NOTE : null,
    clients: { registered: view.clients.length },
    grants: { active: active.length, revoked: view.grants.length - active.length, users: new Set(active.map((g) => g.sub ?? g.user)).size },
    metrics: view.metrics,
    metricsNote: view.metrics === null ? NO_METRICS_NOTE : null,
  };
}

export function sessionsPerUser(sessions: readonly LiveSession[]): Array<{ login: string; sub: string; sessions: number }> {
  const bySub = new Map<string, { login: string; sub: string; sessions: number }>();
  for (const s of sessions) {
    const entry = bySub.get(s.sub) ?? { login: s.login, sub: s.sub, sessions: 0 };
    entry.sessions++;
    bySub.set(s.sub, entry);
  }
  return [...bySub.values()].sort((a, b) => b.sessions - a.sessions || a.login.localeCompare(b.login));
}

async function serverViews(ctx: AuthContext): Promise<ServerView[] | null> {
  if (ctx.servers === undefined) return null;
  const live = ctx.servers();
  return Promise.all(
    ctx.urls.serverNames.map(async (name): Promise<ServerView> => {
      const server = live.get(name);
      if (server === undefined) return { name, healthy: false, reason: 'not running in this gateway', sessions: [] };
      const health = await withinMs(server.health(), HEALTH_WAIT_MS).catch((err: unknown) => ({ ok: false, detail: (err as Error).message }));
      const sessions = [...server.sessions()].sort((a, b) => b.lastActive - a.lastActive);
      return { name, healthy: health.ok, reason: health.ok ? null : health.detail, sessions };
    }),
  );
}

function withinMs<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer to the health probe within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
