import type { Logger } from '../logger.js';
import type { GatewayMetrics } from '../metrics/gateway-metrics.js';
import type { AccessSubject } from './access-subject.js';

export type ToolCallOutcome = 'ok' | 'error' | 'denied' | 'limited';

export interface ToolCallRecord {
  subject: AccessSubject;
  tool: string;
  outcome: ToolCallOutcome;
  durationMs: number;
  /** The rule or limit behind `denied`/`limited`, or the error's message for `error`. */
  reason?: string | undefined;
  arguments?: unknown;
  result?: unknown;
}

export type ToolCallAudit = (record: ToolCallRecord) => void;

/** Tool names come from the client: a hostile one is cut, not logged whole. */
const NAME_LIMIT = 200;

/**
 * One JSON line per `tools/call` (`event: tool_call`, marked `audit: true` like the auth
 * runtime's audit lines): who, which server and tool, the outcome and how long it took.
 * Arguments and results can hold anything a user typed or a tool read, so they are left out
 * unless the operator sets `audit.toolArguments: true`. The logger writes JSON, so a name
 * with newlines or quotes cannot forge a line.
 */
export function createToolCallAudit(
  logger: Logger,
  { server, toolArguments, metrics }: { server: string; toolArguments: boolean; metrics?: Pick<GatewayMetrics, 'toolCall'> | undefined },
): ToolCallAudit {
  const audit = logger.child({ audit: true });
  return ({ subject, tool, outcome, durationMs, reason, arguments: args, result }) => {
    metrics?.toolCall(server, tool, outcome, durationMs);
    audit.info({
      event: 'tool_call',
      server,
      tool: tool.length > NAME_LIMIT ? `${tool.slice(0, NAME_LIMIT)}…` : tool,
      login: subject.login,
      sub: subject.sub,
      outcome,
      durationMs: Math.round(durationMs * 10) / 10,
      ...(reason === undefined ? {} : { reason }),
      ...(toolArguments && args !== undefined ? { arguments: args } : {}),
      ...(toolArguments && result !== undefined ? { result } : {}),
    });
  };
}
