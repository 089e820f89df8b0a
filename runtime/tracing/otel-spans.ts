import type { ServerResponse } from 'node:http';
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  defaultTextMapSetter,
  trace,
  type Context,
  type Span,
  type TextMapPropagator,
  type Tracer,
} from '@opentelemetry/api';
import type { CallOutcome, CallSpan, RequestTrace } from './gateway-tracing.js';

/*
 * The spans' attributes are a closed list: the server's configured name, the HTTP method and
 * status, the JSON-RPC method, the tool's name, the outcome and a JSON-RPC error code. Never
 * arguments, results, error messages (a server may echo an argument in one), tokens, cookies,
 * session ids or any header: test/tracing.test.ts sends a bearer token and a tool argument and
 * finds neither in what the exporter sent.
 */

/** Client-chosen strings (a method, a tool name) are cut here: an attribute is not a place for a megabyte. */
const MAX_NAME_CHARS = 200;
const KNOWN_METHODS: ReadonlySet<string> = new Set(['GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'HEAD', 'OPTIONS']);

/** `http.request.method` as the semantic conventions want it: a known method, else `_OTHER`. */
export function httpMethod(method: string | undefined): string {
  return method !== undefined && KNOWN_METHODS.has(method) ? method : '_OTHER';
}

/** Ends an HTTP span with the status sent; a 5xx is an error; a client that left before the end is recorded as such, not as an error. */
export function endHttpSpan(span: Span, res: ServerResponse): void {
  if (res.headersSent) span.setAttribute('http.response.status_code', res.statusCode);
  if (!res.writableFinished) span.setAttribute('mcp.client_aborted', true);
  else if (res.statusCode >= 500) {
    span.setAttribute('error.type', String(res.statusCode));
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}

function shortName(text: string): string {
  return text.length > MAX_NAME_CHARS ? text.slice(0, MAX_NAME_CHARS) : text;
}

function toolOf(params: unknown): string | undefined {
  if (typeof params !== 'object' || params === null) return undefined;
  const name = (params as Record<string, unknown>)['name'];
  return typeof name === 'string' ? shortName(name) : undefined;
}

/** The call of a request whose trace is not sampled: nothing to record. */
const UNSAMPLED_CALL: CallSpan = { answered() {}, end() {} };

/**
 * The spans of one HTTP request in this process: the router's (`mcp.request`) or the bridge's
 * (`mcp.bridge`), whose `mcp.call` children it starts. Calls still open when the answer has been
 * sent (a path that answers without the server, as a warm-pool initialize) end with the HTTP
 * outcome, so no span is left unended.
 */
export class SpanScope implements RequestTrace {
  readonly context: Context;
  /**
   * False when the sampler dropped this span's trace: its children would be dropped too (every
   * sampler OTEL_TRACES_SAMPLER offers decides a child as its parent or by the same trace id), so
   * none is started, and an unsampled request costs one span per process, not four.
   */
  readonly recording: boolean;
  readonly #tracer: Tracer;
  readonly #propagator: TextMapPropagator;
  readonly #server: string;
  #open: Set<OtelCall> | undefined;
  #calls = 0;
  #only: OtelCall | undefined;

  constructor(span: Span, tracer: Tracer, propagator: TextMapPropagator, server: string) {
    this.context = trace.setSpan(ROOT_CONTEXT, span);
    this.recording = span.isRecording();
    this.#tracer = tracer;
    this.#propagator = propagator;
    this.#server = server;
  }

  call(method: string, params: unknown): CallSpan {
    if (!this.recording) return UNSAMPLED_CALL;
    const tool = method === 'tools/call' ? toolOf(params) : undefined;
    const attributes: Record<string, string> = { 'mcp.server': this.#server, 'mcp.method': shortName(method) };
    if (tool !== undefined) attributes['mcp.tool'] = tool;
    const span = this.#tracer.startSpan('mcp.call', { kind: SpanKind.INTERNAL, attributes }, this.context);
    const call = new OtelCall(span, this);
    (this.#open ??= new Set()).add(call);
    this.#calls++;
    this.#only = this.#calls === 1 ? call : undefined;
    return call;
  }

  upstreamHeaders(): Record<string, string> {
    const headers: Record<string, string> = {};
    this.#propagator.inject(this.#only?.context ?? this.context, headers, defaultTextMapSetter);
    return headers;
  }

  /** The HTTP answer is over: what no answer ended takes its outcome from it. */
  settle(res: ServerResponse): void {
    if (this.#open === undefined) return;
    const outcome: CallOutcome = res.writableFinished && res.statusCode < 400 ? 'ok' : 'error';
    for (const call of this.#open) call.end(outcome);
  }

  closed(call: OtelCall): void {
    this.#open?.delete(call);
  }
}

class OtelCall implements CallSpan {
  readonly context: Context;
  readonly #span: Span;
  readonly #scope: SpanScope;
  #ended = false;

  constructor(span: Span, scope: SpanScope) {
    this.#span = span;
    this.#scope = scope;
    this.context = trace.setSpan(ROOT_CONTEXT, span);
  }

  answered(value: Readonly<Record<string, unknown>>): void {
    const error = value['error'];
    if (typeof error === 'object' && error !== null) {
      const code = (error as Record<string, unknown>)['code'];
      // The code only: the message is the server's text, and may quote what the client sent.
      if (!this.#ended && typeof code === 'number' && Number.isInteger(code)) this.#span.setAttribute('rpc.jsonrpc.error_code', code);
      this.end('error');
      return;
    }
    const result = value['result'];
    this.end(typeof result === 'object' && result !== null && (result as Record<string, unknown>)['isError'] === true ? 'error' : 'ok');
  }

  end(outcome: CallOutcome): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#span.setAttribute('mcp.outcome', outcome);
    if (outcome === 'error') this.#span.setStatus({ code: SpanStatusCode.ERROR });
    this.#span.end();
    this.#scope.closed(this);
  }
}
