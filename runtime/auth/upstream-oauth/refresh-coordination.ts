import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Store } from '../../store/store.js';

/**
 * What lets gateway processes sharing one store refresh a grant once between them: a lock entry
 * (only its holder sends the refresh token, which the upstream may rotate: a second sender would
 * present a dead token and lose the grant), and a backoff marker after a failed refresh, so a
 * down upstream sees one refresh per backoff window, not one per request.
 */

export interface RefreshLock {
  /** Deletes the lock if this holder still has it (it may have lapsed and been taken by another). */
  release(): Promise<void>;
}

/** The lock, or undefined when another holder has it. The TTL frees it if the holder dies. */
export async function tryRefreshLock(store: Store, key: string, ttlMs: number): Promise<RefreshLock | undefined> {
  const owner = randomUUID();
  if (!(await store.setIfAbsent(key, { owner }, { ttlMs }))) return undefined;
  return {
    async release() {
      // Not atomic (the Store has no compare-and-delete): the gap matters only to a holder that
      // overran its TTL, and the TTL is chosen to outlast the HTTP client's timeout.
      const held = await store.get<{ owner?: unknown }>(key);
      if (held?.owner === owner) await store.delete(key);
    },
  };
}

export async function lockHeld(store: Store, key: string): Promise<boolean> {
  return (await store.get(key)) !== undefined;
}

/** The lock within `polls` waits of `pollMs`, or undefined when it stayed taken (the caller proceeds without it). */
export async function waitForRefreshLock(
  store: Store,
  key: string,
  options: { ttlMs: number; pollMs: number; polls: number },
): Promise<RefreshLock | undefined> {
  for (let attempt = 0; ; attempt++) {
    const lock = await tryRefreshLock(store, key, options.ttlMs);
    if (lock !== undefined || attempt >= options.polls) return lock;
    await sleep(options.pollMs);
  }
}

interface BackoffMarker {
  until: number;
  code: string;
}

/**
 * The backoff holds its end time, compared with the vault's clock; the store TTL only cleans up.
 * `code` is the GatewayError code of the failure, so a caller turned away during the backoff
 * gets the same kind of error as the one who saw the failure.
 */
export async function activeBackoff(store: Store, key: string, now: number): Promise<BackoffMarker | undefined> {
  const marker = await store.get<Partial<BackoffMarker>>(key);
  if (typeof marker?.until !== 'number' || typeof marker.code !== 'string' || marker.until <= now) return undefined;
  return { until: marker.until, code: marker.code };
}

export async function startBackoff(store: Store, key: string, marker: BackoffMarker, ttlMs: number): Promise<void> {
  await store.set(key, marker, { ttlMs });
}
