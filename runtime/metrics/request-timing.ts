import type { IncomingMessage } from 'node:http';

/**
 * How long one MCP request waited on its server, so the gateway's own share can be told apart
 * (`mcp_gateway_gateway_overhead_seconds`). Started where the request enters the gateway (the
 * router, or a bridge container's listener); the tool gate adds each forwarded call's time
 * from handing it to the server to its answer. A WeakMap rather than a property on the
 * request: nothing else can read or forge it, and it goes with the request.
 */
export interface RequestTiming {
  /** `performance.now()` when the request arrived. */
  readonly start: number;
  /** Milliseconds spent waiting on the server or upstream for this request's calls. */
  upstreamMs: number;
  /** Calls answered by the server: without one, there is no overhead to report. */
  calls: number;
}

const timings = new WeakMap<IncomingMessage, RequestTiming>();

export function startTiming(req: IncomingMessage, start: number): RequestTiming {
  const timing = { start, upstreamMs: 0, calls: 0 };
  timings.set(req, timing);
  return timing;
}

export function timingOf(req: IncomingMessage): RequestTiming | undefined {
  return timings.get(req);
}
