import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';

/**
 * One request (a GET; a POST for `pinnedRequest`'s callers) over a connection to addresses the
 * caller has already checked, never to whatever DNS answers at connect time.
 *
 * Why hand-written: a guard that resolves a name, checks the address and then lets `fetch` resolve
 * the name again is open to DNS rebinding (the second answer is 127.0.0.1). The connection must
 * go to the checked address while the hostname still drives SNI, the certificate check and Host.
 * On Node 20 the global `fetch` has no `lookup` hook; it would need undici's `Agent({ connect })`,
 * and undici is not a dependency. The maintained npm option, request-filtering-agent (an
 * http.Agent that checks the address when the socket connects), would replace only the
 * address check: the CIMD rules around it (one deadline for DNS + connect + read, a byte cap
 * enforced while streaming, redirects refused, 200 only) are written on node:http either way.
 * So the check (ssrf-guard.ts) and this pinned request stay here, small and tested, rather than
 * adding a dependency for some thirty lines.
 */

export interface PinnedAddress {
  address: string;
  family: 4 | 6;
}

export interface FetchedResponse {
  /** Always 200 from `pinnedGet`; whatever the server answered from `pinnedRequest`. */
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Why a fetch failed, in words fit for the client's developer; the caller wraps it in a GatewayError. */
export class FetchProblem extends Error {
  override readonly name = 'FetchProblem';
}

export interface PinnedFetchOptions {
  addresses: PinnedAddress[];
  accept: string;
  userAgent: string;
  maxBytes: number;
  signal: AbortSignal;
  /** Trusted CA certificates instead of Node's bundle (tests with a self-signed document host). */
  ca?: string | Buffer;
}

export interface PinnedRequestOptions extends PinnedFetchOptions {
  /** GET unless told otherwise. */
  method?: 'GET' | 'POST';
  /**
   * More request headers (content-type, authorization). They cannot replace the ones above:
   * accept, user-agent and the refusal of compressed answers stay the caller's options.
   */
  headers?: Record<string, string>;
  /** Sent with its length (a registration request's JSON, a token request's form). */
  body?: Buffer;
}

/** Set from the options, never from `headers`; host comes from the URL. */
const FIXED_HEADERS = new Set(['accept', 'user-agent', 'accept-encoding', 'content-length', 'host', 'transfer-encoding', 'connection']);

/** What a caller's status rule says: undefined to read the body, or why the response is refused before reading it. */
type StatusRule = (status: number, location: string | undefined) => FetchProblem | undefined;

/** CIMD §5: the document is served with 200, and a redirect is not followed. */
const cimdStatusRule: StatusRule = (status, location) => {
  if (status >= 300 && status < 400) {
    return new FetchProblem(
      `the server answered ${status} redirecting to ${location === undefined ? '(no Location)' : location.slice(0, 300)}; redirects are not followed (CIMD §5)`,
    );
  }
  if (status !== 200) return new FetchProblem(`the server answered ${status}; a client metadata document must be served with 200 (CIMD §5)`);
  return undefined;
};

export function pinnedGet(url: URL, options: PinnedFetchOptions): Promise<FetchedResponse> {
  return exchange(url, { ...options, method: 'GET' }, { statusRule: cimdStatusRule, sizeNote: ' (CIMD §8.7)' });
}

/**
 * The same pinned connection, byte cap, signal and refusal of compressed bodies as `pinnedGet`,
 * for callers that judge the status themselves (upstream OAuth discovery reads a 401's
 * WWW-Authenticate and moves on past a 404): every status resolves with its body, a redirect
 * included. Nothing is followed; a caller that wanted to follow a Location would have to check
 * its address again, so none does.
 */
export function pinnedRequest(url: URL, options: PinnedRequestOptions): Promise<FetchedResponse> {
  return exchange(url, options, { statusRule: () => undefined, sizeNote: '' });
}

function exchange(
  url: URL,
  { addresses, accept, userAgent, maxBytes, signal, ca, method = 'GET', headers = {}, body }: PinnedRequestOptions,
  { statusRule, sizeNote }: { statusRule: StatusRule; sizeNote: string },
): Promise<FetchedResponse> {
  if (addresses.length === 0) return Promise.reject(new TypeError('a pinned request needs at least one address'));
  // Node asks for one address, or for all of them when it races IPv4 and IPv6 (autoSelectFamily).
  const lookup: LookupFunction = (_hostname, options, callback) => {
    const wanted = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
    const usable = wanted === 4 || wanted === 6 ? addresses.filter((a) => a.family === wanted) : addresses;
    const [head] = usable;
    if (head === undefined) {
      callback(Object.assign(new Error(`no checked IPv${String(wanted)} address`), { code: 'ENOTFOUND' }), '', 0);
    } else if (options.all === true) {
      callback(
        null,
        usable.map(({ address, family }) => ({ address, family })),
      );
    } else {
      callback(null, head.address, head.family);
    }
  };
  const options: RequestOptions = {
    method,
    // The hostname, not the address: Node derives Host, SNI and the certificate check from it.
    hostname: url.hostname.replace(/^\[|\]$/g, ''),
    ...(url.port === '' ? {} : { port: Number(url.port) }),
    path: `${url.pathname}${url.search}`,
    headers: {
      ...Object.fromEntries(Object.entries(headers).filter(([name]) => !FIXED_HEADERS.has(name.toLowerCase()))),
      accept,
      'user-agent': userAgent,
      'accept-encoding': 'identity',
      ...(body === undefined ? {} : { 'content-length': String(body.length) }),
    },
    lookup,
    // No pooled sockets: each fetch connects through the lookup above.
    agent: false,
    signal,
    ...(ca === undefined ? {} : { ca }),
  };
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;

  return new Promise<FetchedResponse>((resolve, reject) => {
    let settled = false;
    const fail = (problem: Error): void => {
      if (settled) return;
      settled = true;
      req.destroy();
      reject(problem);
    };
    const req = send(options, (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      const refused = statusRule(status, res.headers.location);
      if (refused !== undefined) {
        fail(refused);
        return;
      }
      const encoding = res.headers['content-encoding'];
      if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
        fail(new FetchProblem(`the response is ${encoding}-encoded; serve the document uncompressed`));
        return;
      }
      const declared = Number(res.headers['content-length'] ?? 0);
      if (declared > maxBytes) {
        fail(tooLarge(maxBytes, sizeNote));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) fail(tooLarge(maxBytes, sizeNote));
        else chunks.push(chunk);
      });
      res.on('end', () => {
        if (settled) return;
        settled = true;
        resolve({ status, headers: res.headers, body: Buffer.concat(chunks) });
      });
      res.on('error', (err) => fail(describe(err, signal)));
      res.on('close', () => {
        if (!res.complete)
          fail(signal.aborted ? describe(new Error('aborted'), signal) : new FetchProblem('the server closed the connection before the document was complete'));
      });
    });
    req.on('error', (err) => fail(describe(err, signal)));
    req.end(body);
  });
}

function tooLarge(maxBytes: number, note: string): FetchProblem {
  return new FetchProblem(`the document is larger than ${maxBytes} bytes${note}`);
}

function describe(err: Error, signal: AbortSignal): Error {
  if (signal.aborted) return signal.reason instanceof Error ? signal.reason : new FetchProblem('the request was aborted');
  const code = (err as NodeJS.ErrnoException).code;
  return new FetchProblem(code === undefined ? err.message : `${err.message} (${code})`);
}
