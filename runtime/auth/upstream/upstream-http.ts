import { GatewayError } from '../../errors.js';

/**
 * What every upstream client (GitHub, OpenID Connect) does with a reply it does not trust yet:
 * read it with a size cap, parse it without throwing, and quote it in an error only after
 * cleaning it. Replies from identity providers are small; a huge one is a misconfiguration
 * (a portal page, a wrong URL) or hostile, and must not exhaust memory.
 */

/** A token response, a user or a JWKS is a few kilobytes; anything near this is not an identity provider. */
export const MAX_UPSTREAM_BODY_BYTES = 1024 * 1024;

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The provider's own words go into our messages, but cut short, without control characters (log
 * injection) and without anything we sent it (a proxy that echoes the request must not leak it).
 */
export function untrusted(text: string, secrets: readonly string[] = []): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
  let clean = text.replace(/[\x00-\x1f\x7f]+/g, ' ');
  // Below 8 characters a "secret" is no credential and redacting it would garble ordinary words.
  for (const secret of secrets.filter((s) => s.length >= 8)) {
    for (const form of new Set([secret, encodeURIComponent(secret), new URLSearchParams({ s: secret }).toString().slice(2)])) {
      clean = clean.split(form).join('[redacted]');
    }
  }
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
}

/** Reads the body up to `maxBytes`; beyond that the stream is cancelled and `tooLarge()` is thrown. */
export async function readCapped(res: Response, tooLarge: () => GatewayError, maxBytes = MAX_UPSTREAM_BODY_BYTES): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export interface UpstreamReply {
  status: number;
  headers: Headers;
  text: string;
}

/**
 * One HTTP exchange with an identity provider. Redirects are not followed (a 30x would turn a
 * token POST into a GET, and a moved provider should be reported, not trusted); every way of not
 * getting an answer, the timeout included, becomes ERR_UPSTREAM_UNREACHABLE naming `system`.
 */
export async function requestUpstream(
  fetchImpl: typeof fetch,
  url: string,
  init: RequestInit,
  { system, timeoutMs, hint, badResponseHint = hint }: { system: string; timeoutMs: number; hint: string; badResponseHint?: string },
): Promise<UpstreamReply> {
  try {
    const res = await fetchImpl(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    const tooLarge = (): GatewayError =>
      new GatewayError('ERR_UPSTREAM_BAD_RESPONSE', `${system}'s reply at ${url} is larger than ${MAX_UPSTREAM_BODY_BYTES} bytes`, {
        hint: badResponseHint,
      });
    return { status: res.status, headers: res.headers, text: await readCapped(res, tooLarge) };
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    const timedOut = err instanceof Error && err.name === 'TimeoutError';
    throw new GatewayError(
      'ERR_UPSTREAM_UNREACHABLE',
      timedOut ? `${system} did not answer within ${timeoutMs} ms (${url})` : `could not reach ${system} at ${url}`,
      { hint, cause: err },
    );
  }
}
