import type { Logger } from '../logger.js';
import type { RequestTiming } from '../metrics/request-timing.js';
import type { AccessSubject } from './access-subject.js';
import type { RateLimits } from './rate-limits.js';
import type { ToolCallAudit } from './tool-call-audit.js';
import type { ToolPolicy } from './tool-policy.js';

type JsonObject = Record<string, unknown>;

/** JSON-RPC "invalid params", what MCP servers answer for a tool they do not have: a hidden tool looks like no tool. */
export const TOOL_DENIED = -32602;
/** Implementation-defined server error (JSON-RPC reserves -32000..-32099): over a rate limit. */
export const RATE_LIMITED = -32030;

/** Why a request is answered by the gateway instead of the server. */
export interface GateRefusal {
  /** 200 for a denied tool (an ordinary JSON-RPC error); 429 with Retry-After over a limit. */
  status: 200 | 429;
  headers: Readonly<Record<string, string>>;
  code: number;
  message: string;
  data: JsonObject;
}

/** Follows one forwarded request to its answer: filters list results, audits tool calls. */
export interface ResponseWatch {
  /** The server answered: the line to send the client (a list with what the user may not see removed). */
  answered(value: JsonObject, line: string): string;
  /** No answer will reach the client (timeout, cancellation, the server exited). */
  failed(reason: string): void;
}

export interface ToolGate {
  /** The server's tool policy (an aggregate endpoint filters its merged list with each member's). */
  readonly policy: ToolPolicy;
  /**
   * A refusal for one client request, or undefined to forward it. Returns undefined at once
   * (no promise, no allocation) when nothing applies, which is every request of a server
   * without rate limits except `tools/call`.
   */
  screen(subject: AccessSubject, method: string, params: unknown): Promise<GateRefusal | undefined> | GateRefusal | undefined;
  /**
   * Undefined when the answer needs nothing of the gate. `timing`, when the request is timed
   * (request-timing.ts), is told how long a tools/call waited on the server.
   */
  watch(subject: AccessSubject, method: string, params: unknown, timing?: RequestTiming): ResponseWatch | undefined;
  /** The server listed these tools (directly, or as an aggregate's member). */
  listed(names: readonly string[]): void;
}

export interface ToolGateOptions {
  server: string;
  policy: ToolPolicy;
  limits: RateLimits;
  audit: ToolCallAudit;
  logger: Logger;
  /** Told the names the server lists (the metrics give those tools labels of their own). */
  onListed?: ((names: readonly string[]) => void) | undefined;
  now?: () => number;
}

function toolNameOf(params: unknown): string | undefined {
  if (typeof params !== 'object' || params === null) return undefined;
  const name = (params as JsonObject)['name'];
  return typeof name === 'string' ? name : undefined;
}

function argumentsOf(params: unknown): unknown {
  return typeof params === 'object' && params !== null ? (params as JsonObject)['arguments'] : undefined;
}

/**
 * Per-tool access, rate limits and the tool-call audit, as one thing every bridge asks (stdio
 * sessions, 2026-07-28 requests, remote servers). The policy never reaches the MCP server: a
 * refused call is answered here and the server never sees it.
 */
