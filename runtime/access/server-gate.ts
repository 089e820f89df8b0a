import type { GatewayConfig, MemberServerConfig } from '../config/schema.js';
import type { Logger } from '../logger.js';
import type { GatewayMetrics } from '../metrics/gateway-metrics.js';
import type { RateCounter } from '../store/rate-counter.js';
import type { RecentAudit } from '../logging/recent-audit.js';
import { createRateLimits } from './rate-limits.js';
import { createToolCallAudit } from './tool-call-audit.js';
import { createToolGate, type ToolGate } from './tool-gate.js';
import { createToolPolicy } from './tool-policy.js';

/** The tool gate of one configured server: its `tools`, `access` and `rateLimit`, the top-level defaults, the audit. */
export function toolGateFor(
  name: string,
  server: MemberServerConfig,
  config: GatewayConfig,
  rates: RateCounter,
  logger: Logger,
  metrics?: GatewayMetrics,
  recentAudit?: RecentAudit,
): ToolGate {
  // The root logger, not a child bound to `server`: every line of the gate (and of the audit) names
  // the server itself, and a binding as well made the lines carry the key twice.
  return createToolGate({
    server: name,
    policy: createToolPolicy(name, server),
    limits: createRateLimits(name, server.rateLimit, config.rateLimit?.perUser, rates),
    audit: createToolCallAudit(logger, { server: name, toolArguments: config.audit?.toolArguments === true, metrics, recent: recentAudit }),
    logger,
    onListed: metrics === undefined ? undefined : (names) => metrics.learnTools(name, names),
  });
}
