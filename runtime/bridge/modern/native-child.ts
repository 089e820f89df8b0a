import type { ResponseWatch } from '../../access/tool-gate.js';
import type { ServerResponse } from 'node:http';
import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../../logger.js';
import { ChildProcessSession, type StdioLaunch } from '../child-process-session.js';
import { isJsonObject, type Envelope, type JsonObject, type RequestId } from '../json-rpc.js';
import { replyMessage } from '../message-reply.js';
import type { Acceptable } from '../media-types.js';
import { SseStream } from '../sse-stream.js';
import { META, MODERN_PROTOCOL_VERSIONS } from './modern-protocol.js';
import type { ModernRequest } from './modern-request.js';

interface RelayedCall {
  res: ServerResponse;
  clientId: RequestId;
  accept: Acceptable;
  progressToken: RequestId | undefined;
  sse: SseStream | undefined;
  timer: NodeJS.Timeout | undefined;
  /** The tool gate's watch of the answer; told `failed` when the call ends without one. */
  watch: ResponseWatch | undefined;
}

export type ProbeOutcome = { era: 'modern'; child: NativeChild } | { era: 'legacy' } | { era: 'failed'; detail: string };

/**
 * A stdio server that speaks 2026-07-28 itself, driven natively: requests go to it as the
 * client sent them (its `_meta`, `inputResponses` and its own `requestState` included) under an
 * id of the gateway's own, and its answers come back as they are. Per user, like the 2025
 * children: a stateless server may still keep things per process.
 */
export class NativeChild {
  readonly key: string;
  readonly user: string;
  /** The server's answer to the probe's server/discover. */
  readonly discover: JsonObject;
  lastActive = Date.now();
  listeners = 0;
  readonly takesInputCalls = true;
  readonly #child: ChildProcessSession;
  readonly #calls = new Map<string, RelayedCall>();
  readonly #requestTimeoutMs: number;
  #nextId = 0;
  #alive = true;

  /**
   * Spawns the server and asks `server/discover` (stdio.mdx "Backward Compatibility": the probe
   * a client runs). A discover result naming a version the gateway serves statelessly makes a
   * NativeChild; any other answer, or none in time, means a 2025 server, whose process is stopped
   * (the caller starts it again through initialize).
   */
  static async probe(options: {
    launch: StdioLaunch;
    logger: Logger;
    key: string;
    user: string;
    meta: JsonObject;
    timeoutMs: number;
    requestTimeoutMs: number;
    maxMessageBytes: number;
    onExit: (child: NativeChild) => void;
  }): Promise<ProbeOutcome> {
    let settle!: (outcome: JsonObject | undefined) => void;
    const answered = new Promise<JsonObject | undefined>((resolve) => (settle = resolve));
    let native: NativeChild | undefined;
    let child: ChildProcessSession;
    try {
      child = await ChildProcessSession.start({
        launch: options.launch,
        logger: options.logger,
        maxMessageBytes: options.maxMessageBytes,
        onMessage: (envelope) => {
          if (native !== undefined) native.#fromChild(envelope);
          else if (envelope.kind === 'response' && envelope.id === 'mcpgw-discover') settle(envelope.value);
        },
        onClose: () => {
          settle(undefined);
          if (native !== undefined) native.#closed();
        },
      });
    } catch (err) {
      return { era: 'failed', detail: err instanceof Error ? err.message : String(err) };
    }
    child.send(JSON.stringify({ jsonrpc: '2.0', id: 'mcpgw-discover', method: 'server/discover', params: { _meta: options.meta } }));
    const timer = setTimeout(() => settle(undefined), options.timeoutMs);
    const response = await answered;
    clearTimeout(timer);
    const result = response?.['result'];
    const versions = isJsonObject(result) && Array.isArray(result['supportedVersions']) ? result['supportedVersions'] : [];
    if (!isJsonObject(result) || !versions.some((version) => (MODERN_PROTOCOL_VERSIONS as readonly unknown[]).includes(version))) {
      await child.terminate();
      return { era: 'legacy' };
    }
    native = new NativeChild(options.key, options.user, result, child, options.requestTimeoutMs, options.onExit);
    return { era: 'modern', child: native };
  }

  readonly #onExit: (child: NativeChild) => void;

  private constructor(
    key: string,
    user: string,
    discover: JsonObject,
    child: ChildProcessSession,
    requestTimeoutMs: number,
    onExit: (child: NativeChild) => void,
  ) {
    this.key = key;
    this.user = user;
    this.discover = discover;
    this.#child = child;
    this.#requestTimeoutMs = requestTimeoutMs;
    this.#onExit = onExit;
  }

  get alive(): boolean {
    return this.#alive;
  }

  get pid(): number {
    return this.#child.pid;
  }

