import type { ServerResponse } from 'node:http';
import type { Logger } from '../logger.js';
import { ChildProcessSession, type ChildExit, type ChildHandlers, type OversizedChildMessage, type StdioLaunch } from './child-process-session.js';
import type { EventLogLimits } from './event-log.js';
import { GetStream, type StreamRefusal } from './get-stream.js';
import type { InitializedChild } from './initialized-child.js';
import {
  isJsonObject,
  negotiatedVersionOf,
  progressTokenOfNotification,
  progressTokenOfRequest,
  type Envelope,
  type JsonObject,
  type RequestId,
} from './json-rpc.js';
import { replyMessage } from './message-reply.js';
import { tooLargeErrorLine } from './oversized-message.js';
import type { Acceptable } from './media-types.js';
import { PendingPost, type PostOutcome } from './pending-post.js';
import { DEFAULT_PROTOCOL_VERSION } from './protocol-versions.js';
import type { ResponseWatch } from '../access/tool-gate.js';

export interface BridgeSessionOptions {
  id: string;
  owner: string;
  /** The owner's login, shown to operators (the owner is the immutable subject). */
  login: string;
  /** Bound to `{ server }`; the session adds `{ session }`. */
  logger: Logger;
  requestTimeoutMs: number;
  /** How long the child may take to answer `initialize` before the session is given up. */
  initializeTimeoutMs: number;
  /** Bytes the child may leave unread on stdin before new messages are refused. */
  stdinQueueBytes: number;
  /** A longer stdout line from the child ends the request it answers with a JSON-RPC error. */
  maxMessageBytes: number;
  eventLog: EventLogLimits;
  /** Called once when the session stops accepting requests (DELETE, child exit, idle, shutdown). */
  onEnded(session: BridgeSession): void;
}

/** A message from the client's POST body, with the line to write to the child for it. */
export interface ClientMessage {
  envelope: Envelope;
  line: string;
}

export interface RequestOptions {
  batch: boolean;
  accept: Acceptable;
  headers?: Readonly<Record<string, string>>;
  /** Requests the gateway answers itself (a denied tool, a rate limit): their error lines; they never reach the child. */
  refused?: ReadonlyMap<RequestId, string> | undefined;
  /** Requests whose answers the tool gate follows (list filtering, the tool-call audit). */
  watches?: ReadonlyMap<RequestId, ResponseWatch> | undefined;
}

/** Notifications about the session as a whole, not about any one request. */
function isSessionWide(method: string): boolean {
  return method.endsWith('/list_changed') || method === 'notifications/resources/updated';
}

/**
 * One MCP session: one client (one token subject), one child process. Routes the child's stdout
 * to the right HTTP response. stdio carries no link between a notification and the request it
 * is about, so: progress goes to the POST that asked for it (by progressToken); other messages
 * go to the only pending POST if there is exactly one, else to the GET stream, else to the
 * newest POST that can stream; list_changed and resources/updated skip the first step, being
 * about no request. What goes to the GET stream passes through the session's event log, which
 * holds it for a GET stream that is not open yet and for a client resuming with Last-Event-ID.
 */
export class BridgeSession {
  readonly id: string;
  readonly owner: string;
  readonly login: string;
  readonly startedAt = Date.now();
  /** `Date.now()` when the session was last used; the bridge's idle sweep reads it. */
  lastActive = Date.now();
  readonly #options: BridgeSessionOptions;
  readonly #log: Logger;
  readonly #byRequestId = new Map<RequestId, PendingPost>();
  readonly #byProgressToken = new Map<RequestId, PendingPost>();
  readonly #posts = new Set<PendingPost>();
  readonly #watches = new Map<RequestId, ResponseWatch>();
  #child!: ChildProcessSession;
  #negotiatedVersion: string | undefined;
  #initializeId: RequestId | undefined;
  readonly #getStream: GetStream;
  /** A warm-pool child was sent notifications/initialized already; the client's is dropped. */
  #swallowInitialized = false;
  #ended = false;
  #terminating = false;

