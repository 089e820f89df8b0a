import type { ResponseWatch } from '../access/tool-gate.js';
import type { CallSpan } from '../tracing/gateway-tracing.js';

/**
 * The tool gate's watch of one forwarded request (or none: not every method is watched), with
 * the request's `mcp.call` span ended by the same answer or failure. With traces on, every
 * forwarded request has a watch, so each call's span ends when its own answer passes.
 */
export function tracedWatch(call: CallSpan, watch: ResponseWatch | undefined): ResponseWatch {
  return {
    answered(value, line) {
      const next = watch === undefined ? line : watch.answered(value, line);
      call.answered(value);
      return next;
    },
    failed(reason) {
      watch?.failed(reason);
      call.end('error');
    },
  };
}
