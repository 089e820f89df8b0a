import type { Logger } from '../logger.js';
import type { GatewayMetrics } from '../metrics/gateway-metrics.js';
import type { AccessSubject } from './access-subject.js';
import type { RecentAudit } from '../logging/recent-audit.js';

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
  {
    server,
    toolArguments,
    metrics,
    recent,
  }: {
    server: string;
    toolArguments: boolean;
    metrics?: Pick<GatewayMetrics, 'toolCall'> | undefined;
    /** The admin page's last events (runtime/logging/recent-audit.ts): never arguments or results. */
    recent?: Pick<RecentAudit, 'record'> | undefined;
  },
): ToolCallAudit {
  // The logger's redaction (logger.ts) walks every line for credential keys: 12-14 µs of a
  // 100 µs call, measured (bench/access-micro.mjs). This line's keys are fixed and hold no
  // credential, so it is written without; with arguments and results in it, it is redacted.
  const audit = toolArguments ? logger.child({ audit: true }) : logger.child({ audit: true }, { redact: [] });
  return ({ subject, tool, outcome, durationMs, reason, arguments: args, result }) => {
    metrics?.toolCall(server, tool, outcome, durationMs);
    const line = {
      event: 'tool_call',
      server,
      tool: tool.length > NAME_LIMIT ? `${tool.slice(0, NAME_LIMIT)}…` : tool,
      login: subject.login,
      sub: subject.sub,
      outcome,
      durationMs: Math.round(durationMs * 10) / 10,
      ...(reason === undefined ? {} : { reason }),
    };
    recent?.record('tool_call', line);
    audit.info({
      ...line,
      ...(toolArguments && args !== undefined ? { arguments: args } : {}),
      ...(toolArguments && result !== undefined ? { result } : {}),
    });
  };
}
