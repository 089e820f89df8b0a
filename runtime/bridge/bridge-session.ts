import type { ServerResponse } from 'node:http';
import type { Logger } from '../logger.js';
import { ChildProcessSession, type ChildExit, type StdioLaunch } from './child-process-session.js';
import {
  isJsonObject,
  negotiatedVersionOf,
  progressTokenOfNotification,
  progressTokenOfRequest,
  type Envelope,
  type JsonObject,
  type RequestId,
} from './json-rpc.js';
import type { Acceptable } from './media-types.js';
import { PendingPost, type PostOutcome } from './pending-post.js';
import { DEFAULT_PROTOCOL_VERSION } from './protocol-versions.js';
import { SseStream } from './sse-stream.js';

export interface BridgeSessionOptions {
  id: string;
  owner: string;
  launch: StdioLaunch;
  /** Bound to `{ server }`; the session adds `{ session }`. */
  logger: Logger;
  requestTimeoutMs: number;
  /** Called once when the session stops accepting requests (DELETE, child exit, shutdown). */
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
}

const GET_STREAM_KEEPALIVE_MS = 30_000;

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
 * about no request. With none of those open they are dropped (a later issue adds an event store
 * for replay).
 */
export class BridgeSession {
  readonly id: string;
  readonly owner: string;
  readonly #options: BridgeSessionOptions;
  readonly #log: Logger;
  readonly #byRequestId = new Map<RequestId, PendingPost>();
  readonly #byProgressToken = new Map<RequestId, PendingPost>();
  readonly #posts = new Set<PendingPost>();
  #child!: ChildProcessSession;
  #negotiatedVersion: string | undefined;
  #initializeId: RequestId | undefined;
  #getStream: SseStream | undefined;
  #ended = false;
  #terminating = false;

  static async start(options: BridgeSessionOptions): Promise<BridgeSession> {
    const session = new BridgeSession(options);
    session.#child = await ChildProcessSession.start({
      launch: options.launch,
      logger: session.#log,
      onMessage: (envelope, line) => session.#fromChild(envelope, line),
      onClose: (exit) => session.#childClosed(exit),
    });
    session.#log.info({ pid: session.#child.pid, user: options.owner }, 'MCP server started');
    return session;
  }

  private constructor(options: BridgeSessionOptions) {
    this.id = options.id;
    this.owner = options.owner;
    this.#options = options;
    this.#log = options.logger.child({ session: options.id });
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

  isInFlight(id: RequestId): boolean {
    return this.#byRequestId.has(id);
  }

  /** Writes the client's messages to the child, in order. */
  forward(messages: readonly ClientMessage[]): void {
    for (const { envelope, line } of messages) {
      this.#child.send(line);
      if (envelope.kind === 'notification' && envelope.method === 'notifications/cancelled') this.#clientCancelled(envelope.value);
    }
  }

  /** A body with at least one request: the returned POST answers `res` when the child has. */
  request(res: ServerResponse, messages: readonly ClientMessage[], options: RequestOptions): PendingPost {
    const requestIds: RequestId[] = [];
    const progressTokens: RequestId[] = [];
    for (const { envelope } of messages) {
      if (envelope.kind !== 'request') continue;
      requestIds.push(envelope.id);
      const token = progressTokenOfRequest(envelope.value);
      if (token !== undefined) progressTokens.push(token);
      if (envelope.method === 'initialize') this.#initializeId = envelope.id;
    }
    const post = new PendingPost({
      res,
      requestIds,
      progressTokens,
      batch: options.batch,
      accept: options.accept,
      headers: options.headers ?? {},
      timeoutMs: this.#options.requestTimeoutMs,
      onTimeout: (ids) => this.#cancelInChild(ids),
      onSettled: (settled, outcome) => this.#postSettled(settled, outcome),
    });
    this.#posts.add(post);
    for (const id of requestIds) this.#byRequestId.set(id, post);
    for (const token of progressTokens) this.#byProgressToken.set(token, post);
    this.forward(messages);
    if (this.#ended) queueMicrotask(() => post.childGone('MCP session ended')); // nothing will answer
    return post;
  }

  /** The GET stream for server-initiated messages; undefined when one is already open. */
  openStream(res: ServerResponse): Promise<void> | undefined {
    if (this.#getStream !== undefined && !this.#getStream.closed) return undefined;
    if (res.destroyed) return Promise.resolve(); // the client is already gone
    const stream = new SseStream(res, 200);
    this.#getStream = stream;
    const keepAlive = setInterval(() => stream.comment('keepalive'), GET_STREAM_KEEPALIVE_MS);
    keepAlive.unref();
    return new Promise((resolve) => {
      res.once('close', () => {
        clearInterval(keepAlive);
        if (this.#getStream === stream) this.#getStream = undefined;
        resolve();
      });
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
      if (!post?.relay(line)) this.#toGetStream(line, envelope.method);
      return;
    }
    if (!isSessionWide(envelope.method) && this.#posts.size === 1) {
      const [only] = this.#posts;
      if (only?.relay(line)) return;
    }
    if (this.#getStream !== undefined && !this.#getStream.closed) {
      this.#getStream.send(line);
      return;
    }
    const newestFirst = [...this.#posts].reverse();
    if (newestFirst.some((post) => post.relay(line))) return;
    this.#log.debug({ method: envelope.method }, 'dropping server message: no open stream to carry it');
  }

  #toGetStream(line: string, method: string): void {
    if (this.#getStream !== undefined && !this.#getStream.closed) this.#getStream.send(line);
    else this.#log.debug({ method }, 'dropping server message: no open stream to carry it');
  }

  /** The client gave up on a request: the child will not answer it, so stop waiting. */
  #clientCancelled(value: JsonObject): void {
    const params = value['params'];
    const id = isJsonObject(params) ? params['requestId'] : undefined;
    if (typeof id !== 'string' && typeof id !== 'number') return;
    const post = this.#byRequestId.get(id);
    if (post === undefined) return;
    this.#byRequestId.delete(id);
    post.cancel(id);
  }

  /** Requests the child did not answer in time: tell it to stop (MCP cancellation). */
  #cancelInChild(ids: readonly RequestId[]): void {
    for (const requestId of ids) {
      this.#byRequestId.delete(requestId);
      const reason = 'The gateway stopped waiting for a response';
      this.#child.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId, reason } }));
    }
  }

  #postSettled(post: PendingPost, outcome: PostOutcome): void {
    this.#posts.delete(post);
    for (const id of post.requestIds) if (this.#byRequestId.get(id) === post) this.#byRequestId.delete(id);
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
    const message = expected
      ? 'MCP session terminated'
      : `MCP server process exited (${exit.signal === null ? `code ${exit.code}` : `signal ${exit.signal}`})`;
    this.#log[expected ? 'info' : 'warn']({ exitCode: exit.code, signal: exit.signal }, 'MCP server exited');
    for (const post of [...this.#posts]) post.childGone(message);
    this.#getStream?.end();
    this.#getStream = undefined;
  }
}
