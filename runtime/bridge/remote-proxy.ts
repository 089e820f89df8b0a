import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import { JsonDepthGauge, MAX_JSON_DEPTH } from '../http/json-depth.js';
import { relayLifecycle } from '../http/relay-lifecycle.js';
import {
  Agent as HttpAgent,
  request as httpRequest,
  type ClientRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Logger } from '../logger.js';
import { cachedHealth, type ServerHealth } from './cached-health.js';
import { DEFAULT_TEMPLATE } from './initialized-child.js';
import { SESSION_NOT_FOUND, TRANSPORT_ERROR, jsonRpcErrorLine, type RequestId } from './json-rpc.js';
import { replyEmpty, replyJson, replyJsonRpcError } from './json-replies.js';
import { createOriginPolicy } from './origin-policy.js';
import { DEFAULT_MAX_MESSAGE_BYTES, MessageEnds, describeByEnds, tooLargeMessage } from './oversized-message.js';
import { relayUpstreamResponse } from './upstream-response.js';
import { looksModern, singleModernMessage } from './modern/modern-request.js';
import { refuseLegacyUpstream } from './modern/legacy-upstream.js';
import { createModernEndpoint } from './modern/modern-endpoint.js';
import { remoteLegacyBackend } from './modern/remote-legacy-peer.js';
import { probeUpstreamEra, type UpstreamEra } from './modern/upstream-era.js';
import { acceptedOrRefused } from './request-headers.js';
import { readPostBody } from './post-body.js';
import { BRIDGE_DEFAULTS } from './bridge-options.js';
import type { Bridge } from './bridge.js';
import type { ToolGate } from '../access/tool-gate.js';
import { subjectOf } from '../access/access-subject.js';
import { timingOf } from '../metrics/request-timing.js';
import { traceOf } from '../tracing/request-trace.js';
import { screenRequests, wholePostRefusal } from './gate-screening.js';
import { replyMessage } from './message-reply.js';
import { runModernRequest } from './modern-screened.js';
import { acceptable } from './media-types.js';
import { WatchedAnswers } from './watched-answers.js';
import { replyRaw } from './json-replies.js';
import { supportsUrlElicitation, urlElicitationRequiredLine } from './upstream-reconnect.js';
import { IDENTITY_HEADERS, UPSTREAM_REJECTED_HEADER } from '../http/edge-contract.js';

/** The request header the verifier puts a user's upstream token in (servers.NAME.oauth), as Node keys it. */
const UPSTREAM_AUTHORIZATION = IDENTITY_HEADERS.upstreamAuthorization.toLowerCase();
/** The header with the user's connect page (servers.NAME.oauth), which the verifier always sets for such a server. */
const UPSTREAM_CONNECT = IDENTITY_HEADERS.upstreamConnect.toLowerCase();

export interface RemoteProxyOptions {
  serverName: string;
  /** The upstream Streamable HTTP endpoint. */
  url: URL | string;
  /** Static headers for every upstream request (values from `.secrets/`). */
  headers?: Readonly<Record<string, string>> | undefined;
  logger: Logger;
  allowedOrigins?: readonly string[] | undefined;
  /**
   * The largest message either way: a larger POST body gets 413 (checked as it streams), a larger
   * JSON answer or SSE event from the remote server is replaced by a JSON-RPC error. Default 16 MiB.
   */
  maxMessageBytes?: number | undefined;
  /** A session binding unused this long is forgotten (and the upstream session deleted). Default 30 min. */
  idleTimeoutMs?: number | undefined;
  healthTtlMs?: number | undefined;
  /**
   * Per-tool access, rate limits and the tool-call audit (runtime/access/). With it, a POST's
   * body is read (bounded, as the stdio bridge reads it) and screened before it goes upstream,
   * and answers to watched requests are rewritten; without it bodies stream through unread.
   */
  gate?: ToolGate | undefined;
  /**
   * `servers.NAME.oauth`: each user's own upstream token, which the gateway's verifier puts in
   * the request (`X-Upstream-Authorization`, runtime/http/edge-contract.ts) after checking the
   * client's token, is sent as Authorization. When the upstream refuses it, the client gets our
   * own challenge (`challenge`, a WWW-Authenticate value naming the gateway's metadata), so it
   * authorizes again through the gateway, whose flow includes the upstream trip; `onRejected`
   * (serve) tells the vault at once, so the next request refreshes or asks again. A session whose
   * client supports URL-mode elicitation gets -32042 with the user's connect page instead
   * (`X-Upstream-Connect`, upstream-reconnect.ts), also when the verifier found no grant at all.
   */
  upstreamOAuth?: { challenge: string; onRejected?: (user: string, authorization: string) => void } | undefined;
}

