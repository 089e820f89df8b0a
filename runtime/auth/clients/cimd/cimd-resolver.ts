import { promises as dns } from 'node:dns';
import { GatewayError } from '../../../errors.js';
import { silentLogger, type Logger } from '../../../logger.js';
import { clientIdUrlProblem } from './client-id-url.js';
import { DocumentProblem, parseCimdDocument, type CimdClient } from './cimd-document.js';
import { cacheLifetimeMs } from './http-cache.js';
import { FetchProblem, pinnedGet, type PinnedAddress } from './pinned-fetch.js';
import { abortable, type HostLookup, pinnedAddresses } from './pinned-addresses.js';

export type { CimdClient } from './cimd-document.js';
export { clientIdUrlProblem } from './client-id-url.js';

export type { HostLookup } from './pinned-addresses.js';

export interface CimdResolverOptions {
  now?: () => number;
  /** One deadline for DNS, connect, TLS and reading the body. */
  timeoutMs?: number;
  /** CIMD §8.7 recommends reading at most 5 kilobytes. */
  maxBytes?: number;
  /**
   * Fetch from loopback and private addresses, and over plain http on a loopback host. For tests
   * and local development only: CIMD §8.6 forbids it in production.
   */
  allowPrivateNetworks?: boolean;
  /** Resolves a hostname to every address it has; defaults to the system resolver. */
  lookup?: HostLookup;
  /**
   * Bounds on how long a document is reused (CIMD §5.2 lets the server set its own). A lifetime
   * from `max-age` or `Expires`, even 0, is clamped into them; `no-store` and `no-cache` are
   * honoured as "fetch again next time" whatever the bounds.
   */
  minCacheMs?: number;
  maxCacheMs?: number;
  /** Reuse time for a document whose response has no freshness information. */
  defaultCacheMs?: number;
  /** How long a failed fetch is replayed instead of retried; 0 turns this off (see below). */
  failureCacheMs?: number;
  /** Entries kept at most; the oldest go first, so distinct client_ids cannot exhaust memory. */
  maxCacheEntries?: number;
  /** Trusted CA certificates instead of Node's bundle (tests with a self-signed document host). */
  ca?: string | Buffer;
  logger?: Logger;
}

export interface CimdResolver {
  /** True when `clientId` is a Client Identifier URL this resolver would fetch (CIMD §3). */
  isCimdClientId(clientId: string): boolean;
  /**
   * The client a Client ID Metadata Document describes, from the cache or fetched. Throws a
   * GatewayError: `ERR_CIMD_INVALID` (not a client ID URL, or the document is not acceptable),
   * `ERR_CIMD_FETCH_FAILED` (DNS, connect, TLS, timeout, non-200, redirect, too large) or
   * `ERR_CIMD_FORBIDDEN_TARGET` (the host resolves to an address the SSRF guard refuses).
   */
  resolve(clientId: string): Promise<CimdClient>;
}

type CacheEntry = { expiresAt: number; client: CimdClient } | { expiresAt: number; error: GatewayError };

const ACCEPT = 'application/json';
const USER_AGENT = 'mcp-gateway (OAuth Client ID Metadata Document fetcher)';
const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json$/i;

/** The system resolver (getaddrinfo, /etc/hosts included): every address of the name, in its order. */
export const systemLookup: HostLookup = async (hostname) => {
  const answers = await dns.lookup(hostname, { all: true, verbatim: true });
  return answers.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
};

/**
 * Fetches and caches Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document;
 * MCP 2025-11-25 "Client ID Metadata Documents"). In-process cache: a document is cheap to fetch
 * again, so a restart or a second gateway instance simply fetches it once more.
 *
 * Failures are replayed for `failureCacheMs` (default 10 s) so that a broken or hostile client_id
 * cannot make the gateway fetch a host on every request. CIMD §5.2 says error responses and invalid
 * documents MUST NOT be cached; we read that as "never treated as the client's metadata", which this
 * does not do, and keep the window short so a fixed document is seen within seconds. Set
 * `failureCacheMs: 0` for the letter of §5.2.
 *
 * There is deliberately no `fetch` option: an injected fetch resolves the name itself and so would
 * bypass the pinned connection the SSRF guard depends on. Tests use `lookup`, `now` and real HTTP.
 */
