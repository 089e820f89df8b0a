/**
 * What the admin page and GET /admin/status may see and do of the running servers: health and
 * sessions, and ending one session. Read-only otherwise, so the auth runtime never starts,
 * stops or reconfigures a server. `serve` passes its bridges (runtime/gateway.ts), which have
 * this shape (runtime/bridge/bridge.ts; the compiler checks it where they are passed); the auth
 * container of a Docker deployment has none and passes nothing. Declared here rather than
 * imported, so runtime/auth does not depend on runtime/bridge, which depends on it.
 */
export interface LiveServer {
  health(): Promise<{ ok: boolean; detail: string }>;
  sessions(): LiveSession[];
  /** False when there is no such session. */
  endSession(id: string): Promise<boolean>;
}

/** One live MCP session as an operator sees it (Bridge.sessions()). */
export interface LiveSession {
  id: string;
  /** The token subject that owns it (`github:1001`). */
  sub: string;
  login: string;
  /** `Date.now()` values. */
  startedAt: number;
  lastActive: number;
}

/** A function, not the map: a reload replaces the bridges. Keyed by configured server name. */
export type LiveServers = () => ReadonlyMap<string, LiveServer>;
