import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The seam between the gateway and OpenTelemetry: the router, the bridges and the tool-gate
 * screening see only these interfaces, so nothing of the SDK is loaded (or costs anything past a
 * `tracing === undefined` branch) while traces are off. The one implementation (otel-tracing.ts)
 * is imported by start-tracing.ts when the OTEL_* variables ask for traces.
 *
 * Span contexts are passed explicitly (a WeakMap on the request, request-trace.ts), never
 * through a context manager: AsyncLocalStorage costs on every promise of the process.
 */
export interface GatewayTracing {
  /**
   * The root `mcp.request` span (kind SERVER) of one MCP request at the router, ended when the
   * answer is sent or the client left. A client's `traceparent`/`tracestate` is its parent when
   * well-formed (ignored otherwise), and is replaced on the request by this span's, so what the
   * router forwards (a bridge container) is a child of the router and never the client's own.
   */
  request(req: IncomingMessage, res: ServerResponse, server: string, route: string): RouterSpan;
  /**
   * The `mcp.bridge` span of one request at a bridge or remote proxy, ended with the answer: a
   * child of the router's span in this process, else of the `traceparent` the router sent (a
   * bridge container). Binds the request's trace (request-trace.ts) for its calls.
   */
  bridge(req: IncomingMessage, res: ServerResponse, server: string): void;
  /** Exports what is still queued (bounded in time) and stops; idempotent. */
  shutdown(): Promise<void>;
}

/** The router's span of one MCP request. */
export interface RouterSpan {
  /** Runs the ForwardAuth call inside the child span `mcp.verify`, ended when it settles. */
  verify<T extends { status: number }>(check: () => Promise<T>): Promise<T>;
}

/** What the bridge records of one JSON-RPC request it forwards. */
export type CallOutcome = 'ok' | 'error' | 'denied' | 'limited';

/** One request's trace in the bridge, found by request (request-trace.ts). */
export interface RequestTrace {
  /** Starts the `mcp.call` span of one JSON-RPC request of this HTTP request. */
  call(method: string, params: unknown): CallSpan;
  /**
   * The W3C headers for the request to a remote upstream: the context of this request's only
   * `mcp.call`, else of the `mcp.bridge` span (a batch, a GET stream, a DELETE).
   */
  upstreamHeaders(): Record<string, string>;
}

/** One `mcp.call` span; the first end wins, later ones are no-ops. */
export interface CallSpan {
  /** The server's answer: `ok`, or `error` for a JSON-RPC error or a result with `isError: true`. */
  answered(value: Readonly<Record<string, unknown>>): void;
  end(outcome: CallOutcome): void;
}
