import type { IncomingMessage, ServerResponse } from 'node:http';
import { subjectOf } from '../access/access-subject.js';
import type { ToolGate } from '../access/tool-gate.js';
import { timingOf } from '../metrics/request-timing.js';
import { traceOf } from '../tracing/request-trace.js';
import { screenModernRequest } from './gate-screening.js';
import type { Envelope } from './json-rpc.js';
import type { Acceptable } from './media-types.js';
import { replyMessage } from './message-reply.js';
import type { ModernEndpoint } from './modern/modern-endpoint.js';

/**
 * One 2026-07-28 request of a stdio bridge or a remote proxy: put to the server's tool gate
 * (a refusal is answered here), then run by the modern endpoint with the gate's watch of the
 * answer. The request's timing and trace go with it.
 */
export async function runModernRequest(
  gate: ToolGate | undefined,
  modern: Pick<ModernEndpoint, 'handle'>,
  req: IncomingMessage,
  res: ServerResponse,
  user: string,
  envelope: Envelope,
  accept: Acceptable,
): Promise<void> {
  if (gate === undefined) return modern.handle(req, res, user, envelope, accept);
  const screened = await screenModernRequest(
    gate,
    subjectOf(req),
    envelope,
    (refusal, line) => replyMessage(res, refusal.status, line, accept, { headers: refusal.headers }),
    timingOf(req),
    traceOf(req),
  );
  if (screened.admitted) await modern.handle(req, res, user, envelope, accept, screened.watch);
}