  get load(): number {
    return this.#calls.size;
  }

  /** One request, relayed; `res` gets the server's answer (and, on SSE, its progress and subscription notifications). */
  relay(res: ServerResponse, accept: Acceptable, request: ModernRequest, watch?: ResponseWatch): void {
    const id = `mcpgw-${++this.#nextId}`;
    const meta = request.params['_meta'] as JsonObject;
    const token = meta['progressToken'];
    const progressToken = typeof token === 'string' || typeof token === 'number' ? token : undefined;
    const params = progressToken === undefined ? request.params : { ...request.params, _meta: { ...meta, progressToken: id } };
    const listen = request.method === 'subscriptions/listen';
    const call: RelayedCall = { res, clientId: request.id, accept, progressToken, sse: listen ? new SseStream(res, 200) : undefined, timer: undefined, watch };
    if (!listen) {
      call.timer = setTimeout(() => {
        this.#answer(
          id,
          JSON.stringify({
            jsonrpc: '2.0',
            id: request.id,
            error: { code: ErrorCode.RequestTimeout, message: `the MCP server did not answer within ${this.#requestTimeoutMs} ms` },
          }),
          200,
        );
        this.#cancel(id, 'The gateway stopped waiting for a response');
      }, this.#requestTimeoutMs);
      call.timer.unref();
    } else this.listeners++;
    this.#calls.set(id, call);
    // Closing the response stream cancels the request; over stdio that is notifications/cancelled.
    res.once('close', () => this.#cancel(id, 'The client closed the response stream'));
    this.lastActive = Date.now();
    this.#child.send(JSON.stringify({ jsonrpc: '2.0', id, method: request.method, params }));
  }

  terminate(): Promise<unknown> {
    return this.#child.terminate();
  }

  #cancel(id: string, reason: string): void {
    if (!this.#forget(id)) return;
    this.#child.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason } }));
  }

  #forget(id: string): RelayedCall | undefined {
    const call = this.#calls.get(id);
    if (call === undefined) return undefined;
    this.#calls.delete(id);
    clearTimeout(call.timer);
    call.watch?.failed('the request ended without an answer from the server');
    call.watch = undefined;
    if (call.sse !== undefined && call.timer === undefined) this.listeners--;
    this.lastActive = Date.now();
    return call;
  }

  #answer(id: string, line: string, status: number): void {
    const call = this.#forget(id);
    if (call === undefined) return;
    replyMessage(call.res, status, line, call.accept, { open: call.sse });
  }

  #fromChild(envelope: Envelope): void {
    if (envelope.kind === 'response') {
      const id = envelope.id === null ? '' : String(envelope.id);
      const call = this.#calls.get(id);
      if (call === undefined) return;
      const error = envelope.value['error'];
      const status = isJsonObject(error) && error['code'] === ErrorCode.MethodNotFound ? 404 : 200;
      const value = { ...envelope.value, id: call.clientId };
      let line = JSON.stringify(value);
      if (call.watch !== undefined) {
        line = call.watch.answered(value, line);
        call.watch = undefined;
      }
      this.#answer(id, line, status);
      return;
    }
    if (envelope.kind === 'request') {
      // 2026-07-28 servers must not send requests (mrtr.mdx replaces them).
      this.#child.send(
        JSON.stringify({ jsonrpc: '2.0', id: envelope.id, error: { code: ErrorCode.MethodNotFound, message: 'servers send no requests in 2026-07-28' } }),
      );
      return;
    }
    const params = isJsonObject(envelope.value['params']) ? envelope.value['params'] : {};
    const meta = isJsonObject(params['_meta']) ? params['_meta'] : {};
    if (envelope.method === 'notifications/progress') {
      const call = this.#calls.get(String(params['progressToken']));
      if (call === undefined || call.progressToken === undefined || !call.accept.sse) return;
      call.sse ??= new SseStream(call.res, 200);
      call.sse.send(JSON.stringify({ ...envelope.value, params: { ...params, progressToken: call.progressToken } }));
      return;
    }
    const subscription = meta[META.subscriptionId];
    const call = subscription === undefined ? undefined : this.#calls.get(String(subscription));
    if (call?.sse === undefined) return; // nothing else is tied to a request the gateway can name
    call.sse.send(JSON.stringify({ ...envelope.value, params: { ...params, _meta: { ...meta, [META.subscriptionId]: call.clientId } } }));
  }

  #closed(): void {
    this.#alive = false;
    for (const [id, call] of [...this.#calls]) {
      this.#answer(
        id,
        JSON.stringify({ jsonrpc: '2.0', id: call.clientId, error: { code: ErrorCode.InternalError, message: 'MCP server process exited' } }),
        200,
      );
    }
    this.#onExit(this);
  }
}
