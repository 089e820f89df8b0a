import type { Logger } from '../logger.js';
import type { ToolGate } from '../access/tool-gate.js';
import type { StdioLaunch } from './child-process-session.js';
import type { EventLogLimits } from './event-log.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from './oversized-message.js';

export interface BridgeOptions {
  serverName: string;
  launch: StdioLaunch;
  logger: Logger;
  /** Origins whose browser requests are served; any other Origin header gets 403. */
  allowedOrigins?: readonly string[] | undefined;
  /**
   * The largest message either way: a larger POST body gets 413, a larger stdout line from the
   * child is skipped and the request it answers gets a JSON-RPC error.
   */
  maxMessageBytes?: number | undefined;
  /** How long a POST waits for the child's response. */
  requestTimeoutMs?: number | undefined;
  /** How long a new child may take to answer initialize (504 and no session after that). */
  initializeTimeoutMs?: number | undefined;
  /** Live sessions of this server; past it initialize gets 503 with Retry-After. */
  maxSessions?: number | undefined;
  maxSessionsPerUser?: number | undefined;
  /** A session unused (no request, no open stream) this long is ended and its child stopped. */
  idleTimeoutMs?: number | undefined;
  /** Bytes a child may leave unread on stdin before its session's POSTs get 503. */
  stdinQueueBytes?: number | undefined;
  eventLog?: EventLogLimits | undefined;
  /** Children kept started and initialized for new sessions; 0 turns the pool off. */
  pool?: number | undefined;
  /** How long a good health probe result is reused. */
  healthTtlMs?: number | undefined;
  /** How long the health probe waits for `initialize`. */
  healthProbeTimeoutMs?: number | undefined;
  /** Per-tool access, rate limits and the tool-call audit (runtime/access/); none: every request goes through unaudited. */
  gate?: ToolGate | undefined;
}

export const BRIDGE_DEFAULTS = {
  maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
  requestTimeoutMs: 5 * 60_000,
  initializeTimeoutMs: 60_000,
  maxSessions: 100,
  maxSessionsPerUser: 20,
  idleTimeoutMs: 30 * 60_000,
  stdinQueueBytes: 1024 * 1024,
  healthTtlMs: 60_000,
  /** A health probe gives up after this, not after initializeTimeoutMs: a hung server must show as unhealthy in seconds. */
  healthProbeTimeoutMs: 5_000,
} as const;

type NumericSettings = { -readonly [K in keyof typeof BRIDGE_DEFAULTS]: number };

/**
 * The bridge's numbers: the defaults, overridden by what the caller set. Misconfiguration throws
 * here, at construction, never per request.
 */
export function resolveBridgeSettings(options: BridgeOptions): NumericSettings {
  const settings: NumericSettings = { ...BRIDGE_DEFAULTS };
  for (const key of Object.keys(BRIDGE_DEFAULTS) as Array<keyof NumericSettings>) {
    const value = options[key];
    if (value === undefined) continue;
    if (!(value > 0)) throw new TypeError(`bridge "${options.serverName}": ${key} must be positive`);
    settings[key] = value;
  }
  return settings;
}
