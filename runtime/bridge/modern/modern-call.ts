import type { ResponseWatch } from '../../access/tool-gate.js';
import type { ServerResponse } from 'node:http';
import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import { isJsonObject, type JsonObject, type RequestId } from '../json-rpc.js';
import type { Acceptable } from '../media-types.js';
import { replyMessage } from '../message-reply.js';
import { SseStream } from '../sse-stream.js';
import type { ChildCall, ModernChild } from './modern-child.js';
import { declaresInput, INPUT_REQUIRED_METHODS, MISSING_REQUIRED_CLIENT_CAPABILITY } from './modern-protocol.js';
import { modernError, modernResult, responseLine, splicedResultLine } from './modern-results.js';

/** How long a child's input requests are gathered before the client is asked: they often come in a burst. */
const GATHER_MS = 15;

export interface CallHooks {
  /** Seals the state naming this call, for an input_required result. */
  sealState(call: ModernCall): string;
  /** The call is over (answered, cancelled, expired): forget its handle. */
  ended(call: ModernCall): void;
}

interface PendingInput {
  childId: RequestId;
  method: string;
  params: JsonObject;
}

/**
 * One 2026-07-28 request running on a 2025 child, across the retries of a multi-round-trip
 * request (mrtr.mdx): when the child asks the client something, the HTTP response ends with an
 * `input_required` result whose sealed `requestState` names this call; the call waits, the
 * child's question unanswered, until the client's retry brings the answers (`resume`), which go
 * to the child, and the retry's response carries on where the first one stopped.
 */
export class ModernCall implements ChildCall {
  readonly handle: string;
  readonly user: string;
  readonly method: string;
  readonly asksForInput: boolean;
  readonly mayAskForInput: boolean;
  readonly progressToken: RequestId | undefined;
  readonly #child: ModernChild;
  readonly #hooks: CallHooks;
  readonly #inputTtlMs: number;
  readonly #timeoutMs: number;
  readonly #capabilities: JsonObject;
  #childId = '';
  #res: ServerResponse | undefined;
  #clientId: RequestId;
  #accept: Acceptable;
  #sse: SseStream | undefined;
  #pending = new Map<string, PendingInput>();
  #nextKey = 0;
  #gatherTimer: NodeJS.Timeout | undefined;
  #timer: NodeJS.Timeout | undefined;
  #done = false;
  #watch: ResponseWatch | undefined;

  constructor(options: {
    handle: string;
    user: string;
    method: string;
    clientId: RequestId;
    progressToken: RequestId | undefined;
    child: ModernChild;
    accept: Acceptable;
    hooks: CallHooks;
    inputTtlMs: number;
    timeoutMs: number;
    /** What the client declared it can do: the input it may be asked for. */
    clientCapabilities: JsonObject;
    /** The tool gate's watch of this call's answer (a tools/list filtered, a tools/call audited). */
    watch?: ResponseWatch | undefined;
  }) {
    this.handle = options.handle;
    this.user = options.user;
    this.method = options.method;
    this.mayAskForInput = INPUT_REQUIRED_METHODS.has(options.method);
    this.asksForInput = this.mayAskForInput && declaresInput(options.clientCapabilities);
    this.progressToken = options.progressToken;
    this.#clientId = options.clientId;
    this.#child = options.child;
    this.#accept = options.accept;
    this.#hooks = options.hooks;
    this.#inputTtlMs = options.inputTtlMs;
    this.#timeoutMs = options.timeoutMs;
    this.#capabilities = options.clientCapabilities;
    this.#watch = options.watch;
  }

  /** Sends the request to the child; `res` gets the answer (or an input_required result). */
  begin(res: ServerResponse, params: JsonObject): void {
    this.#attach(res);
    this.#childId = this.#child.start(this, this.method, params);
  }