/** Users whose upstream token the 2026-07-28 translation keeps (servers.NAME.oauth); more than the sessions it may hold. */
const LATEST_AUTHORIZATIONS = 10_000;

/** A POST body already read and screened: sent upstream whole. */
interface ScreenedBody {
  text: string;
  watched: WatchedAnswers | undefined;
  /** An initialize whose client supports URL-mode elicitation (servers.NAME.oauth only). */
  urlElicitation?: boolean;
}

/** What the client may tell the upstream server; everything else (credentials, cookies, X-User-*, hop-by-hop) stays here. */
const FORWARDED_REQUEST_HEADERS = [
  'content-type',
  'content-length',
  'accept',
  'mcp-session-id',
  'mcp-protocol-version',
  'last-event-id',
  'mcp-method',
  'mcp-name',
  'user-agent',
];
/** Never passed back: hop-by-hop (RFC 9110 §7.6.1), cookies for a domain that is not ours, and headers the router sets. */
const DROPPED_RESPONSE_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'set-cookie',
  'www-authenticate',
]);

interface Binding {
  owner: string;
  login: string;
  startedAt: number;
  lastSeen: number;
  /** Its client said it supports URL-mode elicitation: re-authorization is a link, not a 401. */
  urlElicitation: boolean;
}

/**
 * A remote Streamable HTTP MCP server behind the gateway's auth. Bodies stream both ways as
 * they come, nothing is parsed, and nothing is held but what maxMessageBytes needs: an SSE event
 * until it is whole, a JSON answer without a Content-Length until it ends (upstream-response.ts). The client's token never leaves
 * (the router strips Authorization and cookies; only the allowlisted headers above are sent),
 * and the upstream gets the static headers from the secrets instead.
 *
 * The upstream sees every user as the same client (the static credentials), so session ids are
 * bound here to the user whose initialize created them: another user presenting one, or an id
 * this gateway did not see created, gets 404 and re-initializes, as with the stdio bridge.
 */