export function createCimdResolver({
  now = Date.now,
  timeoutMs = 5_000,
  maxBytes = 5 * 1024,
  allowPrivateNetworks = false,
  lookup = systemLookup,
  minCacheMs = 60_000,
  maxCacheMs = 24 * 60 * 60_000,
  defaultCacheMs = 5 * 60_000,
  failureCacheMs = 10_000,
  maxCacheEntries = 1_000,
  ca,
  logger = silentLogger(),
}: CimdResolverOptions = {}): CimdResolver {
  for (const [name, value] of Object.entries({ timeoutMs, maxBytes, minCacheMs, maxCacheMs, defaultCacheMs, failureCacheMs, maxCacheEntries })) {
    if (!Number.isFinite(value) || value < 0) throw new TypeError(`createCimdResolver: ${name} must be a finite number >= 0`);
  }
  if (timeoutMs === 0 || maxBytes === 0) throw new TypeError('createCimdResolver: timeoutMs and maxBytes must be > 0');
  if (minCacheMs > maxCacheMs) throw new TypeError('createCimdResolver: minCacheMs must not exceed maxCacheMs');

  const cache = new Map<string, CacheEntry>();
  const inflight = new Map<string, Promise<CimdClient>>();
  const urlOptions = { allowLoopbackHttp: allowPrivateNetworks };
  const fail = (code: 'ERR_CIMD_FETCH_FAILED' | 'ERR_CIMD_INVALID', clientId: string, reason: string, cause?: unknown): GatewayError =>
    failure(code, clientId, reason, failureCacheMs, cause);

  function remember(clientId: string, entry: CacheEntry): void {
    cache.delete(clientId);
    if (cache.size >= maxCacheEntries) {
      const t = now();
      for (const [key, value] of cache) if (value.expiresAt <= t) cache.delete(key);
      while (cache.size >= maxCacheEntries) {
        const oldest = cache.keys().next();
        if (oldest.done === true) break;
        cache.delete(oldest.value);
      }
    }
    if (maxCacheEntries > 0) cache.set(clientId, entry);
  }

  async function fetchClient(clientId: string): Promise<CimdClient> {
    const url = new URL(clientId);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(fail('ERR_CIMD_FETCH_FAILED', clientId, `no complete answer within ${timeoutMs} ms`)), timeoutMs);
    try {
      const addresses = await abortable(resolveHost(url, clientId), controller.signal);
      const response = await pinnedGet(url, {
        addresses,
        accept: ACCEPT,
        userAgent: USER_AGENT,
        maxBytes,
        signal: controller.signal,
        ...(ca === undefined ? {} : { ca }),
      });
      const fetchedAt = now();
      const client = parseResponse(clientId, response.headers['content-type'], response.body);
      const lifetime = cacheLifetimeMs(response.headers, fetchedAt);
      const cacheMs = lifetime === 'no-store' ? 0 : Math.min(maxCacheMs, Math.max(minCacheMs, lifetime ?? defaultCacheMs));
      if (cacheMs > 0) remember(clientId, { expiresAt: fetchedAt + cacheMs, client });
      logger.info({ event: 'cimd_fetched', clientId, cacheMs });
      return client;
    } catch (err) {
      if (err instanceof FetchProblem) throw fail('ERR_CIMD_FETCH_FAILED', clientId, err.message, err);
      if (err instanceof DocumentProblem) throw fail('ERR_CIMD_INVALID', clientId, err.message, err);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  async function resolveHost(url: URL, clientId: string): Promise<PinnedAddress[]> {
    const found = await pinnedAddresses(url, { lookup, allowPrivateNetworks });
    if (found.ok) return found.addresses;
    if (found.kind === 'unresolved') throw fail('ERR_CIMD_FETCH_FAILED', clientId, found.message, found.cause);
    throw new GatewayError(
      'ERR_CIMD_FORBIDDEN_TARGET',
      `client_id ${shorten(clientId)}: ${found.host} resolves to ${found.address}, which is ${found.reason}; the gateway does not fetch from such addresses (CIMD §8.6)`,
      {
        hint: 'Client metadata documents must be served from a public address. For local development only, set allowPrivateNetworks.',
      },
    );
  }

  return {
    isCimdClientId(clientId: string): boolean {
      return clientIdUrlProblem(clientId, urlOptions) === undefined;
    },

    async resolve(clientId: string): Promise<CimdClient> {
      const problem = clientIdUrlProblem(clientId, urlOptions);
      if (problem !== undefined) {
        throw new GatewayError('ERR_CIMD_INVALID', `client_id ${shorten(clientId)} ${problem}`, {
          hint: 'A client ID metadata URL is https, has a path, and has no fragment or credentials (draft-ietf-oauth-client-id-metadata-document §3).',
        });
      }
      const hit = cache.get(clientId);
      if (hit !== undefined && hit.expiresAt > now()) {
        if ('error' in hit) throw hit.error;
        return copy(hit.client);
      }
      if (hit !== undefined) cache.delete(clientId);
      let pending = inflight.get(clientId);
      if (pending === undefined) {
        pending = fetchClient(clientId)
          .catch((err: unknown) => {
            if (err instanceof GatewayError) {
              logger.warn({ event: 'cimd_failed', clientId, code: err.code, reason: err.message });
              if (failureCacheMs > 0) remember(clientId, { expiresAt: now() + failureCacheMs, error: err });
            }
            throw err;
          })
          .finally(() => inflight.delete(clientId));
        inflight.set(clientId, pending);
      }
      return copy(await pending);
    },
  };
}

function failure(code: 'ERR_CIMD_FETCH_FAILED' | 'ERR_CIMD_INVALID', clientId: string, reason: string, failureCacheMs: number, cause?: unknown): GatewayError {
  const fix =
    code === 'ERR_CIMD_INVALID'
      ? 'Fix the client metadata document: a JSON object whose client_id is exactly its own URL, with redirect_uris.'
      : 'Serve the client metadata document with 200 from a public https URL, without redirects.';
  const retry = failureCacheMs > 0 ? ` The gateway retries at most every ${Math.ceil(failureCacheMs / 1000)} s.` : '';
  return new GatewayError(code, `client_id ${shorten(clientId)}: ${reason}`, { hint: `${fix}${retry}`, ...(cause === undefined ? {} : { cause }) });
}

function parseResponse(clientId: string, contentType: string | undefined, body: Buffer): CimdClient {
  const mediaType = (contentType ?? '').split(';')[0]?.trim() ?? '';
  // CIMD §4: JSON, as application/json or a more specific application/<something>+json.
  if (!JSON_MEDIA_TYPE.test(mediaType)) {
    throw new DocumentProblem(`the document is served as ${mediaType === '' ? 'no content type' : mediaType.slice(0, 100)}; serve it as application/json`);
  }
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8').replace(/^\uFEFF/, ''));
  } catch {
    throw new DocumentProblem('the document is not valid JSON');
  }
  return parseCimdDocument(json, clientId);
}

function copy(client: CimdClient): CimdClient {
  return { ...client, redirectUris: [...client.redirectUris], grantTypes: [...client.grantTypes], responseTypes: [...client.responseTypes] };
}

function shorten(value: string): string {
  return value.length > 200 ? `${value.slice(0, 200)}…` : value;
}
