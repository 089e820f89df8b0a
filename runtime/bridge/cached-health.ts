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
  /**
   * How long a caller waits for a probe before it is answered anyway: with the last result
   * while a new probe runs, or "still probing" the first time. `/health` must answer within a
   * second whatever a server does (a load balancer gives up and marks the gateway down).
   */
  maxWaitMs?: number;
  now?: () => number;
}

/**
 * Health checks for load balancers and `docker healthcheck` arrive every few seconds; a probe
 * starts a process (or an upstream session). This runs at most one probe at a time and reuses
 * its result for a while, so probing costs one child per TTL, never one per request, and no
 * caller waits longer than `maxWaitMs` for it.
 */
export function cachedHealth(probe: () => Promise<ServerHealth>, options: CachedHealthOptions = {}): () => Promise<ServerHealth> {
  const { okTtlMs = 60_000, failTtlMs = 5_000, maxWaitMs = 800, now = Date.now } = options;
  let cached: { result: ServerHealth; until: number } | undefined;
  let running: { result: Promise<ServerHealth>; startedAt: number } | undefined;
  return () => {
    if (cached !== undefined && now() < cached.until) return Promise.resolve(cached.result);
    running ??= {
      startedAt: now(),
      result: probe()
        .catch((err: unknown): ServerHealth => ({ ok: false, detail: err instanceof Error ? err.message : String(err) }))
        .then((result) => {
          cached = { result, until: now() + (result.ok ? okTtlMs : failTtlMs) };
          running = undefined;
          return result;
        }),
    };
    const { result, startedAt } = running;
    const meanwhile = (): ServerHealth =>
      cached?.result ?? { ok: false, detail: `no answer to initialize yet (probing for ${Math.round((now() - startedAt) / 1000)} s)` };
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<ServerHealth>((resolve) => {
      timer = setTimeout(() => resolve(meanwhile()), maxWaitMs);
      timer.unref();
    });
    return Promise.race([result, waited]).finally(() => clearTimeout(timer));
  };
}
