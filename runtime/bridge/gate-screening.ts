import type { AccessSubject } from '../access/access-subject.js';
import type { GateRefusal, ResponseWatch, ToolGate } from '../access/tool-gate.js';
import type { RequestTiming } from '../metrics/request-timing.js';
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
 * allocation.
 */
export async function screenRequests(
  gate: ToolGate,
  subject: AccessSubject,
  messages: ReadonlyArray<{ envelope: Envelope }>,
  timing?: RequestTiming,
): Promise<Screening> {
  let screening = NOTHING;
  for (const { envelope } of messages) {
    if (envelope.kind !== 'request') continue;
    const params = envelope.value['params'];
    const pending = gate.screen(subject, envelope.method, params);
    const refusal = pending instanceof Promise ? await pending : pending;
    if (screening === NOTHING) screening = {};
    if (refusal !== undefined) {
      const line = jsonRpcErrorLine(envelope.id, refusal.code, refusal.message, refusal.data);
      (screening.refused ??= new Map()).set(envelope.id, { refusal, line });
      continue;
    }
    const watch = gate.watch(subject, envelope.method, params, timing);
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
): Promise<{ admitted: false } | { admitted: true; watch: ResponseWatch | undefined }> {
  const screening = await screenRequests(gate, subject, [{ envelope }], timing);
  const whole = wholePostRefusal(screening, envelope.kind === 'request' ? 1 : 0, false);
  if (whole !== undefined) {
    reply(whole.refusal, whole.line);
    return { admitted: false };
  }
  const [watch] = screening.watches?.values() ?? [];
  return { admitted: true, watch };
}
