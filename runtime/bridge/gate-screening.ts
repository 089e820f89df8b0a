import type { AccessSubject } from '../access/access-subject.js';
import { RATE_LIMITED, type GateRefusal, type ResponseWatch, type ToolGate } from '../access/tool-gate.js';
import type { RequestTiming } from '../metrics/request-timing.js';
import type { RequestTrace } from '../tracing/gateway-tracing.js';
import { tracedWatch } from './traced-watch.js';
import { jsonRpcErrorLine, type Envelope, type RequestId } from './json-rpc.js';

/** What the tool gate made of a POST's requests. */
export interface Screening {
  /** Requests answered by the gateway: the refusal and its JSON-RPC error line. */
  refused?: Map<RequestId, { refusal: GateRefusal; line: string }>;
  watches?: Map<RequestId, ResponseWatch>;
}

const NOTHING: Screening = {};

/**
 * Asks the gate about every request of a POST body (2025 sessions; a batch may mix allowed and
 * refused requests). Requests with no policy, limit or audit interest cost one call each and no
 * allocation. With a `trace` (traces on, runtime/tracing/), each request gets its `mcp.call` span
 * here, ended by the refusal or, through a watch every forwarded request then has, by its answer.
 */
export async function screenRequests(
  gate: ToolGate,
  subject: AccessSubject,
  messages: ReadonlyArray<{ envelope: Envelope }>,
  timing?: RequestTiming,
  trace?: RequestTrace,
): Promise<Screening> {
  let screening = NOTHING;
  for (const { envelope } of messages) {
    if (envelope.kind !== 'request') continue;
    const params = envelope.value['params'];
    const call = trace?.call(envelope.method, params);
    const pending = gate.screen(subject, envelope.method, params);
    const refusal = pending instanceof Promise ? await pending : pending;
    if (screening === NOTHING) screening = {};
    if (refusal !== undefined) {
      const line = jsonRpcErrorLine(envelope.id, refusal.code, refusal.message, refusal.data);
      (screening.refused ??= new Map()).set(envelope.id, { refusal, line });
      call?.end(refusal.code === RATE_LIMITED ? 'limited' : 'denied');
      continue;
    }
    const gateWatch = gate.watch(subject, envelope.method, params, timing);
    const watch = call === undefined ? gateWatch : tracedWatch(call, gateWatch);
    if (watch !== undefined) (screening.watches ??= new Map()).set(envelope.id, watch);
  }
  return screening;
}

/** The refusal that answers the whole POST: a single request over a rate limit gets HTTP 429 (with Retry-After), as the issue asks. */
export function wholePostRefusal(screening: Screening, requestCount: number, batch: boolean): { refusal: GateRefusal; line: string } | undefined {
  if (batch || requestCount !== 1 || screening.refused === undefined) return undefined;
  const [only] = screening.refused.values();
  return only;
}

/**
 * One 2026-07-28 request put to the gate before the modern endpoint runs it: a refusal is
 * answered here (false); otherwise true, with the watch its answer must pass through, if any.
 */
export async function screenModernRequest(
  gate: ToolGate,
  subject: AccessSubject,
  envelope: Envelope,
  reply: (refusal: GateRefusal, line: string) => void,
  timing?: RequestTiming,
  trace?: RequestTrace,
): Promise<{ admitted: false } | { admitted: true; watch: ResponseWatch | undefined }> {
  const screening = await screenRequests(gate, subject, [{ envelope }], timing, trace);
  const whole = wholePostRefusal(screening, envelope.kind === 'request' ? 1 : 0, false);
  if (whole !== undefined) {
    reply(whole.refusal, whole.line);
    return { admitted: false };
  }
  const [watch] = screening.watches?.values() ?? [];
  return { admitted: true, watch };
}