  /**
   * The client's retry: its answers go to the child's waiting requests (unknown keys are
   * ignored, as mrtr.mdx says); any question still unanswered is asked again at once.
   */
  resume(res: ServerResponse, clientId: RequestId, accept: Acceptable, inputResponses: unknown): void {
    this.#clientId = clientId;
    this.#accept = accept;
    this.#sse = undefined;
    this.#attach(res);
    const responses = isJsonObject(inputResponses) ? inputResponses : {};
    for (const [key, input] of [...this.#pending]) {
      const answer = responses[key];
      if (!isJsonObject(answer)) continue;
      this.#pending.delete(key);
      this.#child.answer(input.childId, { result: withoutResultType(answer) });
    }
    if (this.#pending.size > 0) this.#askClient();
  }

  get waitingForInput(): boolean {
    return !this.#done && this.#res === undefined;
  }

  answered(child: JsonObject, childLine?: string): void {
    if (this.#done) return;
    let response = child;
    let line = childLine;
    const watch = this.#watch;
    if (watch !== undefined) {
      this.#watch = undefined;
      const given = line ?? JSON.stringify(response);
      const next = watch.answered(response, given);
      if (next !== given) {
        // A list the gate filtered: answered from the filtered message, not spliced from the child's line.
        response = JSON.parse(next) as JsonObject;
        line = undefined;
      }
    }
    const spliced = line === undefined ? undefined : splicedResultLine(line, this.#clientId, this.method, this.#child.serverInfoJson);
    if (spliced !== undefined) {
      this.#reply(spliced, 200);
      this.#end();
      return;
    }
    const body =
      'result' in response && isJsonObject(response['result'])
        ? { result: modernResult(this.method, response['result'], this.#child.serverInfo) }
        : { error: modernError(response['error']) };
    // -32601 from the server: a method it does not serve (a capability it did not advertise).
    const status = 'error' in body && body.error['code'] === ErrorCode.MethodNotFound ? 404 : 200;
    this.#reply(responseLine(this.#clientId, body), status);
    this.#end();
  }

  asked(childId: RequestId, method: string, params: JsonObject): void {
    if (this.#done) {
      this.#child.answer(childId, { error: { code: ErrorCode.InternalError, message: 'the request it belonged to has ended' } });
      return;
    }
    const required = requiredCapability(method, params, this.#capabilities);
    if (required !== undefined) {
      // A 2025 server does not check what its client can do; 2026-07-28 says the server refuses
      // (MissingRequiredClientCapabilityError), so the gateway does, for it.
      this.#child.answer(childId, { error: { code: ErrorCode.InvalidRequest, message: `the client cannot answer ${method}` } });
      const error = {
        code: MISSING_REQUIRED_CLIENT_CAPABILITY,
        message: `Missing required client capability: the server asked for ${method}`,
        data: { requiredCapabilities: required },
      };
      this.#reply(responseLine(this.#clientId, { error }), 400);
      this.cancel(`The client did not declare the capability ${method} needs`);
      return;
    }
    this.#pending.set(`input-${++this.#nextKey}`, { childId, method, params });
    if (this.#res === undefined || this.#gatherTimer !== undefined) return; // asked on the next retry, or with the burst
    this.#gatherTimer = setTimeout(() => {
      this.#gatherTimer = undefined;
      if (this.#res !== undefined && this.#pending.size > 0) this.#askClient();
    }, GATHER_MS);
  }

  progress(params: JsonObject): void {
    if (this.#done || this.#res === undefined || !this.#accept.sse) return;
    this.#sse ??= new SseStream(this.#res, 200);
    this.#sse.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress', params: { ...params, progressToken: this.progressToken } }));
  }

  childGone(message: string): void {
    if (this.#done) return;
    this.#unwatch(message);
    this.#reply(responseLine(this.#clientId, { error: { code: ErrorCode.InternalError, message } }), 200);
    this.#end();
  }

  /** The client gave up (closed the stream) or never came back: stop the child's work. */
  cancel(reason: string): void {
    if (this.#done) return;
    this.#unwatch(reason);
    for (const input of this.#pending.values()) this.#child.answer(input.childId, { error: { code: ErrorCode.InternalError, message: reason } });
    this.#pending.clear();
    this.#child.cancel(this.#childId, reason);
    this.#end();
  }

  #unwatch(reason: string): void {
    const watch = this.#watch;
    this.#watch = undefined;
    watch?.failed(reason);
  }

  #attach(res: ServerResponse): void {
    this.#res = res;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#reply(
        responseLine(this.#clientId, { error: { code: ErrorCode.RequestTimeout, message: `the MCP server did not answer within ${this.#timeoutMs} ms` } }),
        200,
      );
      this.cancel('The gateway stopped waiting for a response');
    }, this.#timeoutMs);
    this.#timer.unref();
    res.once('close', () => {
      // Closing the response stream cancels the request (streamable-http.mdx "Cancellation"),
      // unless it closed because this call answered it or asked for input.
      if (this.#res === res && !this.#done) this.cancel('The client closed the response stream');
    });
  }

  #askClient(): void {
    const inputRequests: JsonObject = {};
    for (const [key, input] of this.#pending) inputRequests[key] = { method: input.method, params: input.params };
    const result = { resultType: 'input_required', inputRequests, requestState: this.#hooks.sealState(this) };
    const line = responseLine(this.#clientId, { result });
    const res = this.#res;
    this.#res = undefined; // before the reply: its 'close' must not cancel the call
    this.#write(res, line, 200);
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.cancel('The client did not answer the input requests in time'), this.#inputTtlMs);
    this.#timer.unref();
  }

  #reply(line: string, status: number): void {
    const res = this.#res;
    this.#res = undefined;
    this.#write(res, line, status);
  }

  #write(res: ServerResponse | undefined, line: string, status: number): void {
    if (res === undefined) return;
    replyMessage(res, status, line, this.#accept, { open: this.#sse });
    this.#sse = undefined;
  }

  #end(): void {
    this.#done = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#gatherTimer);
    this.#hooks.ended(this);
  }
}

/** An input response as a 2025 result: `resultType` is 2026-07-28's, a 2025 server may refuse unknown fields. */
function withoutResultType(result: JsonObject): JsonObject {
  const { resultType, ...rest } = result;
  return rest;
}

/** The capability a 2025 server's request needs that the client did not declare, if any. */
function requiredCapability(method: string, params: JsonObject, declared: JsonObject): JsonObject | undefined {
  if (method === 'sampling/createMessage') return isJsonObject(declared['sampling']) ? undefined : { sampling: {} };
  if (method === 'roots/list') return isJsonObject(declared['roots']) ? undefined : { roots: {} };
  const elicitation = declared['elicitation'];
  if (!isJsonObject(elicitation)) return { elicitation: params['mode'] === 'url' ? { url: {} } : {} };
  // `elicitation: {}` means form mode only (client/elicitation.mdx "Capabilities").
  if (params['mode'] === 'url' && !isJsonObject(elicitation['url'])) return { elicitation: { url: {} } };
  return undefined;
}
