import { request } from 'node:http';

export interface HealthcheckResult {
  healthy: boolean;
  /** What was seen: the status, or why there was none. */
  detail: string;
}

export interface HealthcheckOptions {
  timeoutMs?: number;
  fetch?: typeof fetch;
  /**
   * Send the request over this Unix socket instead of to the URL's host and port (curl's
   * `--unix-socket`): the bridge of a `network: none` server listens on one (relay-runtime.ts).
   */
  socketPath?: string;
}

/**
 * `mcp-gateway runtime healthcheck URL`, the compose healthcheck of images without curl:
 * healthy when `GET url` answers 200 within `timeoutMs` (redirects are not followed).
 */
export async function checkHealth(
  url: string,
  { timeoutMs = 2_000, fetch: fetchImpl = fetch, socketPath }: HealthcheckOptions = {},
): Promise<HealthcheckResult> {
  try {
    const status = socketPath === undefined ? await fetchStatus(fetchImpl, url, timeoutMs) : await socketStatus(socketPath, url, timeoutMs);
    return { healthy: status === 200, detail: `HTTP ${status}` };
  } catch (err) {
    const reason = err instanceof Error && err.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : describe(err);
    return { healthy: false, detail: reason };
  }
}

async function fetchStatus(fetchImpl: typeof fetch, url: string, timeoutMs: number): Promise<number> {
  const res = await fetchImpl(url, { redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
  await res.body?.cancel();
  return res.status;
}

/** fetch cannot dial a Unix socket; node:http can. The URL gives the path and the Host header. */
function socketStatus(socketPath: string, url: string, timeoutMs: number): Promise<number> {
  const { host, pathname, search } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: `${pathname}${search}`, headers: { host }, signal: AbortSignal.timeout(timeoutMs) }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('error', (err) => reject(err.name === 'AbortError' && err.cause instanceof Error ? err.cause : err));
    req.end();
  });
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // fetch wraps the socket error ("fetch failed"); the cause says what happened.
  const cause = err.cause as NodeJS.ErrnoException | undefined;
  return cause?.code ?? cause?.message ?? (err as NodeJS.ErrnoException).code ?? err.message;
}
