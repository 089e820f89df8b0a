import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import { UPSTREAM_REJECTED_HEADER } from '../../http/edge-contract.js';
import type { Logger } from '../../logger.js';
import type { ChildHandlers } from '../child-process-session.js';
import type { InitializeTemplate } from '../initialized-child.js';
import { isJsonObject, toEnvelope, type Envelope, type JsonObject } from '../json-rpc.js';
import { SseEventSplitter } from '../sse-event-splitter.js';
import type { InitializedPeer, LegacyPeer } from './modern-child.js';
import type { LegacyBackend } from './user-children.js';

const ACCEPT = 'application/json, text/event-stream';
const INIT_ID = 'mcp-gateway-init';

/**
 * One 2025 Streamable HTTP session with a remote server, opened by the gateway for a user's
 * 2026-07-28 clients: what a stdio child is to ModernChild, over HTTP. Each message is a POST in
 * the session; whatever the server answers on it (the response, its requests, notifications;
 * JSON or SSE) and on the session's GET stream comes out as the child's stdout would. The
 * server sees the gateway's static credentials, never the client's token.
 */
export class RemoteLegacyPeer implements LegacyPeer {
  /** Not a process: logs show 0. */
  readonly pid = 0;
  readonly #url: URL;
  /** Asked at every request: a user's own upstream token (servers.NAME.oauth) changes as the vault refreshes it. */
  readonly #headers: () => Record<string, string>;
  readonly #maxMessageBytes: number;
  readonly #onUnauthorized: ((authorization: string | undefined) => void) | undefined;
  readonly #abort = new AbortController();
  #handlers: ChildHandlers;
  #session: string | undefined;
  #version = '2025-03-26';
  #closed = false;

  private constructor(
    url: URL,
    headers: () => Record<string, string>,
    maxMessageBytes: number,
    handlers: ChildHandlers,
    onUnauthorized: ((authorization: string | undefined) => void) | undefined,
  ) {
    this.#url = url;
    this.#headers = headers;
    this.#maxMessageBytes = maxMessageBytes;
    this.#handlers = handlers;
    this.#onUnauthorized = onUnauthorized;
  }

