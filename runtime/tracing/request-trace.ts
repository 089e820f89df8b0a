import type { IncomingMessage } from 'node:http';
import type { RequestTrace } from './gateway-tracing.js';

/**
 * Each traced request's trace, beside it rather than on it (as request-timing.ts keeps timings):
 * nothing else can read or forge it, and it goes with the request. `bound` stays false in a
 * process that never traced, so a lookup there is one branch.
 */
const traces = new WeakMap<IncomingMessage, RequestTrace>();
let bound = false;

export function bindTrace(req: IncomingMessage, trace: RequestTrace): void {
  bound = true;
  traces.set(req, trace);
}

export function traceOf(req: IncomingMessage): RequestTrace | undefined {
  return bound ? traces.get(req) : undefined;
}
