/** Whether a server behind the gateway works, and a line saying why (or why not). */
export interface ServerHealth {
  ok: boolean;
  detail: string;
}

export interface CachedHealthOptions {
  /** How long a good result is reused. */
  okTtlMs?: number;
  /** How long a bad result is reused: short, so recovery shows soon. */
  failTtlMs?: number;
  now?: () => number;
}

/**
 * Health checks for load balancers and `docker healthcheck` arrive every few seconds; a probe
 * starts a process (or an upstream session). This runs at most one probe at a time and reuses
 * its result for a while, so probing costs one child per TTL, never one per request.
 */
export function cachedHealth(probe: () => Promise<ServerHealth>, options: CachedHealthOptions = {}): () => Promise<ServerHealth> {
  const { okTtlMs = 60_000, failTtlMs = 5_000, now = Date.now } = options;
  let cached: { result: ServerHealth; until: number } | undefined;
  let running: Promise<ServerHealth> | undefined;
  return () => {
    if (cached !== undefined && now() < cached.until) return Promise.resolve(cached.result);
    running ??= probe()
      .catch((err: unknown): ServerHealth => ({ ok: false, detail: err instanceof Error ? err.message : String(err) }))
      .then((result) => {
        cached = { result, until: now() + (result.ok ? okTtlMs : failTtlMs) };
        running = undefined;
        return result;
      });
    return running;
  };
}
