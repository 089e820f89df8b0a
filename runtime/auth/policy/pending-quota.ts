import { ipKeyGenerator } from 'express-rate-limit';
import type { Store } from '../../store/store.js';
import { randomToken } from '../crypto-helpers.js';
import { PENDING_AUTHORIZATION_TTL_MS } from '../tokens/grants.js';

/**
 * How many pending authorizations (an /authorize waiting for its login, kept in the store for
 * 10 minutes) may exist. Every one costs store space until it expires, and starting one needs
 * no credential, so without a bound anyone could fill the store (and the embedded store's
 * memory and file). One person logs in a few times a minute at most; the total bounds what
 * many addresses together can hold: 1,000 pending of at most a few KB each (every parameter
 * is at most 1 KB, request-params.ts) is a few MB.
 */
export interface PendingLimits {
  perAddress: number;
  total: number;
}

export const DEFAULT_PENDING_LIMITS: PendingLimits = { perAddress: 100, total: 1_000 };

export type QuotaVerdict = { admitted: true } | { admitted: false; scope: 'address' | 'total' };

/**
 * Counts with the store's own sets, so the count is shared by every auth replica on Redis and
 * survives a restart, and needs nothing beyond the Store interface. Each /authorize that will
 * save a pending authorization adds its id to the set of the current window (one pending TTL
 * long), globally and for its address; a pending authorization lives one TTL, so every live one
 * was created in the current or the previous window, and their two set sizes together bound
 * the live count from above. Sets expire after two windows: no sweeping, nothing to keep in
 * step with logins that finish. Admission is add-then-count, so concurrent requests can only
 * be refused too eagerly, never admitted past the limit.
 */
export function createPendingQuota(store: Store, { limits = DEFAULT_PENDING_LIMITS, now = Date.now }: { limits?: PendingLimits; now?: () => number } = {}) {
  const windowMs = PENDING_AUTHORIZATION_TTL_MS;
  const setTtl = { ttlMs: 2 * windowMs };

  async function count(key: (window: number) => string, window: number): Promise<number> {
    const [current, previous] = await Promise.all([store.setMembers(key(window)), store.setMembers(key(window - 1))]);
    return current.length + previous.length;
  }

  return {
    /** Reserves a place for one pending authorization started from `ip` (express's `req.ip`). */
    async admit(ip: string | undefined): Promise<QuotaVerdict> {
      const id = randomToken(12);
      const window = Math.floor(now() / windowMs);
      // IPv6: one subscriber holds a whole /56, as express-rate-limit assumes for its own keys.
      const address = ipKeyGenerator(ip ?? 'unknown', 56);
      const totalKey = (w: number): string => `authz-quota:${w}`;
      const addressKey = (w: number): string => `authz-quota:${w}:${address}`;
      await Promise.all([store.addToSet(totalKey(window), id, setTtl), store.addToSet(addressKey(window), id, setTtl)]);
      const [forAddress, total] = await Promise.all([count(addressKey, window), count(totalKey, window)]);
      if (forAddress <= limits.perAddress && total <= limits.total) return { admitted: true };
      await Promise.all([store.removeFromSet(totalKey(window), id), store.removeFromSet(addressKey(window), id)]);
      return { admitted: false, scope: forAddress > limits.perAddress ? 'address' : 'total' };
    },
  };
}

export type PendingQuota = ReturnType<typeof createPendingQuota>;
