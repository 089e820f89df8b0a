import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { USER_HEADER_NAMES } from '../auth/user-headers.js';
import type { ForwardedRequest, VerifyResult } from '../auth/tokens/verify-request.js';
import type { Logger } from '../logger.js';
import { verifyUrl } from '../http/edge-contract.js';
import { UPSTREAM_REJECTED_HEADER } from '../http/edge-contract.js';

export interface HttpForwardAuthOptions {
  /** Base URL of the auth runtime; `/verify` is appended. */
  authUrl: string;
  logger: Logger;
  /** How long one verification may take before the request gets 503. */
  timeoutMs?: number;
}

export interface HttpForwardAuth {
  verify(req: ForwardedRequest): Promise<VerifyResult>;
  close(): void;
}

/** A verdict is a few hundred bytes; a larger body is not from our auth runtime. */
const MAX_BODY_BYTES = 16 * 1024;
const DECISIONS = new Set([400, 401, 403, 404]);
const RETRY_AFTER_S = '5';

/**
 * ForwardAuth over HTTP, exactly as Traefik does it: a GET to `<auth>/verify` carrying the
 * original request as X-Forwarded-Method/Proto/Host/Uri/For plus the client's Authorization
 * (never its body or cookies). 2xx admits the request with the `X-User-*` answer headers (the
 * bridge still refuses one without X-User-Sub, e.g. an admitted CORS preflight); 400,
 * 401, 403 and 404 are the verifier's decisions and go back to the client as they are (with
 * WWW-Authenticate). Anything else (auth down, slow, or failing) is 503: the client may retry,
 * and a router error never looks like a bad token.
 */
export function createHttpForwardAuth({ authUrl, logger, timeoutMs = 5_000 }: HttpForwardAuthOptions): HttpForwardAuth {
  const url = new URL(verifyUrl(authUrl));
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`ForwardAuth: authUrl must be http(s), not ${authUrl}`);
  if (!(timeoutMs > 0)) throw new TypeError('ForwardAuth: timeoutMs must be positive');
  const secure = url.protocol === 'https:';
  // Every MCP request is verified: reuse connections instead of a handshake per request.
  const agent = secure ? new HttpsAgent({ keepAlive: true, scheduling: 'lifo' }) : new HttpAgent({ keepAlive: true, scheduling: 'lifo' });
  const send = secure ? httpsRequest : httpRequest;
  const log = logger.child({ upstream: 'auth' });

  function unavailable(reason: string): VerifyResult {
    log.warn({ event: 'forward_auth_unavailable', reason }, 'could not verify a request with the auth runtime');
    return {
      status: 503,
      headers: { 'Retry-After': RETRY_AFTER_S },
      body: { error: 'temporarily_unavailable', error_description: 'the authorization service is unavailable; try again shortly' },
    };
  }

  function verify(req: ForwardedRequest): Promise<VerifyResult> {
    const headers: Record<string, string> = {
      'x-forwarded-method': req.method,
      'x-forwarded-proto': 'http',
      'x-forwarded-uri': req.uri,
      accept: 'application/json',
    };
    if (req.host !== undefined) headers['x-forwarded-host'] = req.host;
    if (req.clientIp !== undefined) headers['x-forwarded-for'] = req.clientIp;
    if (req.authorization !== undefined) headers['authorization'] = req.authorization;
    if (req.upstreamRejected !== undefined) headers[UPSTREAM_REJECTED_HEADER.toLowerCase()] = req.upstreamRejected;
    // Traefik forwards the original's headers; the verifier only asks whether this one is there.
    if (req.inSession === true) headers['mcp-session-id'] = '1';
    return new Promise((resolve) => {
      let settled = false;
      const settle = (result: VerifyResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const outgoing = send(url, { method: 'GET', headers, agent });
      const timer = setTimeout(() => {
        settle(unavailable(`no answer within ${timeoutMs} ms`));
        outgoing.destroy();
      }, timeoutMs);
      outgoing.on('error', (err: NodeJS.ErrnoException) => settle(unavailable(err.code ?? err.message)));
      outgoing.on('response', (answer) => {
        const chunks: Buffer[] = [];
        let size = 0;
        answer.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY_BYTES) {
            answer.destroy();
            settle(unavailable('oversized /verify answer'));
            return;
          }
          chunks.push(chunk);
        });
        answer.on('error', (err) => settle(unavailable(err.message)));
        answer.on('end', () => settle(toResult(answer.statusCode ?? 0, answer.headers, Buffer.concat(chunks).toString('utf8'))));
      });
      outgoing.end();
    });
  }

  function toResult(status: number, headers: IncomingHttpHeaders, body: string): VerifyResult {
    if (status >= 200 && status < 300) {
      const identity: Record<string, string> = {};
      for (const name of USER_HEADER_NAMES) {
        const value = headers[name];
        if (typeof value === 'string') identity[name] = value;
      }
      return { status: 200, headers: identity };
    }
    if (!DECISIONS.has(status)) return unavailable(`/verify answered HTTP ${status}`);
    const challenge = headers['www-authenticate'];
    return {
      status: status as 400 | 401 | 403 | 404,
      headers: typeof challenge === 'string' ? { 'WWW-Authenticate': challenge } : {},
      body: errorBody(body, status),
    };
  }

  return {
    verify,
    close: () => agent.destroy(),
  };
}

function errorBody(text: string, status: number): { error: string; error_description: string } {
  try {
    const parsed = JSON.parse(text) as { error?: unknown; error_description?: unknown };
    if (typeof parsed.error === 'string')
      return { error: parsed.error, error_description: typeof parsed.error_description === 'string' ? parsed.error_description : '' };
  } catch {
    // not JSON: fall through
  }
  return { error: status === 404 ? 'not_found' : 'unauthorized', error_description: `the authorization service refused the request (HTTP ${status})` };
}