export function createRemoteProxy(options: RemoteProxyOptions): Bridge {
  const { serverName, logger, allowedOrigins = [], maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES, idleTimeoutMs = 30 * 60_000, gate } = options;
  if (!(maxMessageBytes > 0)) throw new TypeError(`remote server "${serverName}": maxMessageBytes must be positive`);
  const payloadTooLarge = `Payload Too Large: ${tooLargeMessage('the body', maxMessageBytes)}`;
  // Lowercased, so a configured name replaces a forwarded one instead of being sent twice.
  const staticHeaders = Object.fromEntries(Object.entries(options.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]));
  const upstream = new URL(options.url);
  if (upstream.protocol !== 'http:' && upstream.protocol !== 'https:') throw new TypeError(`remote server "${serverName}": url must be http(s)`);
  const log = logger.child({ server: serverName, upstream: upstream.origin });
  const originAllowed = createOriginPolicy(allowedOrigins);
  const secure = upstream.protocol === 'https:';
  const agent = secure ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  const send = secure ? httpsRequest : httpRequest;
  const bindings = new Map<string, Binding>();
  const inFlight = new Set<ClientRequest>();
  let closing = false;
  // 2026-07-28 clients: passed through to a server that speaks it, translated onto sessions of
  // the gateway's own (one per user) for a 2025 one. Which it is, the first such request asks.
  let era: Promise<UpstreamEra> | undefined;
  // servers.NAME.oauth: each user's upstream token as the verifier last handed it over, for the
  // sessions the translation keeps with a 2025-only server on that user's behalf.
  const latestAuthorization = new Map<string, string>();
  const upstreamOAuth = options.upstreamOAuth;
  const modern = createModernEndpoint({
    serverName,
    backend: remoteLegacyBackend({
      url: upstream,
      headers: staticHeaders,
      maxMessageBytes,
      ...(upstreamOAuth === undefined
        ? {}
        : {
            oauth: {
              authorizationOf: (user: string) => latestAuthorization.get(user),
              challenge: upstreamOAuth.challenge,
              onRejected: (user: string, sent: string | undefined) => {
                if (sent !== undefined) upstreamOAuth.onRejected?.(user, sent);
              },
            },
          }),
    }),
    logger: log,
    initializeTimeoutMs: BRIDGE_DEFAULTS.initializeTimeoutMs,
    requestTimeoutMs: BRIDGE_DEFAULTS.requestTimeoutMs,
    maxPerUser: BRIDGE_DEFAULTS.maxSessionsPerUser,
    maxTotal: BRIDGE_DEFAULTS.maxSessions,
    idleTimeoutMs,
  });

  const sweeper = setInterval(
    () => {
      const now = Date.now();
      for (const [id, binding] of bindings) {
        if (now - binding.lastSeen < idleTimeoutMs) continue;
        bindings.delete(id);
        deleteUpstream(id);
      }
    },
    Math.max(50, Math.min(idleTimeoutMs / 2, 30_000)),
  );
  sweeper.unref();

  function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const user = req.headers['x-user-sub'];
    if (typeof user !== 'string' || user === '') {
      replyJson(res, 401, { error: 'unauthorized', error_description: 'No authenticated user: requests must come through the gateway router.' });
      return Promise.resolve();
    }
    const origin = req.headers.origin;
    if (!originAllowed(typeof origin === 'string' ? origin : undefined)) {
      replyJsonRpcError(res, 403, TRANSPORT_ERROR, 'Forbidden: Origin not allowed');
      return Promise.resolve();
    }
    if (closing) {
      replyJson(res, 503, { error: `MCP server "${serverName}" is shutting down` });
      return Promise.resolve();
    }
    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId === 'string') {
      const binding = bindings.get(sessionId);
      if (binding === undefined || binding.owner !== user) {
        replyJsonRpcError(res, 404, SESSION_NOT_FOUND, 'Session not found');
        return Promise.resolve();
      }
      binding.lastSeen = Date.now();
    }
    if (Number(req.headers['content-length']) > maxMessageBytes) {
      replyJsonRpcError(res, 413, TRANSPORT_ERROR, payloadTooLarge, { data: { maxMessageBytes } });
      return Promise.resolve();
    }
    if (options.upstreamOAuth !== undefined) {
      const connect = req.headers[UPSTREAM_CONNECT];
      if (typeof connect !== 'string') {
        // Only the gateway's verifier sets it: a request without it did not come through the router.
        replyJson(res, 401, {
          error: 'unauthorized',
          error_description: `No upstream authorization for ${serverName}: requests must come through the gateway router.`,
        });
        return Promise.resolve();
      }
      // The verifier holds no usable grant of this user's (a session's request; one starting a session got the challenge there).
      if (typeof req.headers[UPSTREAM_AUTHORIZATION] !== 'string') return askToReconnect(req, res, options.upstreamOAuth.challenge, connect, sessionId);
    }
    if (looksModern(req, undefined) && req.method === 'POST') {
      if (options.upstreamOAuth !== undefined && era === undefined) era = probeEra(perUserHeaders(req.headers));
      return handleModern(req, res, user);
    }
    const session = typeof sessionId === 'string' ? sessionId : undefined;
    // With oauth, an initialize is read too: whether its client takes URL-mode elicitation.
    if (req.method === 'POST' && (gate !== undefined || (options.upstreamOAuth !== undefined && session === undefined)))
      return forwardScreened(req, res, user, session, gate);
    return new Promise((resolve) => forward(req, res, user, session, resolve));
  }

  /**
   * A request of a session whose user has no usable grant at the upstream: -32042 with the
   * connect page for a client that supports URL-mode elicitation (each request in the POST),
   * the gateway's challenge for any other (its flow includes the upstream trip).
   */
  async function askToReconnect(
    req: IncomingMessage,
    res: ServerResponse,
    challenge: string,
    connect: string,
    sessionId: string | string[] | undefined,
  ): Promise<void> {
    const binding = typeof sessionId === 'string' ? bindings.get(sessionId) : undefined;
    if (req.method === 'DELETE' && binding !== undefined) {
      // The client ends its session: nothing to authorize for that. The upstream's side of it
      // (which would refuse the request without the user's token) ends with its idle timeout.
      bindings.delete(sessionId as string);
      req.resume();
      replyEmpty(res, 200);
      return;
    }
    if (binding?.urlElicitation === true && req.method === 'POST') {
      const post = await readPostBody(req, res, maxMessageBytes);
      if (post === undefined) return;
      const ids = post.messages.flatMap(({ envelope }) => (envelope.kind === 'request' ? [envelope.id] : []));
      if (ids.length > 0) {
        log.info({ event: 'upstream_reconnect_asked', user: subjectOf(req).login }, 'no usable upstream grant: the client is given the connect page');
        const lines = ids.map((id) => urlElicitationRequiredLine(id, serverName, connect));
        if (post.batch) replyRaw(res, 200, `[${lines.join(',')}]`);
        else replyMessage(res, 200, lines[0]!, acceptable(req.headers.accept));
        return;
      }
    } else req.resume();
    replyJsonRpcError(res, 401, TRANSPORT_ERROR, `Unauthorized: authorize ${serverName} again (the gateway holds no valid authorization of yours there)`, {
      headers: { 'WWW-Authenticate': challenge },
    });
  }

  /** A POST read and put to the tool gate first (when there is one): refused requests are answered here and never sent. */
  async function forwardScreened(
    req: IncomingMessage,
    res: ServerResponse,
    user: string,
    sessionId: string | undefined,
    toolGate: ToolGate | undefined,
  ): Promise<void> {
    const post = await readPostBody(req, res, maxMessageBytes);
    if (post === undefined) return;
    const urlElicitation = options.upstreamOAuth !== undefined && sessionId === undefined && supportsUrlElicitation(post.messages);
    if (toolGate === undefined) {
      const text = post.batch ? `[${post.messages.map(({ line }) => line).join(',')}]` : post.messages[0]!.line;
      await new Promise<void>((resolve) => forward(req, res, user, sessionId, resolve, { text, watched: undefined, urlElicitation }));
      return;
    }
    const screening = await screenRequests(toolGate, subjectOf(req), post.messages, timingOf(req), traceOf(req));
    const requests = post.messages.filter(({ envelope }) => envelope.kind === 'request').length;
    const whole = wholePostRefusal(screening, requests, post.batch);
    if (whole !== undefined) {
      replyMessage(res, whole.refusal.status, whole.line, acceptable(req.headers.accept), { headers: whole.refusal.headers });
      return;
    }
    if (screening.refused !== undefined) {
      // A batch (2025-03-26) with a refused request: none of it is sent, so nothing runs half.
      for (const watch of screening.watches?.values() ?? []) watch.failed('not sent: another request of its batch was refused');
      const lines = post.messages.flatMap(({ envelope }) => {
        if (envelope.kind !== 'request') return [];
        const refused = screening.refused?.get(envelope.id);
        return [refused?.line ?? jsonRpcErrorLine(envelope.id, ErrorCode.InvalidRequest, 'Not sent: another request of this batch was refused by the gateway')];
      });
      replyJsonRpcErrorBatch(res, lines);
      return;
    }
    const text = post.batch ? `[${post.messages.map(({ line }) => line).join(',')}]` : post.messages[0]!.line;
    const watched = screening.watches === undefined ? undefined : new WatchedAnswers(screening.watches);
    await new Promise<void>((resolve) => forward(req, res, user, sessionId, resolve, { text, watched, urlElicitation }));
    watched?.fail('the remote server did not answer');
  }

  function probeEra(headers: Readonly<Record<string, string>>): Promise<UpstreamEra> {
    return probeUpstreamEra(upstream, headers).then((found) => {
      log.info(
        { era: found },
        found === 'modern' ? 'the remote server speaks 2026-07-28: passed through' : 'the remote server speaks 2025: 2026-07-28 requests are translated',
      );
      // Not known (unreachable): asked again next time.
      if (found === 'unknown') era = undefined;
      return found;
    });
  }

  async function handleModern(req: IncomingMessage, res: ServerResponse, user: string): Promise<void> {
    era ??= probeEra(staticHeaders);
    if ((await era) !== 'legacy') {
      if (gate !== undefined) return forwardScreened(req, res, user, undefined, gate);
      return new Promise((resolve) => forward(req, res, user, undefined, resolve));
    }
    if (upstreamOAuth !== undefined) {
      // The user's session with the upstream sends this token from now on (a refreshed one replaces the last).
      const authorization = req.headers[UPSTREAM_AUTHORIZATION];
      if (typeof authorization === 'string') {
        // Newest last, at most one per user and LATEST_AUTHORIZATIONS users: the oldest goes first.
        latestAuthorization.delete(user);
        latestAuthorization.set(user, authorization);
        if (latestAuthorization.size > LATEST_AUTHORIZATIONS) latestAuthorization.delete(latestAuthorization.keys().next().value!);
      }
    }
    const accept = acceptedOrRefused(req, res);
    if (accept === undefined) return;
    const post = await readPostBody(req, res, maxMessageBytes);
    const envelope = post === undefined ? undefined : singleModernMessage(post, res);
    if (envelope === undefined) return;
    await runModernRequest(gate, modern, req, res, user, envelope, accept);
  }

  function forward(req: IncomingMessage, res: ServerResponse, user: string, sessionId: string | undefined, done: () => void, screened?: ScreenedBody): void {
    const headers = upstreamHeaders(req.headers);
    // With traces on, the upstream's parent is our span (the client's own traceparent is never forwarded: it is not on the allowlist).
    const trace = traceOf(req);
    if (trace !== undefined) Object.assign(headers, trace.upstreamHeaders());
    if (screened !== undefined) {
      // Sent whole: the client's framing (chunked, or its own length) no longer describes it.
      headers['content-length'] = Buffer.byteLength(screened.text);
      delete headers['transfer-encoding'];
    }
    // The id of the request sent (a single one): what an answer made here in its place is for.
    const sentRequestId = (): RequestId | undefined => (screened === undefined ? describeByEnds(sentEnds.finish()).id : singleRequestId(screened.text));
    const outgoing = send(upstream, { method: req.method, headers, agent });
    let refused = false;
    relayLifecycle(res, outgoing, {
      inFlight,
      done,
      onUnreachable(err) {
        if (refused) return; // we cut the upstream request ourselves and answer the client below
        log.warn({ err: err.message }, 'remote MCP server unreachable');
        replyJsonRpcError(res, 502, TRANSPORT_ERROR, `Bad Gateway: the remote MCP server did not answer (${err.message})`);
      },
    });
    outgoing.on('response', (answer) => {
      const status = answer.statusCode ?? 502;
      if (status === 401 && options.upstreamOAuth !== undefined) {
        // The user's own upstream token was refused (revoked, expired early): never the
        // upstream's challenge (it would send the client to the upstream's authorization server),
        // ours, whose flow includes the upstream trip.
        answer.resume();
        const sent = req.headers[UPSTREAM_AUTHORIZATION];
        if (typeof sent === 'string') options.upstreamOAuth.onRejected?.(user, sent);
        log.info({ status, user: subjectOf(req).login }, "remote MCP server refused the user's upstream token");
        const connect = req.headers[UPSTREAM_CONNECT];
        const id = sessionId !== undefined && bindings.get(sessionId)?.urlElicitation === true && req.method === 'POST' ? sentRequestId() : undefined;
        if (id !== undefined && typeof connect === 'string') {
          // Marked as the 401 is: the router reports the refused token, so the vault refreshes once or forgets the grant.
          replyMessage(res, 200, urlElicitationRequiredLine(id, serverName, connect), acceptable(req.headers.accept), {
            headers: { [UPSTREAM_REJECTED_HEADER]: '1' },
          });
          return;
        }
        replyJsonRpcError(
          res,
          401,
          TRANSPORT_ERROR,
          `Unauthorized: ${serverName} refused your authorization there; authorize this connection again (your MCP client starts that on this 401)`,
          {
            headers: { 'WWW-Authenticate': options.upstreamOAuth.challenge, [UPSTREAM_REJECTED_HEADER]: '1' },
          },
        );
        return;
      }
      if (status === 401 || status === 403) {
        // The upstream refused *our* static credentials; its challenge would send the client
        // off to log in at the upstream's authorization server, which cannot help.
        answer.resume();
        log.warn({ status }, 'remote MCP server refused the gateway credentials');
        replyJsonRpcError(res, 502, TRANSPORT_ERROR, `Bad Gateway: the remote MCP server refused the gateway's credentials (HTTP ${status})`);
        return;
      }
      if ((status === 400 || status === 404 || status === 405) && looksModern(req, undefined)) {
        // A 2026-07-28 request the upstream refused: its own modern error passes on as is; a
        // 2025-only server's (no session, bad request) is replaced by one that says what is going on.
        refuseLegacyUpstream(answer, res, serverName, status, () => {
          era = undefined;
        });
        return;
      }
      track(req.method, sessionId, status, answer.headers['mcp-session-id'], user, subjectOf(req).login, screened?.urlElicitation === true);
      relayUpstreamResponse({
        answer,
        res,
        status,
        headers: responseHeaders(answer.headers),
        maxMessageBytes,
        method: req.method,
        requestId: sentRequestId,
        log,
        watched: screened?.watched,
      });
    });
    if (screened !== undefined) {
      outgoing.end(screened.text);
      return;
    }
    // Stream the body up as it arrives, counting: a chunked body has no Content-Length to check.
    // Nothing is parsed here, but the nesting is gauged on the way, so the upstream server never
    // gets a body deep enough to crash a recursive parser (json-depth.ts).
    // Its ends are kept too: they name the request an oversized answer is replaced for.
    let sent = 0;
    const depth = new JsonDepthGauge();
    const sentEnds = new MessageEnds();
    req.on('data', (chunk: Buffer) => {
      sent += chunk.length;
      sentEnds.push(chunk);
      if (sent > maxMessageBytes) {
        req.unpipe(outgoing);
        outgoing.destroy();
        if (!res.headersSent) replyJsonRpcError(res, 413, TRANSPORT_ERROR, payloadTooLarge, { data: { maxMessageBytes } });
        req.destroy();
      } else if (!refused && depth.push(chunk)) {
        refused = true;
        req.unpipe(outgoing);
        outgoing.destroy();
        // The rest (at most maxMessageBytes, counted above) is read and dropped, so the client
        // finishes its upload and reads the 400 instead of a reset connection.
        req.resume();
        req.once('end', () => replyJsonRpcError(res, 400, ErrorCode.ParseError, `Parse error: JSON nested deeper than ${MAX_JSON_DEPTH} levels`));
      }
    });
    req.pipe(outgoing);
  }

  /** Binds a session the upstream just created to its user; forgets ended ones. */
  function track(
    method: string | undefined,
    sent: string | undefined,
    status: number,
    returned: string | string[] | undefined,
    user: string,
    login: string,
    urlElicitation: boolean,
  ): void {
    if (sent === undefined) {
      if (typeof returned === 'string' && status < 300 && !bindings.has(returned))
        bindings.set(returned, { owner: user, login, startedAt: Date.now(), lastSeen: Date.now(), urlElicitation });
      return;
    }
    if (status === 404 || (method === 'DELETE' && status < 300)) bindings.delete(sent);
  }

  /** The static headers, and with oauth the user's own upstream token as Authorization. */
  function perUserHeaders(incoming: IncomingHttpHeaders): Record<string, string> {
    const authorization = incoming[UPSTREAM_AUTHORIZATION];
    return options.upstreamOAuth !== undefined && typeof authorization === 'string' ? { ...staticHeaders, authorization } : staticHeaders;
  }

  function upstreamHeaders(incoming: IncomingHttpHeaders): OutgoingHttpHeaders {
    const headers: OutgoingHttpHeaders = {};
    for (const name of FORWARDED_REQUEST_HEADERS) {
      const value = incoming[name];
      if (value !== undefined) headers[name] = value;
    }
    // 2026-07-28's custom headers (a tool's `x-mcp-header` params): intermediaries MUST forward them.
    for (const [name, value] of Object.entries(incoming)) {
      if (name.startsWith('mcp-param-') && value !== undefined) headers[name] = value;
    }
    return Object.assign(headers, perUserHeaders(incoming));
  }

  function deleteUpstream(id: string): void {
    const outgoing = send(upstream, { method: 'DELETE', headers: { ...staticHeaders, 'mcp-session-id': id }, agent, timeout: 5_000 });
    outgoing.on('response', (answer) => answer.resume());
    outgoing.on('timeout', () => outgoing.destroy());
    outgoing.on('error', () => {});
    outgoing.end();
  }

  const health = cachedHealth(() => probeUpstream(upstream, staticHeaders, options.upstreamOAuth !== undefined), { okTtlMs: options.healthTtlMs ?? 60_000 });

  return {
    handle,
    health: () => (closing ? Promise.resolve({ ok: false, detail: 'shutting down' }) : health()),
    async close() {
      closing = true;
      clearInterval(sweeper);
      for (const outgoing of inFlight) outgoing.destroy();
      await modern.close();
      agent.destroy();
    },
    get sessionCount() {
      return bindings.size;
    },
    sessions: () => [...bindings].map(([id, b]) => ({ id, sub: b.owner, login: b.login, startedAt: b.startedAt, lastActive: b.lastSeen })),
    async endSession(id) {
      if (!bindings.delete(id)) return false;
      log.info({ session: id }, 'MCP session ended by an admin');
      deleteUpstream(id);
      return true;
    },
    childCount: 0,
  };
}

