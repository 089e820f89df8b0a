export interface HealthcheckResult {
  healthy: boolean;
  /** What was seen: the status, or why there was none. */
  detail: string;
}

/**
 * `mcp-gateway runtime healthcheck URL`, the compose healthcheck of images without curl:
 * healthy when `GET url` answers 200 within `timeoutMs` (redirects are not followed).
 */
export async function checkHealth(url: string, { timeoutMs = 2_000, fetch: fetchImpl = fetch }: { timeoutMs?: number; fetch?: typeof fetch } = {}): Promise<HealthcheckResult> {
  try {
    const res = await fetchImpl(url, { redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return { healthy: res.status === 200, detail: `HTTP ${res.status}` };
  } catch (err) {
    const reason = err instanceof Error && err.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : describe(err);
    return { healthy: false, detail: reason };
  }
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // fetch wraps the socket error ("fetch failed"); the cause says what happened.
  const cause = err.cause as NodeJS.ErrnoException | undefined;
  return cause?.code ?? cause?.message ?? err.message;
}
