import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import { isGatewayError } from '../errors.js';
import { BRIDGE_DEFAULTS, resolveBridgeSettings, type BridgeOptions } from './bridge-options.js';
import { BridgeSession, type BridgeSessionOptions, type ClientMessage } from './bridge-session.js';
import type { Bridge } from './bridge.js';
import { cachedHealth, type ServerHealth } from './cached-health.js';
import type { StdioLaunch } from './child-process-session.js';
import { buildChildEnv } from './child-env.js';
import { DEFAULT_EVENT_LOG_LIMITS } from './event-log.js';
import { DEFAULT_TEMPLATE, startInitializedChild } from './initialized-child.js';
import { SESSION_NOT_FOUND, TRANSPORT_ERROR, type RequestId } from './json-rpc.js';
import { replyEmpty, replyJson, replyJsonRpcError } from './json-replies.js';
import { acceptable, type Acceptable } from './media-types.js';
import { createModernEndpoint } from './modern/modern-endpoint.js';
import { looksModern, singleModernMessage } from './modern/modern-request.js';
import { stdioBackend } from './modern/stdio-backend.js';
import { createOriginPolicy } from './origin-policy.js';
import { allowsBatch } from './protocol-versions.js';
import { readPostBody } from './post-body.js';
import { acceptedOrRefused, refusedVersion, singleHeader } from './request-headers.js';
import { SessionRegistry } from './session-registry.js';
import { WarmPool } from './warm-pool.js';
import { screenRequests, wholePostRefusal } from './gate-screening.js';
import { replyMessage } from './message-reply.js';
import { runModernRequest } from './modern-screened.js';
import { subjectOf } from '../access/access-subject.js';
import type { ResponseWatch } from '../access/tool-gate.js';
import { timingOf } from '../metrics/request-timing.js';
import { traceOf } from '../tracing/request-trace.js';

export type { StdioLaunch } from './child-process-session.js';
export type { ServerHealth } from './cached-health.js';
export { BRIDGE_DEFAULTS, type BridgeOptions };

const ALLOW = 'GET, POST, DELETE';
const CLOSE_BOUND_MS = 10_000;
const LIMIT_RETRY_AFTER_S = '30';
const BUSY_RETRY_AFTER_S = '1';

/**
 * Streamable HTTP in front of a stdio MCP server, one child process per session.
 *
 * Hand-written rather than the SDK's StreamableHTTPServerTransport: that transport is built to
 * sit in front of one in-process `Server`, converts every Node request into a Web
 * Request/Response pair, and validates every message with zod. A relay to a child process needs
 * none of it; per request this does a JSON.parse and a shape check, writes one line to stdin and
 * relays the child's stdout lines as they are.
 */
