import { GatewayError, type GatewayErrorCode } from '../../runtime/errors.js';
import type {
  AdminOps,
  ClientDetail,
  ClientSummary,
  ConnectionRevokeReport,
  ConnectionSummary,
  GrantSummary,
  PruneReport,
  RemovedClient,
  RevokeReport,
} from '../../runtime/auth/admin/admin-types.js';
import type { AdminStatus } from '../../runtime/auth/admin/admin-status.js';

export interface AdminHttpClientOptions {
  /** The gateway's base URL (its public URL, or wherever `--url` says it is reached). */
  baseUrl: string;
  token: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
  /** What answers at baseUrl, for messages ("no gateway answers at ..."); default `gateway`. */
  target?: string;
  /**
   * Remedies that fit where baseUrl points better than the generic ones (a Docker deployment's
   * router port, render and up again): when nothing answers, when there is no admin API there
   * (404), when the admin token is refused (401).
   */
  hints?: Partial<Record<'unreachable' | 'unavailable' | 'denied', string>>;
}

export interface AdminHttpClient extends AdminOps {
  readonly baseUrl: string;
  /** Resolves when the admin API answers with this token; GatewayErrors naming what is wrong otherwise. */
  ping(): Promise<void>;
  /** GET /admin/status: what the admin page shows (runtime/auth/admin/admin-status.ts). */
  status(): Promise<AdminStatus>;
}

const ADMIN_CODES = new Set<GatewayErrorCode>(['ERR_CLIENT_UNKNOWN', 'ERR_GRANT_UNKNOWN']);

/** The admin operations of a running gateway, through its `/admin/*` API (runtime/auth/admin/admin-api.ts). */
export function createAdminHttpClient({
  baseUrl,
  token,
  fetch: fetchImpl = fetch,
  timeoutMs = 15_000,
  target = 'gateway',
  hints = {},
}: AdminHttpClientOptions): AdminHttpClient {
  const base = baseUrl.replace(/\/+$/, '');

  async function call<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const url = `${base}/admin${path}`;
    let res: Response;
    try {
      res = await fetchImpl(url, {
        method,
        headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        redirect: 'error',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new GatewayError('ERR_GATEWAY_UNREACHABLE', `no ${target} answers at ${base}: ${describeFetchError(err)}`, {
        hint: hints.unreachable ?? 'start it (`mcp-gateway serve`, or `mcp-gateway up` for Docker), or pass --url with the address the gateway is reached at',
        cause: err,
      });
    }
    const text = await res.text();
    const parsed = parseJson(text);
    if (res.ok && parsed !== undefined) return parsed as T;
    const error = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
    const description = typeof error['error_description'] === 'string' ? error['error_description'] : text.slice(0, 200);
    const code = error['code'];
    if (res.status === 404 && typeof code === 'string' && ADMIN_CODES.has(code as GatewayErrorCode)) {
      throw new GatewayError(code as GatewayErrorCode, description, {
        hint: code === 'ERR_CLIENT_UNKNOWN' ? 'list them with `mcp-gateway clients list`' : 'list them with `mcp-gateway tokens list`',
      });
    }
    // Every path called here exists in the admin API: any other 404 means it is not mounted (no
    // admin token configured) or a proxy in front does not route /admin/ to the auth runtime.
    if (res.status === 404) {
      throw new GatewayError('ERR_ADMIN_UNAVAILABLE', `the ${target} at ${base} has no admin API (HTTP 404 for ${method} /admin${path})`, {
        hint:
          hints.unavailable ??
          'it runs without an admin token: restart `mcp-gateway serve` (it creates .secrets/admin-token), or for Docker run `mcp-gateway render` and `up` again so the auth container gets MCPGW_ADMIN_TOKEN; a proxy in front must route /admin/ to the gateway',
      });
    }
    if (res.status === 401) {
      throw new GatewayError('ERR_ADMIN_DENIED', `the ${target} at ${base} refused the admin token in .secrets/admin-token (HTTP 401)`, {
        hint:
          hints.denied ??
          'the running gateway was started with another token: restart `mcp-gateway serve`, or for Docker run `mcp-gateway render` and `up` again',
      });
    }
    if (res.status === 429)
      throw new GatewayError('ERR_ADMIN_DENIED', `the ${target} at ${base} is limiting admin requests from this address: ${description}`, {
        hint: 'wait ten minutes; failed requests from this address count against it',
      });
    if (res.status === 400) throw new GatewayError('ERR_USAGE', `the gateway refused the request: ${description}`);
    throw new GatewayError('ERR_ADMIN_FAILED', `the admin API at ${base} answered ${method} ${path} with HTTP ${res.status}: ${description}`, {
      hint: 'see the gateway log (`mcp-gateway logs auth` for Docker, stderr of `mcp-gateway serve`)',
    });
  }

  const query = (params: Record<string, string | undefined>): string => {
    const search = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined)).toString();
    return search === '' ? '' : `?${search}`;
  };

  return {
    baseUrl: base,
    async ping() {
      await call<{ ok: true }>('GET', '/ping');
    },
    async status() {
      return (await call<{ status: AdminStatus }>('GET', '/status')).status;
    },
    async listClients() {
      return (await call<{ clients: ClientSummary[] }>('GET', '/clients')).clients;
    },
    async showClient(clientId) {
      return (await call<{ client: ClientDetail }>('GET', `/clients/${encodeURIComponent(clientId)}`)).client;
    },
    async removeClient(clientId) {
      return (await call<{ removed: RemovedClient }>('DELETE', `/clients/${encodeURIComponent(clientId)}`)).removed;
    },
    async pruneClients(options) {
      return call<PruneReport>('POST', '/clients/prune', options);
    },
    async listGrants(filter) {
      return (await call<{ grants: GrantSummary[] }>('GET', `/grants${query({ user: filter.user, client: filter.client })}`)).grants;
    },
    async revokeGrants(filter) {
      return call<RevokeReport>('POST', '/grants/revoke', filter);
    },
    async revokeAccessToken(jti, expiresAt) {
      await call<{ revoked: true }>('POST', '/tokens/revoke', { jti, expiresAt });
    },
    async listConnections(filter) {
      return (await call<{ connections: ConnectionSummary[] }>('GET', `/connections${query({ user: filter.user, server: filter.server })}`)).connections;
    },
    async revokeConnections(filter) {
      return call<ConnectionRevokeReport>('POST', '/connections/revoke', {
        user: filter.user,
        ...(filter.server === undefined ? {} : { server: filter.server }),
      });
    },
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** undici reports "fetch failed" with the reason in `cause` (ECONNREFUSED, ENOTFOUND, a timeout). */
export function describeFetchError(err: unknown): string {
  if (err instanceof Error && err.name === 'TimeoutError') return 'no answer in time';
  const cause = err instanceof Error ? (err.cause as { code?: string; message?: string } | undefined) : undefined;
  if (cause?.code) return cause.code;
  if (cause?.message) return cause.message;
  return err instanceof Error ? err.message : String(err);
}