function responseHeaders(incoming: IncomingHttpHeaders): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(incoming)) {
    // CORS is the router's business (it set its own headers already); `mcp-gateway-*` are the
    // gateway's own signals to its router (a refused upstream token, a draining replica), never the upstream's to give.
    if (value !== undefined && !DROPPED_RESPONSE_HEADERS.has(name) && !name.startsWith('access-control-') && !name.startsWith('mcp-gateway-'))
      headers[name] = value;
  }
  return headers;
}

/**
 * Healthy when the upstream answers initialize; the probe's session is deleted right after. A
 * server with per-user OAuth has no token for the probe: its Bearer challenge is the healthy answer.
 */
async function probeUpstream(upstream: URL, staticHeaders: Readonly<Record<string, string>>, perUserOAuth: boolean): Promise<ServerHealth> {
  const headers = { ...staticHeaders, 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  const body = JSON.stringify({ jsonrpc: '2.0', id: 'mcp-gateway-health', method: 'initialize', params: DEFAULT_TEMPLATE });
  const res = await fetch(upstream, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
  const text = (await res.text()).slice(0, 1024 * 1024);
  const session = res.headers.get('mcp-session-id');
  if (session !== null) {
    void fetch(upstream, { method: 'DELETE', headers: { ...staticHeaders, 'mcp-session-id': session }, signal: AbortSignal.timeout(5_000) }).catch(() => {});
  }
  if (perUserOAuth && res.status === 401 && /^\s*bearer\b/i.test(res.headers.get('www-authenticate') ?? '')) {
    return { ok: true, detail: 'answers, and asks each user for their own OAuth authorization' };
  }
  if (!res.ok) return { ok: false, detail: `the remote server answered initialize with HTTP ${res.status}` };
  const json = text.trimStart().startsWith('{') ? text : (/^data: ?(.*)$/m.exec(text)?.[1] ?? '');
  try {
    const message = JSON.parse(json) as { result?: { serverInfo?: { name?: string } }; error?: { message?: string } };
    if (message.result !== undefined) return { ok: true, detail: `answered initialize (${message.result.serverInfo?.name ?? 'unnamed server'})` };
    return { ok: false, detail: `initialize failed: ${message.error?.message ?? 'no result'}` };
  } catch {
    return { ok: false, detail: 'the remote server did not answer initialize with JSON-RPC' };
  }
}

/** A batch the gateway answers itself (every request refused or held back), as a JSON array on 200. */
function replyJsonRpcErrorBatch(res: ServerResponse, lines: readonly string[]): void {
  replyRaw(res, 200, `[${lines.join(',')}]`);
}

/** The id of a body that is one request (for the error replacing an oversized answer). */
function singleRequestId(text: string): RequestId | undefined {
  if (text.startsWith('[')) return undefined;
  const id = (JSON.parse(text) as { id?: unknown }).id;
  return typeof id === 'string' || typeof id === 'number' ? id : undefined;
}
