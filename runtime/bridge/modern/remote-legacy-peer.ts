import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
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
  readonly #headers: Record<string, string>;
  readonly #maxMessageBytes: number;
  readonly #abort = new AbortController();
  #handlers: ChildHandlers;
  #session: string | undefined;
  #version = '2025-03-26';
  #closed = false;

  private constructor(url: URL, headers: Record<string, string>, maxMessageBytes: number, handlers: ChildHandlers) {
    this.#url = url;
    this.#headers = headers;
    this.#maxMessageBytes = maxMessageBytes;
    this.#handlers = handlers;
  }

  /** Opens the session (initialize, notifications/initialized, the GET stream), or says why not. */
  static async open(options: {
    url: URL;
    headers: Record<string, string>;
    template: InitializeTemplate;
    logger: Logger;
    timeoutMs: number;
    maxMessageBytes: number;
  }): Promise<{ ok: true; value: InitializedPeer } | { ok: false; detail: string }> {
    const early: Array<{ envelope: Envelope }> = [];
    let initialized: JsonObject | undefined;
    const peer = new RemoteLegacyPeer(options.url, options.headers, options.maxMessageBytes, {
      logger: options.logger,
      onMessage: (envelope) => {
        if (envelope.kind === 'response' && envelope.id === INIT_ID) initialized = envelope.value;
        else early.push({ envelope });
      },
      onClose: () => {},
    });
    const timer = setTimeout(() => peer.#abort.abort(), options.timeoutMs);
    try {
      const res = await peer.#post(JSON.stringify({ jsonrpc: '2.0', id: INIT_ID, method: 'initialize', params: options.template }));
      if (res === undefined) return { ok: false, detail: 'the remote server did not answer initialize' };
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
      await fetch(this.#url, { method: 'DELETE', headers: { ...this.#headers, 'mcp-session-id': session }, signal: AbortSignal.timeout(5_000) })
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
      ...this.#headers,
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

/** 2026-07-28 clients of a remote server that speaks 2025: one session of the gateway's per user child. */
export function remoteLegacyBackend(options: { url: URL; headers: Record<string, string>; maxMessageBytes: number }): LegacyBackend {
  return {
    start: (template, logger, timeoutMs) => RemoteLegacyPeer.open({ ...options, template, logger, timeoutMs }),
  };
}
