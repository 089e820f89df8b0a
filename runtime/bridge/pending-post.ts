import type { ServerResponse } from 'node:http';
import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import { jsonRpcErrorLine, type RequestId } from './json-rpc.js';
import { replyEmpty, replyRaw } from './json-replies.js';
import type { Acceptable } from './media-types.js';
import { SseStream } from './sse-stream.js';

/** `answered`: every request got a response on this POST; `abandoned`: the client left first. */
export type PostOutcome = 'answered' | 'abandoned';

export interface PendingPostOptions {
  res: ServerResponse;
  /** The POST's requests, in body order (a batch is answered in that order). */
  requestIds: readonly RequestId[];
  progressTokens: readonly RequestId[];
  batch: boolean;
  accept: Acceptable;
  headers: Readonly<Record<string, string>>;
  timeoutMs: number;
  /**
   * With this set, a timeout before anything was sent fails the whole POST with this HTTP status
   * (initialize: 504, and the session is ended) instead of answering each request with a
   * JSON-RPC timeout error on a 200.
   */
  timeoutStatus?: number;
  /** The child did not answer in time: the session tells it to stop working on these. */
  onTimeout(ids: readonly RequestId[]): void;
  onSettled(post: PendingPost, outcome: PostOutcome): void;
}

/**
 * The HTTP side of one POST that carries requests. It answers with plain JSON when it can (the
 * cheapest and most proxy-friendly form) and switches to an SSE stream only when the child
 * sends something other than the answer first: progress, logging, or a server-to-client request
 * such as sampling, which the client must see before the answer can come.
 */
export class PendingPost {
  readonly requestIds: readonly RequestId[];
  readonly progressTokens: readonly RequestId[];
  /** Resolves when this POST's response is complete or its client has gone away. */
  readonly done: Promise<void>;
  readonly #options: PendingPostOptions;
  readonly #outstanding: Set<RequestId>;
  readonly #answers = new Map<RequestId, string>();
  readonly #timer: NodeJS.Timeout;
  #sse: SseStream | undefined;
  #settled = false;
  #resolveDone!: () => void;

  constructor(options: PendingPostOptions) {
    this.#options = options;
    this.requestIds = options.requestIds;
    this.progressTokens = options.progressTokens;
    this.#outstanding = new Set(options.requestIds);
    this.done = new Promise((resolve) => (this.#resolveDone = resolve));
    this.#timer = setTimeout(() => this.#timeOut(), options.timeoutMs);
    // Per the transport spec a disconnect is not a cancellation: the child finishes the work and
    // its late answer is dropped by the session. We only stop tracking this POST.
    options.res.once('close', () => this.#settle('abandoned'));
    // The client may have left while we were spawning the child: 'close' has fired already.
    // Settle after the caller has registered this POST, so its cleanup finds the entries.
    if (options.res.destroyed) queueMicrotask(() => this.#settle('abandoned'));
  }

  get settled(): boolean {
    return this.#settled;
  }

  /** The child's response to one of this POST's requests. */
  answer(id: RequestId, line: string): void {
    if (this.#settled || !this.#outstanding.delete(id)) return;
    if (this.#sse === undefined && !this.#options.accept.json) this.#openSse();
    if (this.#sse !== undefined) this.#sse.send(line);
    else this.#answers.set(id, line);
    if (this.#outstanding.size === 0) this.#finish();
  }

  /**
   * The client cancelled one of this POST's requests; the server will not answer it (MCP
   * cancellation). Without this the POST would hang until the request timeout, and the SDK
   * client keeps waiting on it. Nothing sent yet and nothing else to send: 202, which the
   * SDK client takes quietly.
   */
  cancel(id: RequestId): void {
    if (this.#settled || !this.#outstanding.delete(id) || this.#outstanding.size > 0) return;
    if (this.#sse === undefined && this.#answers.size === 0) {
      replyEmpty(this.#options.res, 202, this.#options.headers);
      this.#settle('answered');
      return;
    }
    this.#finish();
  }

  /**
   * A message from the child that belongs with this POST. Returns false when the client only
   * takes JSON, so the caller can deliver it another way.
   */
  relay(line: string): boolean {
    if (this.#settled || !this.#options.accept.sse) return false;
    if (this.#sse === undefined) this.#openSse();
    this.#sse?.send(line);
    return true;
  }

  /**
   * The child is gone. Before anything was sent the POST fails as a whole with 502; once an
   * SSE stream is open, every unanswered request gets a JSON-RPC error on it instead.
   */
  childGone(message: string): void {
    if (this.#settled) return;
    if (this.#sse === undefined) {
      this.#fail(502, ErrorCode.ConnectionClosed, message);
      return;
    }
    for (const id of [...this.#outstanding]) this.answer(id, jsonRpcErrorLine(id, ErrorCode.ConnectionClosed, message));
  }

  #timeOut(): void {
    const message = `MCP server did not answer within ${this.#options.timeoutMs} ms`;
    const { timeoutStatus } = this.#options;
    if (timeoutStatus !== undefined && this.#sse === undefined && this.#answers.size === 0) {
      this.#fail(timeoutStatus, ErrorCode.RequestTimeout, message);
      return;
    }
    const ids = [...this.#outstanding];
    this.#options.onTimeout(ids);
    for (const id of ids) this.answer(id, jsonRpcErrorLine(id, ErrorCode.RequestTimeout, message));
  }

  /** The POST as a whole failed before anything was sent; no session header on a failure. */
  #fail(status: number, code: number, message: string): void {
    const only = this.#options.batch ? undefined : this.requestIds[0];
    replyRaw(this.#options.res, status, jsonRpcErrorLine(only ?? null, code, message));
    this.#settle('answered');
  }

  #openSse(): void {
    this.#sse = new SseStream(this.#options.res, 200, this.#options.headers);
    for (const id of this.requestIds) {
      const line = this.#answers.get(id);
      if (line !== undefined) this.#sse.send(line);
    }
    this.#answers.clear();
  }

  #finish(): void {
    if (this.#sse !== undefined) {
      this.#sse.end();
    } else if (this.#options.batch) {
      const ordered = this.requestIds.map((id) => this.#answers.get(id)).filter((line) => line !== undefined);
      replyRaw(this.#options.res, 200, `[${ordered.join(',')}]`, this.#options.headers);
    } else {
      const [line] = this.#answers.values();
      replyRaw(this.#options.res, 200, line ?? 'null', this.#options.headers);
    }
    this.#settle('answered');
  }

  #settle(outcome: PostOutcome): void {
    if (this.#settled) return;
    this.#settled = true;
    clearTimeout(this.#timer);
    this.#answers.clear();
    this.#options.onSettled(this, outcome);
    this.#resolveDone();
  }
}