  /** A session with a child of its own, started now. */
  static async start(options: BridgeSessionOptions, launch: StdioLaunch): Promise<BridgeSession> {
    const session = new BridgeSession(options);
    session.#child = await ChildProcessSession.start({ launch, maxMessageBytes: options.maxMessageBytes, ...session.#handlers() });
    session.#log.info({ pid: session.#child.pid, user: options.owner }, 'MCP server started');
    return session;
  }

  /** A session with an initialized child from the warm pool. */
  static adopt(options: BridgeSessionOptions, warm: InitializedChild): BridgeSession {
    const session = new BridgeSession(options);
    session.#child = warm.child;
    session.#negotiatedVersion = warm.negotiatedVersion;
    session.#swallowInitialized = true;
    warm.child.rebind(session.#handlers());
    session.#log.info({ pid: warm.child.pid, user: options.owner, warm: true }, 'MCP server taken from the warm pool');
    for (const { envelope, line } of warm.early) session.#fromChild(envelope, line);
    return session;
  }

  private constructor(options: BridgeSessionOptions) {
    this.id = options.id;
    this.owner = options.owner;
    this.login = options.login;
    this.#options = options;
    this.#log = options.logger.child({ session: options.id });
    this.#getStream = new GetStream(options.eventLog, this.#log);
  }

  #handlers(): ChildHandlers {
    return {
      logger: this.#log,
      onMessage: (envelope: Envelope, line: string) => this.#fromChild(envelope, line),
      onClose: (exit: ChildExit) => this.#childClosed(exit),
      onOversized: (message: OversizedChildMessage) => this.#oversizedFromChild(message),
    };
  }

  get alive(): boolean {
    return !this.#ended;
  }

  /** Whether the child has answered initialize with a result. */
  get initialized(): boolean {
    return this.#negotiatedVersion !== undefined;
  }

  /** The version the child agreed to in its initialize result, else 2025-03-26. */
  get negotiatedVersion(): string {
    return this.#negotiatedVersion ?? DEFAULT_PROTOCOL_VERSION;
  }

  /** A request is pending or the GET stream is open: not idle, whatever the clock says. */
  get busy(): boolean {
    return this.#posts.size > 0 || this.#getStream.open;
  }

  isInFlight(id: RequestId): boolean {
    return this.#byRequestId.has(id);
  }

  /**
   * Whether the child can take `bytes` more on stdin. One message always fits an empty queue;
   * beyond that the queue is bounded, so a child that stopped reading costs bounded memory.
   */
  canWrite(bytes: number): boolean {
    const queued = this.#child.queuedBytes;
    return queued === 0 || queued + bytes <= this.#options.stdinQueueBytes;
  }

  /** Writes the client's messages to the child, in order. */
  forward(messages: readonly ClientMessage[]): void {
    this.lastActive = Date.now();
    for (const { envelope, line } of messages) {
      if (envelope.kind === 'notification') {
        if (this.#swallowInitialized && envelope.method === 'notifications/initialized') {
          this.#swallowInitialized = false;
          continue;
        }
        if (envelope.method === 'notifications/cancelled') this.#clientCancelled(envelope.value);
      }
      this.#child.send(line);
    }
  }

  /** Answers the client's initialize from the warm child's cached result (see WarmPool). */
  answerInitialize(res: ServerResponse, id: RequestId, resultJson: string, accept: Acceptable): void {
    const line = `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${resultJson}}`;
    replyMessage(res, 200, line, accept, { headers: { 'Mcp-Session-Id': this.id } });
  }

