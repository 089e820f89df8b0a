import type { IncomingMessage, ServerResponse } from 'node:http';
import { isModernVersion } from '../bridge/modern/modern-protocol.js';
import { replyJsonRpcError } from '../bridge/json-replies.js';
import { SESSION_NOT_FOUND } from '../bridge/json-rpc.js';
import { DRAINING_HEADER } from '../router/replicas/replica-router.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface BridgeDrain {
  /** The bridge's handler: while draining, a request that would start a 2025 session gets 503 with the draining header. */
  wrap(handler: Handler): Handler;
  readonly draining: boolean;
  /**
   * From now on no new session; resolves once the bridge holds no session any more or the drain
   * period is over, whichever comes first (then the runtime's usual shutdown ends the rest).
   */
  drain(): Promise<void>;
  /**
   * Once the runtime is stopping (after the drain), what a request gets instead of the generic
   * 503: one of a session is 404, since the session ends with this process and 404 is what makes
   * a client initialize again (elsewhere); any other is 503 with the draining header, which the
   * router retries on another replica.
   */
  stopping(req: IncomingMessage, res: ServerResponse): boolean;
}

export interface BridgeDrainOptions {
  /** MCPGW_DRAIN_MS; 0 (compose) turns draining off: SIGTERM goes straight to the shutdown. */
  drainMs: number;
  /** Live 2025 sessions now (Bridge.sessionCount). */
  sessions: () => number;
  pollMs?: number;
}

/**
 * A bridge replica being replaced (a rolling update, a scale-down; swarm and Kubernetes send
 * SIGTERM and wait stop_grace_period / terminationGracePeriodSeconds): its sessions live in this
 * process, so it keeps serving them for the drain period while the router sends new sessions to
 * the other replicas. An `initialize` that still reaches it (the router's view of the replicas
 * is a second old) gets 503 with `Mcp-Gateway-Draining`, on which the router tries the next
 * replica with the same body; a client never sees it. 2026-07-28 requests are stateless and
 * still served (a multi-round request's state belongs to this process until it ends).
 */
export function createBridgeDrain({ drainMs, sessions, pollMs = 200 }: BridgeDrainOptions): BridgeDrain {
  let draining = false;
  const refuse = (res: ServerResponse): void => {
    res
      .writeHead(503, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', 'Retry-After': '1', [DRAINING_HEADER]: '1', Connection: 'close' })
      .end(JSON.stringify({ error: 'temporarily_unavailable', error_description: 'This replica is being replaced and takes no new session; retry.' }));
  };
  return {
    get draining() {
      return draining;
    },
    wrap(handler) {
      return (req, res) => {
        if (draining && startsSession(req)) {
          req.resume();
          refuse(res);
          return;
        }
        handler(req, res);
      };
    },
    stopping(req, res) {
      req.resume();
      if (req.headers['mcp-session-id'] === undefined) refuse(res);
      else replyJsonRpcError(res, 404, SESSION_NOT_FOUND, 'Session not found: this replica is stopping and its sessions end with it; initialize again');
      return true;
    },
    async drain() {
      draining = true;
      const deadline = Date.now() + drainMs;
      while (sessions() > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, deadline - Date.now())));
    },
  };
}

function startsSession(req: IncomingMessage): boolean {
  if (req.method !== 'POST' || req.headers['mcp-session-id'] !== undefined) return false;
  const version = req.headers['mcp-protocol-version'];
  return !(typeof version === 'string' && isModernVersion(version));
}