export function createToolGate({ server, policy, limits, audit, logger, onListed, now = performance.now.bind(performance) }: ToolGateOptions): ToolGate {
  let warnedUnmatched = false;

  function denied(subject: AccessSubject, tool: string, rule: string, params: unknown): GateRefusal {
    audit({ subject, tool, outcome: 'denied', durationMs: 0, reason: rule, arguments: argumentsOf(params) });
    return {
      status: 200,
      headers: {},
      code: TOOL_DENIED,
      message: `Tool ${JSON.stringify(tool.slice(0, 200))} is not available: the gateway's access policy does not allow it for ${subject.login || 'this user'} on ${server}`,
      data: { reason: 'access_denied', server },
    };
  }

  async function limited(subject: AccessSubject, method: string, tool: string | undefined, params: unknown): Promise<GateRefusal | undefined> {
    const over = await limits.take(subject, tool);
    if (over === undefined) return undefined;
    const retryAfterS = Math.max(1, Math.ceil(over.retryAfterMs / 1000));
    if (tool !== undefined) audit({ subject, tool, outcome: 'limited', durationMs: 0, reason: over.limit, arguments: argumentsOf(params) });
    else logger.info({ event: 'rate_limited', server, method, login: subject.login, sub: subject.sub, limit: over.limit });
    return {
      status: 429,
      headers: { 'Retry-After': String(retryAfterS) },
      code: RATE_LIMITED,
      message: `Rate limit reached: ${over.limit}; retry in ${retryAfterS} s`,
      data: { reason: 'rate_limited', server, limit: over.limit, retryAfterSeconds: retryAfterS },
    };
  }

  /** No tool name (not a tools/call, or no string name: the server answers its own invalid-params error): nothing to decide. */
  function policyRefusal(subject: AccessSubject, tool: string | undefined, params: unknown): GateRefusal | undefined {
    if (tool === undefined || !policy.active) return undefined;
    const decision = policy.decide(subject, tool);
    return decision.allowed ? undefined : denied(subject, tool, decision.rule, params);
  }

  function filterTools(subject: AccessSubject, value: JsonObject, line: string): string {
    const result = value['result'];
    if (typeof result !== 'object' || result === null) return line;
    const tools = (result as JsonObject)['tools'];
    if (!Array.isArray(tools)) return line;
    const names = tools.map((tool: unknown) => toolNameOf(tool));
    onListed?.(names.filter((name): name is string => name !== undefined));
    if (!policy.active) return line;
    if (!warnedUnmatched) {
      warnedUnmatched = true;
      const unmatched = policy.unmatchedPatterns(names.filter((name): name is string => name !== undefined));
      if (unmatched.length > 0)
        logger.warn({ server, patterns: unmatched }, 'tool patterns in the access config match no tool this server lists (a typo, or a renamed tool?)');
    }
    // A tool without a string name cannot be called by name; it is not shown either.
    const kept = tools.filter((_, index) => {
      const name = names[index];
      return name !== undefined && policy.decide(subject, name).allowed;
    });
    if (kept.length === tools.length) return line;
    return JSON.stringify({ ...value, result: { ...(result as JsonObject), tools: kept } });
  }

  return {
    policy,
    screen(subject, method, params) {
      const tool = method === 'tools/call' ? toolNameOf(params) : undefined;
      // Limits first: every request counts, a denied one too, so refused calls cannot be sent
      // (and audited) without bound.
      if (limits.active) return limited(subject, method, tool, params).then((over) => over ?? policyRefusal(subject, tool, params));
      return policyRefusal(subject, tool, params);
    },
    listed(names) {
      onListed?.(names);
    },
    watch(subject, method, params, timing) {
      if (method === 'tools/list') {
        if (!policy.active && onListed === undefined) return undefined;
        return { answered: (value, line) => filterTools(subject, value, line), failed: () => {} };
      }
      if (method !== 'tools/call') return undefined;
      const tool = toolNameOf(params) ?? '';
      const started = now();
      return {
        answered(value, line) {
          const error = value['error'];
          const result = value['result'];
          const isError = error !== undefined || (typeof result === 'object' && result !== null && (result as JsonObject)['isError'] === true);
          // An isError result's text is the tool's output (left out like any result): the reason says only what it was.
          const reason =
            typeof error === 'object' && error !== null
              ? String((error as JsonObject)['message'] ?? '')
              : isError
                ? 'the tool returned isError: true'
                : undefined;
          const durationMs = now() - started;
          if (timing !== undefined) {
            timing.upstreamMs += durationMs;
            timing.calls++;
          }
          audit({ subject, tool, outcome: isError ? 'error' : 'ok', durationMs, reason, arguments: argumentsOf(params), result });
          return line;
        },
        failed(reason) {
          audit({ subject, tool, outcome: 'error', durationMs: now() - started, reason, arguments: argumentsOf(params) });
        },
      };
    },
  };
}