  /** A body with at least one request: the returned POST answers `res` when the child has. */
  request(res: ServerResponse, messages: readonly ClientMessage[], options: RequestOptions): PendingPost {
    const requestIds: RequestId[] = [];
    const progressTokens: RequestId[] = [];
    let initialize = false;
    for (const { envelope } of messages) {
      if (envelope.kind !== 'request') continue;
      requestIds.push(envelope.id);
      const token = progressTokenOfRequest(envelope.value);
      if (token !== undefined) progressTokens.push(token);
      if (envelope.method === 'initialize') {
        this.#initializeId = envelope.id;
        initialize = true;
      }
    }
    const post = new PendingPost({
      res,
      requestIds,
      progressTokens,
      batch: options.batch,
      accept: options.accept,
      headers: options.headers ?? {},
      timeoutMs: initialize ? this.#options.initializeTimeoutMs : this.#options.requestTimeoutMs,
      ...(initialize ? { timeoutStatus: 504 } : {}),
      onTimeout: (ids) => this.#cancelInChild(ids),
      onSettled: (settled, outcome) => this.#postSettled(settled, outcome),
    });
    this.#posts.add(post);
    const { refused, watches } = options;
    for (const id of requestIds) if (refused?.has(id) !== true) this.#byRequestId.set(id, post);
    for (const token of progressTokens) this.#byProgressToken.set(token, post);
    if (watches !== undefined) for (const [id, watch] of watches) this.#watches.set(id, watch);
    if (refused === undefined) this.forward(messages);
    else {
      this.forward(messages.filter(({ envelope }) => envelope.kind !== 'request' || !refused.has(envelope.id)));
      for (const [id, line] of refused) post.answer(id, line);
    }
    if (this.#ended) queueMicrotask(() => post.childGone('MCP session ended')); // nothing will answer
    return post;
  }

  /** The GET stream for server-initiated messages (see GetStream). */
  openStream(res: ServerResponse, lastEventId: string | undefined): Promise<void> | StreamRefusal {
    return this.#getStream.attach(res, lastEventId, this.negotiatedVersion >= '2025-11-25', () => {
      this.lastActive = Date.now();
    });
  }

  /** Ends the session now (it is 404 from here on) and resolves once the child is reaped. */
  async terminate(): Promise<void> {
    this.#terminating = true;
    this.#end();
    await this.#child.terminate();
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#options.onEnded(this);
  }

  #fromChild(envelope: Envelope, line: string): void {
    if (envelope.kind === 'response') {
      const watch = envelope.id === null ? undefined : this.#watches.get(envelope.id);
      if (watch !== undefined) {
        this.#watches.delete(envelope.id!);
        line = watch.answered(envelope.value, line);
      }
      const post = envelope.id === null ? undefined : this.#byRequestId.get(envelope.id);
      if (post === undefined || envelope.id === null) {
        this.#log.debug({ id: envelope.id }, 'dropping response with no pending request (client gone or timed out)');
        return;
      }
      if (envelope.id === this.#initializeId) {
        this.#initializeId = undefined;
        // A result without protocolVersion is a sloppy server, not a failed initialize.
        if ('result' in envelope.value) this.#negotiatedVersion = negotiatedVersionOf(envelope.value) ?? DEFAULT_PROTOCOL_VERSION;
      }
      this.#byRequestId.delete(envelope.id);
      post.answer(envelope.id, line);
      return;
    }
    if (envelope.kind === 'notification' && envelope.method === 'notifications/progress') {
      const token = progressTokenOfNotification(envelope.value);
      const post = token === undefined ? undefined : this.#byProgressToken.get(token);
      // Never onto another request's stream: the client would not know the token.
      if (!post?.relay(line)) this.#getStream.deliver(line);
      return;
    }
    if (!isSessionWide(envelope.method) && this.#posts.size === 1) {
      const [only] = this.#posts;
      if (only?.relay(line)) return;
    }
    if (!this.#getStream.open) {
      const newestFirst = [...this.#posts].reverse();
      if (newestFirst.some((post) => post.relay(line))) return;
    }
    this.#getStream.deliver(line);
  }

  /**
   * A stdout line over maxMessageBytes, skipped unread (ChildProcessSession). Only its ends were
   * seen, so its id is what they show (describeByEnds). A response ends its request with a
   * JSON-RPC error now rather than at the request timeout. With no id to go by, the only request
   * in flight is taken to be the one answered, since nothing else can be; with several in flight
   * none is failed, because failing the wrong one would be worse than letting the right one time
   * out. A request from the child gets an error back so the child does not wait for an answer;
   * a notification is only logged (by the child session).
   */
  #oversizedFromChild({ id, hasMethod, limit }: OversizedChildMessage): void {
    if (hasMethod) {
      if (id !== undefined) this.#child.send(tooLargeErrorLine(id, 'the request', limit));
      return;
    }
    const [only] = this.#byRequestId.keys();
    const answered = id ?? (this.#byRequestId.size === 1 ? only : undefined);
    if (answered === undefined) {
      this.#log.warn({ inFlight: this.#byRequestId.size }, 'cannot tell which request the oversized message answered; leaving it to the request timeout');
      return;
    }
    // As if the child had answered with the error: initialize bookkeeping and routing stay in one place.
    const line = tooLargeErrorLine(answered, "the server's response", limit);
    this.#fromChild({ kind: 'response', id: answered, value: JSON.parse(line) as JsonObject }, line);
  }

  /** The client gave up on a request: the child will not answer it, so stop waiting. */
  #clientCancelled(value: JsonObject): void {
    const params = value['params'];
    const id = isJsonObject(params) ? params['requestId'] : undefined;
    if (typeof id !== 'string' && typeof id !== 'number') return;
    const post = this.#byRequestId.get(id);
    if (post === undefined) return;
    this.#byRequestId.delete(id);
    this.#unwatch(id, 'cancelled by the client');
    post.cancel(id);
  }

  /** Requests the child did not answer in time: tell it to stop (MCP cancellation). */
  #cancelInChild(ids: readonly RequestId[]): void {
    for (const requestId of ids) {
      this.#byRequestId.delete(requestId);
      this.#unwatch(requestId, 'the server did not answer in time');
      const reason = 'The gateway stopped waiting for a response';
      this.#child.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId, reason } }));
    }
  }

  #postSettled(post: PendingPost, outcome: PostOutcome): void {
    this.#posts.delete(post);
    this.lastActive = Date.now();
    for (const id of post.requestIds) {
      if (this.#byRequestId.get(id) === post) this.#byRequestId.delete(id);
      // The client left before the answer: its late answer will be dropped, so stop following it.
      this.#unwatch(id, 'the client left before the answer');
    }
    for (const token of post.progressTokens) if (this.#byProgressToken.get(token) === post) this.#byProgressToken.delete(token);
    // A session whose initialize failed or whose client left before the answer has no client
    // that knows its id: nothing would ever DELETE it, so end it here.
    if (this.#initializeId !== undefined && post.requestIds.includes(this.#initializeId)) this.#initializeId = undefined;
    if (!this.initialized && !this.#ended) {
      this.#log.info({ outcome }, 'initialize did not succeed; ending session');
      void this.terminate();
    }
  }

  #childClosed(exit: ChildExit): void {
    const expected = this.#terminating;
    this.#end();
    const message = expected ? 'MCP session terminated' : `MCP server process exited (${exit.signal === null ? `code ${exit.code}` : `signal ${exit.signal}`})`;
    this.#log[expected ? 'info' : 'warn']({ exitCode: exit.code, signal: exit.signal }, 'MCP server exited');
    for (const id of [...this.#watches.keys()]) this.#unwatch(id, message);
    for (const post of [...this.#posts]) post.childGone(message);
    this.#getStream.end();
  }

  #unwatch(id: RequestId, reason: string): void {
    const watch = this.#watches.get(id);
    if (watch === undefined) return;
    this.#watches.delete(id);
    watch.failed(reason);
  }
}
