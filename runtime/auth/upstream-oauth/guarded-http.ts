import type { IncomingHttpHeaders } from 'node:http';
import { GatewayError } from '../../errors.js';
import { systemLookup } from '../clients/cimd/cimd-resolver.js';
import { abortable, type HostLookup, pinnedAddresses } from '../clients/cimd/pinned-addresses.js';
import { FetchProblem, pinnedRequest, type PinnedAddress } from '../clients/cimd/pinned-fetch.js';
import { checkUpstreamUrl } from './upstream-url.js';

/**
 * The one way the gateway talks HTTP to a remote MCP server's OAuth side: its endpoint (the
 * unauthenticated probe), its metadata documents, its authorization server's registration (and,
 * for the token vault, token and revocation) endpoints. Every URL here comes from a remote
 * document, so every request goes through the CIMD fetcher's SSRF guard
 * (../clients/cimd/ssrf-guard.ts): the name is resolved once, every address it has is checked,
 * and the connection is pinned to the checked addresses (pinned-fetch.ts), so a DNS answer that
 * changes to 127.0.0.1 between check and connect (rebinding) is never used.
 *
 * Also as for CIMD: one deadline for DNS, connect, TLS and the whole body; a byte cap enforced
 * while reading; no compressed answers; redirects are never followed (a 30x is returned to the
 * caller, who reports it: following one would need the target checked again, and metadata that
 * moves should be fixed at its source, not trusted wherever it points).
 */

export interface GuardedHttpOptions {
  /** One deadline per request for DNS, connect, TLS and reading the body. */
  timeoutMs?: number;
  /** Larger answers are refused while streaming. Metadata documents are a few kilobytes. */
  maxBytes?: number;
  /**
   * Connect to loopback and private addresses, and accept plain http to a loopback host. For
   * tests and local development only, as `allowPrivateNetworks` of the CIMD resolver.
   */
  allowPrivateNetworks?: boolean;
  /** Resolves a hostname to every address it has; defaults to the system resolver. */
  lookup?: HostLookup;
  /** Trusted CA certificates instead of Node's bundle (tests with a self-signed host). */
  ca?: string | Buffer;
  userAgent?: string;
}

export interface GuardedRequest {
  method?: 'GET' | 'POST';
  /** `accept` defaults to application/json; user-agent and accept-encoding cannot be set here. */
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface GuardedReply {
  url: URL;
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The body as JSON; rejects when it is not JSON. (The shape the token vault's `UpstreamPost` expects.) */
  json(): Promise<unknown>;
}

export interface GuardedHttp {
  /** Whether http to a loopback host is acceptable: the URL rules (upstream-url.ts) follow the same switch. */
  readonly allowLoopbackHttp: boolean;
  /**
   * Resolves with the answer whatever its status, redirects included. Rejects with a GatewayError
   * `ERR_UPSTREAM_OAUTH_FORBIDDEN_TARGET` when the URL or an address of its host is one the gateway
   * does not connect to, and with a `FetchProblem` (for the caller to wrap with its own code and
   * hint) for everything else: DNS, connect, TLS, timeout, an answer over `maxBytes`.
   */
  request(url: URL, init?: GuardedRequest): Promise<GuardedReply>;
}

export const DEFAULT_UPSTREAM_USER_AGENT = 'mcp-gateway (remote MCP server OAuth client)';

export function createGuardedHttp({
  timeoutMs = 5_000,
  maxBytes = 64 * 1024,
  allowPrivateNetworks = false,
  lookup = systemLookup,
  ca,
  userAgent = DEFAULT_UPSTREAM_USER_AGENT,
}: GuardedHttpOptions = {}): GuardedHttp {
  for (const [name, value] of Object.entries({ timeoutMs, maxBytes })) {
    if (!Number.isFinite(value) || value <= 0) throw new TypeError(`createGuardedHttp: ${name} must be a finite number > 0`);
  }

  async function addressesOf(url: URL, signal: AbortSignal): Promise<PinnedAddress[]> {
    const found = await pinnedAddresses(url, { lookup: (host) => abortable(lookup(host), signal), allowPrivateNetworks });
    if (found.ok) return found.addresses;
    if (found.kind === 'forbidden') throw forbidden(url, `${found.host} resolves to ${found.address}, which is ${found.reason}`);
    if (signal.aborted) throw signal.reason;
    throw new FetchProblem(found.message);
  }

  return {
    allowLoopbackHttp: allowPrivateNetworks,

    async request(url, { method = 'GET', headers = {}, body } = {}) {
      const check = checkUpstreamUrl(url.href, { allowLoopbackHttp: allowPrivateNetworks });
      if (!check.ok) throw forbidden(url, `the URL ${check.problem}`);
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(new FetchProblem(`no complete answer within ${timeoutMs} ms`)), timeoutMs);
      try {
        const addresses = await addressesOf(url, controller.signal);
        const { accept = 'application/json', ...rest } = lowerCaseKeys(headers);
        const reply = await pinnedRequest(url, {
          addresses,
          accept,
          userAgent,
          maxBytes,
          signal: controller.signal,
          method,
          headers: rest,
          ...(body === undefined ? {} : { body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body }),
          ...(ca === undefined ? {} : { ca }),
        });
        return {
          url,
          status: reply.status,
          headers: reply.headers,
          body: reply.body,
          json: async () => JSON.parse(reply.body.toString('utf8').replace(/^\uFEFF/, '')) as unknown,
        };
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** The media type of a response, lower-cased and without parameters; '' when there is none. */
export function mediaTypeOf(headers: IncomingHttpHeaders): string {
  return (headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** application/json, or a more specific application/<something>+json (RFC 6839). */
export function isJsonMediaType(mediaType: string): boolean {
  return /^application\/(?:[\w.+-]+\+)?json$/.test(mediaType);
}

function forbidden(url: URL, why: string): GatewayError {
  return new GatewayError('ERR_UPSTREAM_OAUTH_FORBIDDEN_TARGET', `${shortUrl(url)}: ${why}; the gateway does not connect there for a remote server's OAuth`, {
    hint:
      'A remote MCP server and its authorization server must be reachable over https on public addresses. ' +
      'Allowing private networks (and http to loopback) is for tests and local development only.',
  });
}

/** A URL for a message: no query (it is nobody's business in a log) and cut short. */
export function shortUrl(url: URL): string {
  const text = `${url.origin}${url.pathname}`;
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}
