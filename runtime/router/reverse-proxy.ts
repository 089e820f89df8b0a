import { relayLifecycle } from '../http/relay-lifecycle.js';
import {
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../logger.js';
import { type ClientAddress, peerAddress } from '../http/client-address.js';
import type { McpEndpoint } from '../bridge/bridge.js';

export interface ReverseProxyOptions {
  /** Names the target in logs and error bodies (`auth`, `bridge-echo`). */
  name: string;
  /** Base URL; the request's path and query are appended to its path. */
  target: string;
  logger: Logger;
  /** Who the client is, in X-Forwarded-For: this connection's peer unless trustedProxies says otherwise. */
  clientAddress?: ClientAddress;
}

export interface ReverseProxy extends McpEndpoint {
  /** Cuts the requests in flight and drops pooled connections. */
  close(): void;
}

const JSON_NO_STORE = { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' };

/** RFC 9110 §7.6.1, plus the non-standard ones proxies still meet. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);
/** Set here from what this hop saw; a client's own values would be believed downstream. */
const FORWARDED = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-port', 'x-real-ip'];

/**
 * A streaming HTTP reverse proxy for the built-in router's container mode, the part of Traefik
 * it stands in for: bodies are piped both ways as they arrive (SSE is never buffered), the Host
 * header is passed on (the auth runtime derives subdomain metadata from it), hop-by-hop headers
 * are dropped, X-Forwarded-* are set from this connection (client values are not trusted, as
 * Traefik without `trustedIPs`), and a client that goes away cancels the upstream request.
 *
 * Not the remote MCP proxy (runtime/bridge/remote-proxy.ts): that one allowlists headers and
 * binds sessions to users for a third-party server; this one forwards everything the router
 * let through to our own containers.
 */
export function createReverseProxy({ name, target, logger, clientAddress = peerAddress }: ReverseProxyOptions): ReverseProxy {
  const base = new URL(target);
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new TypeError(`reverse proxy ${name}: target must be http(s), not ${target}`);
  const basePath = base.pathname.replace(/\/+$/, '');
  const secure = base.protocol === 'https:';
  const agent = secure ? new HttpsAgent({ keepAlive: true, scheduling: 'lifo' }) : new HttpAgent({ keepAlive: true, scheduling: 'lifo' });
  const send = secure ? httpsRequest : httpRequest;
  const inFlight = new Set<{ destroy(): void }>();
  const log = logger.child({ upstream: name });

  function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // The client may have left while ForwardAuth was deciding.
    if (req.socket.destroyed || res.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const outgoing = send({
        protocol: base.protocol,
        hostname: base.hostname.replace(/^\[|\]$/g, ''),
        port: base.port,
        method: req.method,
        path: `${basePath}${req.url ?? '/'}`,
        headers: forwardHeaders(req, clientAddress(req)),
        agent,
      });
      relayLifecycle(res, outgoing, {
        inFlight,
        done: resolve,
        onUnreachable(err) {
          log.warn({ event: 'upstream_unreachable', err: err.message, code: err.code }, `${name} did not answer`);
          res
            .writeHead(502, JSON_NO_STORE)
            .end(JSON.stringify({ error: 'bad_gateway', error_description: `${name} did not answer (${err.code ?? err.message})` }));
        },
      });
      outgoing.on('response', (answer) => relayAnswer(answer, res, responseHeaders(answer.headers)));
      req.pipe(outgoing);
    });
  }

  return {
    handle,
    close() {
      for (const outgoing of inFlight) outgoing.destroy();
      agent.destroy();
    },
  };
}

/** Sends the upstream's answer on as it arrives, with `headers`; an SSE stream's headers go out at once. */
export function relayAnswer(answer: IncomingMessage, res: ServerResponse, headers: OutgoingHttpHeaders): void {
  res.writeHead(answer.statusCode ?? 502, headers);
  // An event stream's headers go out now; pipe() then writes each event as it arrives.
  if (String(answer.headers['content-type'] ?? '').startsWith('text/event-stream')) res.flushHeaders();
  answer.pipe(res);
  // The upstream cut its answer short (a bridge restarting mid-stream): cut ours too.
  answer.once('close', () => {
    if (!answer.complete) res.destroy();
  });
  answer.once('error', () => res.destroy());
}

/** Header names a message's Connection header lists (hop-by-hop for that message). */
function connectionTokens(headers: IncomingHttpHeaders): Set<string> {
  const tokens = new Set<string>();
  for (const token of String(headers.connection ?? '').split(',')) if (token.trim() !== '') tokens.add(token.trim().toLowerCase());
  return tokens;
}

/**
 * What goes to the upstream: the client's headers minus hop-by-hop ones, X-Forwarded-* from this
 * connection, with `clientIp` (the peer, or who a trusted proxy forwarded for) as the only
 * X-Forwarded-For entry: the hop behind believes exactly one.
 */
export function forwardHeaders(req: IncomingMessage, clientIp: string | undefined = req.socket.remoteAddress): OutgoingHttpHeaders {
  const named = connectionTokens(req.headers);
  const headers: OutgoingHttpHeaders = {};
  for (const [key, value] of Object.entries(req.headers)) {
    if (value === undefined || HOP_BY_HOP.has(key) || named.has(key) || FORWARDED.includes(key)) continue;
    headers[key] = value;
  }
  const encrypted = (req.socket as Partial<TLSSocket>).encrypted === true;
  if (clientIp !== undefined) {
    headers['x-forwarded-for'] = clientIp;
    headers['x-real-ip'] = clientIp;
  }
  headers['x-forwarded-proto'] = encrypted ? 'https' : 'http';
  if (req.headers.host !== undefined) headers['x-forwarded-host'] = req.headers.host;
  if (req.socket.localPort !== undefined) headers['x-forwarded-port'] = String(req.socket.localPort);
  return headers;
}

/** What goes back to the client: the upstream's headers minus hop-by-hop ones. */
export function responseHeaders(incoming: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = connectionTokens(incoming);
  const headers: OutgoingHttpHeaders = {};
  for (const [key, value] of Object.entries(incoming)) {
    if (value !== undefined && !HOP_BY_HOP.has(key) && !named.has(key)) headers[key] = value;
  }
  return headers;
}