export function createStdioBridge(options: BridgeOptions): Bridge {
  const { serverName, launch, logger, allowedOrigins = [], eventLog = DEFAULT_EVENT_LOG_LIMITS, pool: poolSize = 0, gate } = options;
  const settings = resolveBridgeSettings(options);
  const { maxMessageBytes, requestTimeoutMs, initializeTimeoutMs, idleTimeoutMs } = settings;
  if (launch.command.trim() === '') throw new TypeError(`bridge "${serverName}": launch.command is empty`);
  if (!Number.isInteger(poolSize) || poolSize < 0) throw new TypeError(`bridge "${serverName}": pool must be a whole number`);

  const log = logger.child({ server: serverName });
  const originAllowed = createOriginPolicy(allowedOrigins);
  // Built once: spawning a session then does no env work.
  const childLaunch: StdioLaunch = { ...launch, env: buildChildEnv(process.env, launch.env) };
  const sessions = new SessionRegistry<BridgeSession>(settings);
  const pool = poolSize > 0 ? new WarmPool({ size: poolSize, launch: childLaunch, logger: log, initializeTimeoutMs, maxMessageBytes }) : undefined;
  const sessionOptions = (owner: string, login: string): BridgeSessionOptions => ({
    id: randomUUID(),
    owner,
    login,
    logger: log,
    requestTimeoutMs,
    initializeTimeoutMs,
    stdinQueueBytes: settings.stdinQueueBytes,
    maxMessageBytes,
    eventLog,
    onEnded: (ended) => sessions.remove(ended),
  });
  // 2026-07-28 clients: stateless requests on per-user initialized children (modern/).
  const modern = createModernEndpoint({
    serverName,
    backend: stdioBackend({ launch: childLaunch, maxMessageBytes, requestTimeoutMs }),
    logger: log,
    initializeTimeoutMs,
    requestTimeoutMs,
    maxPerUser: settings.maxSessionsPerUser,
    maxTotal: settings.maxSessions,
    idleTimeoutMs,
  });
  let closing = false;

  const sweeper = setInterval(
    () => {
      const now = Date.now();
      for (const session of sessions.all()) {
        if (session.busy || now - session.lastActive < idleTimeoutMs) continue;
        log.info({ session: session.id }, 'MCP session idle; ending it');
        void session.terminate();
      }
    },
    Math.max(50, Math.min(idleTimeoutMs / 2, 30_000)),
  );
  sweeper.unref();

  const probe = cachedHealth(
    async () => {
      const outcome = await startInitializedChild({
        launch: childLaunch,
        logger: log.child({ probe: true }),
        template: DEFAULT_TEMPLATE,
        timeoutMs: settings.healthProbeTimeoutMs,
        maxMessageBytes,
      });
      if (!outcome.ok) return { ok: false, detail: outcome.detail };
      await outcome.value.child.terminate();
      return { ok: true, detail: `answered initialize (${outcome.value.serverName})` };
    },
    { okTtlMs: settings.healthTtlMs },
  );

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const user = singleHeader(req, 'x-user-sub');
      if (user === undefined || user === '') {
        // Defence in depth: the router authenticates and sets this; reaching us without it
        // means something bypassed the router.
        replyJson(res, 401, { error: 'unauthorized', error_description: 'No authenticated user: requests must come through the gateway router.' });
        return;
      }
      if (!originAllowed(singleHeader(req, 'origin'))) {
        replyJsonRpcError(res, 403, TRANSPORT_ERROR, 'Forbidden: Origin not allowed');
        return;
      }
      if (req.method !== 'POST' && looksModern(req, undefined)) {
        // 2026-07-28 has no GET stream (subscriptions/listen replaces it) and no session to DELETE.
        replyJsonRpcError(res, 405, TRANSPORT_ERROR, `Method Not Allowed: 2026-07-28 requests are POSTs only (${req.method} is for 2025 sessions)`, {
          headers: { Allow: ALLOW },
        });
        return;
      }
      switch (req.method) {
        case 'POST':
          return await handlePost(req, res, user);
        case 'GET':
          return await handleGet(req, res, user);
        case 'DELETE':
          return await handleDelete(req, res, user);
        default:
          replyJsonRpcError(res, 405, TRANSPORT_ERROR, 'Method not allowed.', { headers: { Allow: ALLOW } });
      }
    } catch (err) {
      log.error({ err }, 'bridge failed to handle a request');
      if (!res.headersSent) replyJsonRpcError(res, 500, ErrorCode.InternalError, 'Internal error in the MCP gateway');
      else res.destroy();
    }
  }

  /**
   * Session lookup shared by every method, after the MCP-Protocol-Version check. The header is
   * checked first so that a client of a revision we do not speak (2026-07-28 sends no session id)
   * learns which versions we do, rather than "missing session".
   */
  function sessionFor(req: IncomingMessage, res: ServerResponse, user: string): BridgeSession | undefined {
    const id = singleHeader(req, 'mcp-session-id');
    const session = id === undefined ? undefined : sessions.find(id, user);
    if (refusedVersion(req, res, session?.negotiatedVersion)) return undefined;
    if (id === undefined) {
      replyJsonRpcError(res, 400, TRANSPORT_ERROR, 'Bad Request: Mcp-Session-Id header is required');
      return undefined;
    }
    // Unknown, ended, or another user's: all the same 404, which tells a client to re-initialize.
    if (session === undefined) replyJsonRpcError(res, 404, SESSION_NOT_FOUND, 'Session not found');
    return session;
  }

  async function handlePost(req: IncomingMessage, res: ServerResponse, user: string): Promise<void> {
    const accept = acceptedOrRefused(req, res);
    if (accept === undefined) return;
    const post = await readPostBody(req, res, maxMessageBytes);
    if (post === undefined) return;
    const { messages, batch } = post;
    if (looksModern(req, batch ? undefined : messages[0]?.envelope)) {
      const envelope = singleModernMessage(post, res);
      if (envelope === undefined) return;
      if (closing) {
        replyJson(res, 503, { error: `MCP server "${serverName}" is shutting down` });
        return;
      }
      await runModernRequest(gate, modern, req, res, user, envelope, accept);
      return;
    }

    if (messages.some(({ envelope }) => envelope.kind === 'request' && envelope.method === 'initialize')) {
      await initialize(req, res, user, messages, batch, accept);
      return;
    }
    const session = sessionFor(req, res, user);
    if (session === undefined) return;
    if (batch && !allowsBatch(session.negotiatedVersion)) {
      replyJsonRpcError(
        res,
        400,
        ErrorCode.InvalidRequest,
        `Invalid Request: JSON-RPC batches are not supported in protocol version ${session.negotiatedVersion}`,
      );
      return;
    }
    if (!session.canWrite(post.bytes)) {
      log.warn({ session: session.id }, 'MCP server is not reading its input; refusing messages');
      replyJsonRpcError(res, 503, TRANSPORT_ERROR, 'Service Unavailable: the MCP server is not reading its input', {
        headers: { 'Retry-After': BUSY_RETRY_AFTER_S },
      });
      return;
    }
    const seen = new Set<string | number>();
    for (const { envelope } of messages) {
      if (envelope.kind !== 'request') continue;
      if (seen.has(envelope.id) || session.isInFlight(envelope.id)) {
        replyJsonRpcError(res, 409, ErrorCode.InvalidRequest, `Conflict: request id ${JSON.stringify(envelope.id)} is already in flight in this session`);
        return;
      }
      seen.add(envelope.id);
    }
    if (seen.size === 0) {
      session.forward(messages);
      replyEmpty(res, 202);
      return;
    }
    if (gate === undefined) {
      await session.request(res, messages, { batch, accept }).done;
      return;
    }
    const screening = await screenRequests(gate, subjectOf(req), messages, timingOf(req), traceOf(req));
    const whole = wholePostRefusal(screening, seen.size, batch);
    if (whole !== undefined) {
      // Nothing else in the body is a request: its notifications still go to the child.
      session.forward(messages.filter(({ envelope }) => envelope.kind !== 'request'));
      replyMessage(res, whole.refusal.status, whole.line, accept, { headers: whole.refusal.headers });
      return;
    }
    const refused = screening.refused === undefined ? undefined : new Map([...screening.refused].map(([id, { line }]) => [id, line]));
    await session.request(res, messages, { batch, accept, refused, watches: screening.watches }).done;
  }

  async function initialize(
    req: IncomingMessage,
    res: ServerResponse,
    user: string,
    messages: ClientMessage[],
    batch: boolean,
    accept: Acceptable,
  ): Promise<void> {
    if (batch) {
      replyJsonRpcError(res, 400, ErrorCode.InvalidRequest, 'Invalid Request: initialize must not be part of a JSON-RPC batch');
      return;
    }
    if (singleHeader(req, 'mcp-session-id') !== undefined) {
      replyJsonRpcError(res, 400, ErrorCode.InvalidRequest, 'Invalid Request: initialize starts a new session and must be sent without Mcp-Session-Id');
      return;
    }
    if (refusedVersion(req, res, undefined)) return;
    if (closing) {
      replyJson(res, 503, { error: `MCP server "${serverName}" is shutting down` });
      return;
    }
    const [first] = messages;
    if (first?.envelope.kind !== 'request') throw new TypeError('initialize without a request');
    // A watch here is only ever the trace's (the gate watches no initialize): its mcp.call span.
    let watches: ReadonlyMap<RequestId, ResponseWatch> | undefined;
    if (gate !== undefined) {
      // initialize counts against the user's rate limit like every request, before a child is started for it.
      const screening = await screenRequests(gate, subjectOf(req), messages, timingOf(req), traceOf(req));
      const whole = wholePostRefusal(screening, 1, false);
      if (whole !== undefined) {
        replyMessage(res, whole.refusal.status, whole.line, accept, { headers: whole.refusal.headers });
        return;
      }
      watches = screening.watches;
    }
    const limit = sessions.reserve(user);
    if (limit !== undefined) {
      log.warn({ user, limit }, 'session limit reached');
      const message =
        limit === 'user'
          ? 'you have too many open sessions with this server; end one (DELETE) or retry later'
          : 'this server has too many open sessions; retry later';
      replyJsonRpcError(res, 503, TRANSPORT_ERROR, `Service Unavailable: ${message}`, {
        id: first.envelope.id,
        headers: { 'Retry-After': LIMIT_RETRY_AFTER_S },
      });
      return;
    }
    const warm = pool?.take(first.envelope.value['params']);
    if (warm !== undefined) {
      const session = BridgeSession.adopt(sessionOptions(user, subjectOf(req).login), warm);
      sessions.add(session);
      session.answerInitialize(res, first.envelope.id, warm.resultJson, accept);
      return;
    }
    let session: BridgeSession;
    try {
      session = await BridgeSession.start(sessionOptions(user, subjectOf(req).login), childLaunch);
    } catch (err) {
      sessions.release(user);
      if (!isGatewayError(err)) throw err;
      log.warn({ err, command: launch.command }, 'could not start MCP server');
      replyJson(res, 502, { error: err.message, hint: err.hint });
      return;
    }
    sessions.add(session);
    if (closing) {
      // close() ran while the child was starting; it did not see this session.
      await session.terminate();
      replyJson(res, 503, { error: `MCP server "${serverName}" is shutting down` });
      return;
    }
    await session.request(res, messages, { batch: false, accept, headers: { 'Mcp-Session-Id': session.id }, watches }).done;
  }

  async function handleGet(req: IncomingMessage, res: ServerResponse, user: string): Promise<void> {
    if (!acceptable(req.headers.accept).sse) {
      replyJsonRpcError(res, 405, TRANSPORT_ERROR, 'Method Not Allowed: GET opens an SSE stream; send Accept: text/event-stream', {
        headers: { Allow: ALLOW },
      });
      return;
    }
    const session = sessionFor(req, res, user);
    if (session === undefined) return;
    const stream = session.openStream(res, singleHeader(req, 'last-event-id'));
    if (stream === 'conflict') {
      replyJsonRpcError(res, 409, TRANSPORT_ERROR, 'Conflict: Only one SSE stream is allowed per session');
    } else if (stream === 'unknown-event-id') {
      // Not an id this session's GET stream issued: a client bug, or a stream of another server.
      replyJsonRpcError(res, 400, TRANSPORT_ERROR, 'Bad Request: Last-Event-ID does not name an event of this session');
    } else {
      await stream;
    }
  }

  async function handleDelete(req: IncomingMessage, res: ServerResponse, user: string): Promise<void> {
    const session = sessionFor(req, res, user);
    if (session === undefined) return;
    await session.terminate();
    replyEmpty(res, 200);
  }

  async function close(): Promise<void> {
    closing = true;
    clearInterval(sweeper);
    const all = sessions.all();
    let timer: NodeJS.Timeout | undefined;
    const bounded = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), CLOSE_BOUND_MS);
    });
    const stopping = Promise.allSettled([...all.map((session) => session.terminate()), pool?.close(), modern.close()]);
    const outcome = await Promise.race([stopping, bounded]);
    clearTimeout(timer);
    if (outcome === 'timeout') log.warn({ sessions: all.length }, 'some MCP server processes did not exit in time');
  }

  function health(): Promise<ServerHealth> {
    if (closing) return Promise.resolve({ ok: false, detail: 'shutting down' });
    const ready = pool?.readyCount ?? 0;
    if (ready > 0) return Promise.resolve({ ok: true, detail: `${ready} warm server process(es) ready` });
    return probe();
  }

  return {
    handle,
    close,
    health,
    get sessionCount() {
      return sessions.size;
    },
    sessions: () =>
      sessions
        .all()
        .map((session) => ({ id: session.id, sub: session.owner, login: session.login, startedAt: session.startedAt, lastActive: session.lastActive })),
    async endSession(id) {
      const session = sessions.get(id);
      if (session === undefined) return false;
      log.info({ session: id, owner: session.owner }, 'MCP session ended by an admin');
      await session.terminate();
      return true;
    },
    get childCount() {
      return sessions.size + (pool?.readyCount ?? 0) + modern.childCount;
    },
  };
}
