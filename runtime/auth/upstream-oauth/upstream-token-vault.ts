import { setTimeout as sleep } from 'node:timers/promises';
import { GatewayError, isGatewayError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { Store } from '../../store/store.js';
import type { SealedBox } from '../sealed-box.js';
import { activeBackoff, lockHeld, startBackoff, tryRefreshLock, waitForRefreshLock } from './refresh-coordination.js';
import type { UpstreamPost } from './token-endpoint-post.js';
import {
  GRANT_KEY_PREFIX,
  grantKey,
  materialFor,
  openGrant,
  parseGrantKey,
  refreshBackoffKey,
  refreshLockKey,
  sealMaterial,
  serverIndexKey,
  summaryOf,
  userIndexKey,
  type OpenedGrant,
  type StoredUpstreamGrant,
  type UpstreamGrantClient,
  type UpstreamGrantSummary,
} from './upstream-grant-record.js';
import { refreshedGrant, requestRefresh, upstreamSystem } from './upstream-token-refresh.js';
import { parseTokenResponse } from './upstream-token-response.js';
import { notConnected, reauthRequired } from './upstream-grant-errors.js';
import { revokeAtUpstream, type UpstreamRevocationOutcome } from './upstream-token-revocation.js';

export type { UpstreamGrantClient, UpstreamGrantSummary } from './upstream-grant-record.js';

/**
 * Each user's tokens for each remote MCP server with its own OAuth: the user authorizes the
 * upstream once, the proxy asks here for a valid access token on every request. Refreshes are
 * single-flight per (user, server), within a process (one promise) and across processes sharing
 * the store (refresh-coordination.ts), because the upstream may rotate the refresh token and a
 * second refresh with the old one would cost the user the grant. No token is ever logged.
 */
export interface UpstreamTokenVault {
  /** Validates a token endpoint response (authorization_code grant) and keeps it; replaces an earlier grant. */
  save(user: string, server: string, tokenResponse: unknown, client: UpstreamGrantClient): Promise<UpstreamGrantSummary>;
  /**
   * A valid access token, refreshed first when it expires within the skew. Throws
   * ERR_UPSTREAM_NOT_CONNECTED (no grant), ERR_UPSTREAM_REAUTH_REQUIRED (the upstream refused the
   * grant; it is deleted), ERR_UPSTREAM_UNREACHABLE / ERR_UPSTREAM_BAD_RESPONSE (no usable answer;
   * the grant is kept and refreshed on a later call, after the backoff).
   */
  accessToken(user: string, server: string): Promise<string>;
  /** The upstream answered 401 to `token`: a new access token (one refresh), or the grant is gone. Throws as accessToken. */
  markRejected(user: string, server: string, token: string): Promise<string>;
  /** Grants of one user, or of everyone: no token values. */
  list(user?: string): Promise<UpstreamGrantSummary[]>;
  /** Revokes at the upstream (RFC 7009) when it can, then forgets the grant whatever the upstream said. */
  revoke(user: string, server: string): Promise<UpstreamRevokeResult>;
}

export interface UpstreamRevokeResult {
  /** A grant was held and is now deleted. */
  removed: boolean;
  /** `skipped`: nothing to revoke (no grant, or one that no longer opens). */
  upstream: UpstreamRevocationOutcome | 'skipped';
  failures: string[];
}

export interface UpstreamTokenVaultOptions {
  store: Store;
  sealedBox: SealedBox;
  /** The token and revocation endpoints' HTTP client (the caller's SSRF-guarded one). */
  post: UpstreamPost;
  logger: Logger;
  now?: () => number;
  /** Refresh when the access token expires within this long: a request must not carry a token that dies in flight. */
  refreshSkewMs?: number;
  /** After a failed refresh, no new one for this key for this long (every process: it is kept in the store). */
  backoffMs?: number;
  /** Lifetime of the cross-process refresh lock; must outlast the HTTP client's timeout. */
  lockTtlMs?: number;
  /** How often a process waiting for another's refresh looks at the stored grant. */
  lockPollMs?: number;
}

/** A token without a refresh token is dead at expiry; its entry stays this long so the user hears "reconnect", not "never connected". */
const DEAD_GRANT_GRACE_MS = 24 * 3_600_000;

/** Why a token is wanted: any valid one, or one other than the token the upstream just refused. */
type Need = { kind: 'fresh' } | { kind: 'replace'; token: string };

export function createUpstreamTokenVault({
  store,
  sealedBox,
  post,
  logger,
  now = Date.now,
  refreshSkewMs = 60_000,
  backoffMs = 10_000,
  lockTtlMs = 30_000,
  lockPollMs = 100,
}: UpstreamTokenVaultOptions): UpstreamTokenVault {
  for (const [name, value] of Object.entries({ refreshSkewMs, backoffMs, lockTtlMs, lockPollMs })) {
    if (!Number.isFinite(value) || value < 0) throw new TypeError(`createUpstreamTokenVault: ${name} must be a non-negative number of ms`);
  }
  if (lockPollMs === 0 || lockTtlMs === 0) throw new TypeError('createUpstreamTokenVault: lockTtlMs and lockPollMs must be positive');
  /** Refreshes under way in this process, by grant key: every caller for that key awaits the same one. */
  const flights = new Map<string, Promise<string>>();
  // A waiter may see the lock taken again by a third process: it waits about two lock lifetimes in all.
  const pollBudget = 2 * Math.ceil(lockTtlMs / lockPollMs) + 1;

  // The skew, but never more than half the token's lifetime: a token that lives 30 s is not refreshed on every call.
  const expiring = (grant: OpenedGrant): boolean => {
    const { expiresAt, refreshedAt, grantedAt } = grant.stored;
    if (expiresAt === undefined) return false;
    const lifetime = expiresAt - (refreshedAt ?? grantedAt);
    return expiresAt - now() <= Math.min(refreshSkewMs, Math.max(lifetime / 2, 0));
  };
  const refused = (grant: OpenedGrant, need: Need): boolean => need.kind === 'replace' && grant.material.accessToken === need.token;
  const needsRefresh = (grant: OpenedGrant, need: Need): boolean => refused(grant, need) || expiring(grant);
  /** A token that is not expired yet and was not refused can still be handed out when a refresh fails. */
  const stillUsable = (grant: OpenedGrant, need: Need): string | undefined =>
    !refused(grant, need) && (grant.stored.expiresAt === undefined || grant.stored.expiresAt > now()) ? grant.material.accessToken : undefined;

  async function forget(user: string, server: string): Promise<boolean> {
    const removed = await store.delete(grantKey(user, server));
    await Promise.all([
      store.removeFromSet(userIndexKey(user), server),
      store.removeFromSet(serverIndexKey(server), user),
      store.delete(refreshBackoffKey(user, server)),
    ]);
    return removed;
  }

  /** The grant, opened. `missing` says what an absent one means: never connected, or deleted by a refresh elsewhere. */
  async function load(user: string, server: string, missing: 'not-connected' | 'gone'): Promise<OpenedGrant> {
    const value = await store.get(grantKey(user, server));
    if (value === undefined) throw missing === 'gone' ? reauthRequired(server, 'the grant was withdrawn') : notConnected(server);
    const grant = openGrant(sealedBox, user, server, value);
    if (grant !== undefined) return grant;
    logger.warn(
      { event: 'upstream_grant_unreadable', user, server },
      'a stored upstream grant does not open (moved, tampered with, or sealed with an old key): deleted',
    );
    await forget(user, server);
    throw reauthRequired(server, 'the stored grant could not be read');
  }

  async function write(user: string, server: string, stored: StoredUpstreamGrant, refreshable: boolean): Promise<void> {
    const ttlMs = refreshable || stored.expiresAt === undefined ? undefined : Math.max(stored.expiresAt - now(), 0) + DEAD_GRANT_GRACE_MS;
    await store.set(grantKey(user, server), stored, ttlMs === undefined ? {} : { ttlMs });
  }

  async function obtain(user: string, server: string, need: Need): Promise<string> {
    const grant = await load(user, server, 'not-connected');
    if (!needsRefresh(grant, need)) return grant.material.accessToken;
    const key = grantKey(user, server);
    for (let shared = flights.get(key); shared !== undefined; shared = flights.get(key)) {
      const token = await shared;
      // A refresh begun for "any valid token" may have kept the token this caller saw refused.
      if (need.kind === 'fresh' || token !== need.token) return token;
    }
    const flight = refreshOnce(user, server, need).finally(() => flights.delete(key));
    flights.set(key, flight);
    return flight;
  }

  /** One refresh among all processes: the lock holder refreshes, the others watch the stored grant change. */
  async function refreshOnce(user: string, server: string, need: Need): Promise<string> {
    const budget = { polls: pollBudget };
    for (;;) {
      const lock = await tryRefreshLock(store, refreshLockKey(user, server), lockTtlMs);
      if (lock !== undefined) {
        try {
          return await refreshHoldingLock(user, server, need);
        } finally {
          await lock.release();
        }
      }
      const token = await awaitOtherRefresh(user, server, need, budget);
      if (token !== undefined) return token;
    }
  }

  /** The new token another process stored, or undefined when its lock went without one (it failed, or lapsed): try again. */
  async function awaitOtherRefresh(user: string, server: string, need: Need, budget: { polls: number }): Promise<string | undefined> {
    while (budget.polls-- > 0) {
      await sleep(lockPollMs);
      const grant = await load(user, server, 'gone');
      if (!needsRefresh(grant, need)) return grant.material.accessToken;
      if (!(await lockHeld(store, refreshLockKey(user, server)))) return undefined;
    }
    throw new GatewayError('ERR_UPSTREAM_UNREACHABLE', `another gateway process has been refreshing the token for ${server} for too long`, {
      hint: `${server}'s authorization server may be hanging; the gateway tries again on a later request`,
    });
  }

  async function refreshHoldingLock(user: string, server: string, need: Need): Promise<string> {
    // Read again under the lock: a refresh that finished just before it was taken already did the work.
    const grant = await load(user, server, 'gone');
    if (!needsRefresh(grant, need)) return grant.material.accessToken;
    const usable = stillUsable(grant, need);
    const backoff = await activeBackoff(store, refreshBackoffKey(user, server), now());
    if (backoff !== undefined) {
      if (usable !== undefined) return usable;
      throw new GatewayError(
        backoff.code === 'ERR_UPSTREAM_BAD_RESPONSE' ? 'ERR_UPSTREAM_BAD_RESPONSE' : 'ERR_UPSTREAM_UNREACHABLE',
        `refreshing the token for ${server} failed moments ago`,
        {
          hint: `the gateway tries again in ${Math.ceil((backoff.until - now()) / 1000)} s; if it keeps failing, check ${server}'s authorization server`,
        },
      );
    }
    if (grant.material.refreshToken === undefined) {
      if (usable !== undefined) return usable;
      await forget(user, server);
      const reason = refused(grant, need)
        ? 'it refused the access token, and there is no refresh token'
        : 'the access token expired, and there is no refresh token';
      logger.info({ event: 'upstream_grant_ended', user, server, reason }, 'upstream grant ended');
      throw reauthRequired(server, reason);
    }
    let outcome: Awaited<ReturnType<typeof requestRefresh>>;
    try {
      outcome = await requestRefresh(post, grant.material, server);
    } catch (err) {
      if (!isGatewayError(err)) throw err;
      await startBackoff(store, refreshBackoffKey(user, server), { until: now() + backoffMs, code: err.code }, Math.max(backoffMs, 1));
      logger.warn(
        { event: 'upstream_refresh_failed', user, server, code: err.code, reason: err.message, backoffMs },
        'upstream token refresh failed; grant kept',
      );
      if (usable !== undefined) return usable;
      throw err;
    }
    if (outcome.kind === 'rejected') {
      await forget(user, server);
      logger.warn({ event: 'upstream_grant_rejected', user, server, reason: outcome.reason }, 'the upstream refused the refresh token: grant deleted');
      throw reauthRequired(server, outcome.reason);
    }
    const next = refreshedGrant(grant, outcome.tokens, now());
    await write(user, server, { ...next.stored, sealed: sealMaterial(sealedBox, user, server, next.material) }, next.material.refreshToken !== undefined);
    logger.info(
      { event: 'upstream_token_refreshed', user, server, expiresAt: next.stored.expiresAt, rotated: outcome.tokens.refreshToken !== undefined },
      'upstream token refreshed',
    );
    return next.material.accessToken;
  }

  return {
    async save(user, server, tokenResponse, client) {
      const tokens = parseTokenResponse(tokenResponse, upstreamSystem(server));
      const material = materialFor(client, tokens);
      const stored: StoredUpstreamGrant = { v: 1, issuer: client.issuer, grantedAt: now(), sealed: sealMaterial(sealedBox, user, server, material) };
      if (tokens.scope !== undefined) stored.scope = tokens.scope;
      if (tokens.expiresInMs !== undefined) stored.expiresAt = now() + tokens.expiresInMs;
      await write(user, server, stored, material.refreshToken !== undefined);
      await Promise.all([
        store.addToSet(userIndexKey(user), server),
        store.addToSet(serverIndexKey(server), user),
        store.delete(refreshBackoffKey(user, server)),
      ]);
      logger.info(
        { event: 'upstream_grant_saved', user, server, issuer: client.issuer, scope: stored.scope, expiresAt: stored.expiresAt },
        'upstream grant saved',
      );
      return summaryOf(user, server, { stored, material });
    },

    accessToken: (user, server) => obtain(user, server, { kind: 'fresh' }),

    markRejected: (user, server, token) => obtain(user, server, { kind: 'replace', token }),

    async list(user) {
      const pairs =
        user === undefined
          ? (await store.keys(GRANT_KEY_PREFIX)).map(parseGrantKey).filter((pair) => pair !== undefined)
          : (await store.setMembers(userIndexKey(user))).map((server) => ({ user, server }));
      const summaries: UpstreamGrantSummary[] = [];
      for (const pair of pairs) {
        const value = await store.get(grantKey(pair.user, pair.server));
        // An index member whose grant expired from the store: drop it from the index.
        if (value === undefined) {
          await Promise.all([store.removeFromSet(userIndexKey(pair.user), pair.server), store.removeFromSet(serverIndexKey(pair.server), pair.user)]);
          continue;
        }
        const grant = openGrant(sealedBox, pair.user, pair.server, value);
        if (grant !== undefined) summaries.push(summaryOf(pair.user, pair.server, grant));
      }
      return summaries.sort((a, b) => a.user.localeCompare(b.user) || a.server.localeCompare(b.server));
    },

    async revoke(user, server) {
      // Let a refresh under way finish first, so it cannot write the grant back after it is deleted.
      await flights.get(grantKey(user, server))?.catch(() => undefined);
      const lock = await waitForRefreshLock(store, refreshLockKey(user, server), { ttlMs: lockTtlMs, pollMs: lockPollMs, polls: pollBudget });
      try {
        const value = await store.get(grantKey(user, server));
        if (value === undefined) return { removed: false, upstream: 'skipped', failures: [] };
        const grant = openGrant(sealedBox, user, server, value);
        const report = grant === undefined ? { outcome: 'skipped' as const, failures: [] } : await revokeAtUpstream(post, grant.material, server);
        const removed = await forget(user, server);
        logger.info({ event: 'upstream_grant_revoked', user, server, upstream: report.outcome, failures: report.failures }, 'upstream grant revoked');
        return { removed, upstream: report.outcome, failures: report.failures };
      } finally {
        await lock?.release();
      }
    },
  };
}
