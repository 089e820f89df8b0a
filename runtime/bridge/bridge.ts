import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LiveSession } from '../auth/admin/live-servers.js';
import type { ServerHealth } from './cached-health.js';

/**
 * The seam between the router and an MCP server: a stdio bridge (streamable-http-bridge.ts), a
 * remote proxy (remote-proxy.ts), or, in the router container, a reverse proxy to a bridge
 * container. Kept alone, as the MCP SDK keeps `Transport`, so implementations import it and
 * callers never reach into one of them.
 */
export interface Bridge {
  /** One HTTP request to the server's MCP endpoint (any method). Never rejects. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Ends every session and its child; resolves when all children have exited. */
  close(): Promise<void>;
  /** Whether the server answers initialize; cached, so cheap to call often. */
  health(): Promise<ServerHealth>;
  readonly sessionCount: number;
  /** The live MCP sessions (2025 revisions), for the admin page and `status` (never their events or anything the client sent). */
  sessions(): LiveSession[];
  /** Ends session `id`, whoever owns it (an admin's "end session"); false when there is none. */
  endSession(id: string): Promise<boolean>;
  /** Server processes running for this server (sessions', the warm pool's, 2026 per-user ones); 0 for a remote server. */
  readonly childCount: number;
}

/** All the router needs of a server: where a request goes once ForwardAuth admitted it. */
export type McpEndpoint = Pick<Bridge, 'handle'>;
