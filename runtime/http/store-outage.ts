import type { ServerResponse } from 'node:http';
import { isGatewayError } from '../errors.js';

/** Seconds a client waits before retrying while the store is down: a Redis restart or a lock held past the busy timeout is over by then, usually. */
export const STORE_RETRY_AFTER_S = '5';

/**
 * The store (Redis, SQLite) could not answer: not the client's mistake and not a bug, so a 503
 * with Retry-After, never a 500. Nothing is admitted meanwhile: a token whose revocation
 * cannot be checked is not let through.
 */
export function isStoreOutage(err: unknown): boolean {
  return isGatewayError(err) && err.code === 'ERR_STORE_UNREACHABLE';
}

/** RFC 6749 §4.1.2.1's `temporarily_unavailable`, the OAuth word for it, as JSON. */
export const STORE_OUTAGE_BODY = {
  error: 'temporarily_unavailable',
  error_description: 'The gateway cannot reach its store right now; retry shortly.',
} as const;

export function sendStoreOutage(res: ServerResponse): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res
    .writeHead(503, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', 'Retry-After': STORE_RETRY_AFTER_S })
    .end(JSON.stringify(STORE_OUTAGE_BODY));
}