  /** Opens the session (initialize, notifications/initialized, the GET stream), or says why not. */
  static async open(options: {
    url: URL;
    headers: () => Record<string, string>;
    template: InitializeTemplate;
    logger: Logger;
    timeoutMs: number;
    maxMessageBytes: number;
    /** The server answered 401 to the Authorization sent (a user's own token refused), at initialize or later: the session is ended. */
    onUnauthorized?: ((authorization: string | undefined) => void) | undefined;
  }): Promise<{ ok: true; value: InitializedPeer } | { ok: false; detail: string; unauthorized?: true }> {
    const early: Array<{ envelope: Envelope }> = [];
    let initialized: JsonObject | undefined;
    const handlers: ChildHandlers = {
      logger: options.logger,
      onMessage: (envelope) => {
        if (envelope.kind === 'response' && envelope.id === INIT_ID) initialized = envelope.value;
        else early.push({ envelope });
      },
      onClose: () => {},
    };
    const peer = new RemoteLegacyPeer(options.url, options.headers, options.maxMessageBytes, handlers, options.onUnauthorized);
    const timer = setTimeout(() => peer.#abort.abort(), options.timeoutMs);
    try {
      const res = await peer.#post(JSON.stringify({ jsonrpc: '2.0', id: INIT_ID, method: 'initialize', params: options.template }));
      if (res === undefined) return { ok: false, detail: 'the remote server did not answer initialize' };
      if (res.status === 401 && options.onUnauthorized !== undefined) {
        await res.body?.cancel();
        options.onUnauthorized(options.headers()['authorization']);
        return { ok: false, detail: 'the remote server refused your authorization there', unauthorized: true };
      }
      if (!res.ok) return { ok: false, detail: `the remote server answered initialize with HTTP ${res.status}` };
      peer.#session = res.headers.get('mcp-session-id') ?? undefined;
      await peer.#read(res);
    } catch (err) {
      return { ok: false, detail: `the remote server did not answer initialize (${err instanceof Error ? err.message : String(err)})` };
    } finally {
      clearTimeout(timer);
    }
    const result = initialized?.['result'];
    if (!isJsonObject(result)) return { ok: false, detail: 'the remote server refused initialize' };
    if (typeof result['protocolVersion'] === 'string') peer.#version = result['protocolVersion'];
    peer.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
    void peer.#listen();
    return { ok: true, value: { child: peer, resultJson: JSON.stringify(result), early } };
  }

  rebind(handlers: ChildHandlers): void {
    this.#handlers = handlers;
  }

  send(line: string): void {
    if (this.#closed) return;
    void this.#post(line)
      .then(async (res) => {
        if (res === undefined) return;
        if (res.status === 404 && this.#session !== undefined) {
          // The server ended the session: as a child exiting.
          await res.body?.cancel();
          this.#close();
          return;
        }
        if (res.status === 401 && this.#onUnauthorized !== undefined) {
          // The user's own token refused: this session is done; the next request opens one with
          // the token the vault holds then, or gets the gateway's challenge.
          await res.body?.cancel();
          this.#onUnauthorized(this.#headers()['authorization']);
          this.#failed(line, 'the remote server refused your authorization there; retry (the gateway asks you to authorize again if it still refuses)');
          this.#close();
          return;
        }
        if (!res.ok) {
          await res.body?.cancel();
          this.#failed(line, `the remote server answered HTTP ${res.status}`);
          return;
        }
        await this.#read(res);
      })
      .catch((err: unknown) => {
        if (!this.#closed) this.#failed(line, `the remote server did not answer (${err instanceof Error ? err.message : String(err)})`);
      });
  }

  async terminate(): Promise<unknown> {
    if (this.#closed) return;
    const session = this.#session;
    this.#close();
    if (session !== undefined) {
      await fetch(this.#url, { method: 'DELETE', headers: { ...this.#headers(), 'mcp-session-id': session }, signal: AbortSignal.timeout(5_000) })
        .then((res) => res.body?.cancel())
        .catch(() => {});
    }
    return;
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort();
    this.#handlers.onClose({ code: 0, signal: null });
  }

  #post(line: string): Promise<Response | undefined> {
    if (this.#closed && !line.includes(INIT_ID)) return Promise.resolve(undefined);
    return fetch(this.#url, {
      method: 'POST',
      headers: this.#requestHeaders({ 'content-type': 'application/json', accept: ACCEPT }),
      body: line,
      signal: this.#abort.signal,
    });
  }

  /** The session's GET stream, for what the server sends outside any request (list changes). */
  async #listen(): Promise<void> {
    try {
      const res = await fetch(this.#url, { method: 'GET', headers: this.#requestHeaders({ accept: 'text/event-stream' }), signal: this.#abort.signal });
      if (res.ok && (res.headers.get('content-type') ?? '').startsWith('text/event-stream')) await this.#read(res);
      else await res.body?.cancel();
    } catch {
      // Closed, or the server offers no GET stream (405): requests still work.
    }
  }

  #requestHeaders(extra: Record<string, string>): Record<string, string> {
    return {
      ...extra,
      ...this.#headers(),
      'mcp-protocol-version': this.#version,
      ...(this.#session === undefined ? {} : { 'mcp-session-id': this.#session }),
    };
  }

  /** Every JSON-RPC message of a response (a JSON body, or each event of an SSE stream), in order. */
  async #read(res: Response): Promise<void> {
    if (res.status === 202 || res.body === null) {
      await res.body?.cancel();
      return;
    }
    if (!(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      const text = await res.text();
      if (text.length <= this.#maxMessageBytes) this.#deliver(text);
      return;
    }
    const splitter = new SseEventSplitter({
      maxEventBytes: this.#maxMessageBytes,
      onEvent: (event) => {
        const data = event
          .toString('utf8')
          .split(/\r\n|\r|\n/)
          .filter((field) => field.startsWith('data:'))
          .map((field) => field.slice(field.startsWith('data: ') ? 6 : 5))
          .join('\n');
        if (data !== '') this.#deliver(data);
      },
      onOversized: () => this.#handlers.logger.warn('remote MCP server sent an event over maxMessageBytes; skipped'),
    });
    for await (const chunk of res.body) splitter.push(Buffer.from(chunk as Uint8Array));
  }

  #deliver(text: string): void {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      this.#handlers.logger.warn('remote MCP server sent something that is not JSON; dropped');
      return;
    }
    for (const message of Array.isArray(value) ? value : [value]) {
      const envelope = toEnvelope(message);
      if (envelope !== undefined) this.#handlers.onMessage(envelope, JSON.stringify(message));
    }
  }

  /** A request the server will not answer: answered for it, so the call waiting on it ends. */
  #failed(line: string, detail: string): void {
    const envelope = toEnvelope(JSON.parse(line) as unknown);
    if (envelope?.kind !== 'request') return;
    const error = { jsonrpc: '2.0', id: envelope.id, error: { code: ErrorCode.InternalError, message: detail } };
    this.#handlers.onMessage({ kind: 'response', id: envelope.id, value: error }, JSON.stringify(error));
  }
}

export interface RemoteLegacyBackendOptions {
  url: URL;
  /** The static headers of every request (values from `.secrets/`). */
  headers: Record<string, string>;
  maxMessageBytes: number;
  /**
   * servers.NAME.oauth: the user's own upstream token now (`Bearer ...`, the latest the verifier
   * handed over), sent as Authorization on every request of that user's session; `challenge` is
   * the gateway's WWW-Authenticate for a user the server refuses at initialize, and `onRejected`
   * hears of every refusal (the proxy tells the vault).
   */
  oauth?: {
    authorizationOf: (user: string) => string | undefined;
    challenge: string;
    onRejected: (user: string, authorization: string | undefined) => void;
  };
}

/** 2026-07-28 clients of a remote server that speaks 2025: one session of the gateway's per user child. */
export function remoteLegacyBackend(options: RemoteLegacyBackendOptions): LegacyBackend {
  const { url, headers, maxMessageBytes, oauth } = options;
  return {
    async start(template, logger, timeoutMs, user) {
      const authorization = (): Record<string, string> => {
        const value = oauth?.authorizationOf(user);
        return value === undefined ? headers : { ...headers, authorization: value };
      };
      const onUnauthorized = oauth === undefined ? undefined : (sent: string | undefined) => oauth.onRejected(user, sent);
      const opened = await RemoteLegacyPeer.open({ url, headers: authorization, maxMessageBytes, template, logger, timeoutMs, onUnauthorized });
      if (opened.ok || opened.unauthorized !== true || oauth === undefined) return opened;
      // Marked like the proxy's own 401: the built-in router reports the refused token on /verify.
      return { ok: false, detail: opened.detail, refusal: { status: 401, headers: { 'WWW-Authenticate': oauth.challenge, [UPSTREAM_REJECTED_HEADER]: '1' } } };
    },
  };
}
