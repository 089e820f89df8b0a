/**
 * One error class for everything the gateway reports to a person: a stable `code` that callers
 * switch on (tests assert on it, never on message text) and a `hint` that says what to do.
 * Programming mistakes by our own callers stay plain `TypeError`s (the jose convention).
 */
export type GatewayErrorCode =
  | 'ERR_USAGE'
  | 'ERR_CONFIG_NOT_FOUND'
  | 'ERR_CONFIG_INVALID'
  | 'ERR_CONFIG_EXISTS'
  // Another CLI command holds the project's config lock (runtime/config/project-lock.ts).
  | 'ERR_CONFIG_LOCKED'
  // A reloaded config changes what a running serve cannot take over (runtime/reload/).
  | 'ERR_RELOAD_REFUSED'
  | 'ERR_SECRET_MISSING'
  | 'ERR_SECRET_UNSAFE'
  // A secret file that exists but does not hold what it should (.secrets/session-key).
  | 'ERR_SECRET_INVALID'
  // `up --target swarm` on an engine that is not a swarm manager.
  | 'ERR_SWARM_UNAVAILABLE'
  | 'ERR_SERVER_UNKNOWN'
  /** `access check`: the policy denies the tool (the answer was printed; exit 1). */
  | 'ERR_ACCESS_DENIED'
  | 'ERR_SERVER_EXISTS'
  | 'ERR_USER_NOT_ALLOWED'
  | 'ERR_PORT_IN_USE'
  | 'ERR_UNHEALTHY'
  | 'ERR_LISTEN_FAILED'
  | 'ERR_STORE_UNREACHABLE'
  | 'ERR_STORE_CORRUPT'
  | 'ERR_KEYS_INVALID'
  | 'ERR_UPSTREAM_DENIED'
  | 'ERR_UPSTREAM_UNREACHABLE'
  | 'ERR_UPSTREAM_BAD_RESPONSE'
  // Per-user tokens for a remote MCP server's own OAuth (runtime/auth/upstream-oauth/): the user
  // never connected the server, or the server no longer accepts the grant (connect again).
  | 'ERR_UPSTREAM_NOT_CONNECTED'
  | 'ERR_UPSTREAM_REAUTH_REQUIRED'
  | 'ERR_PROVIDER_UNREACHABLE'
  // `mcp-gateway github register`: nobody came back from GitHub in time; a callback that is not ours.
  | 'ERR_REGISTRATION_TIMEOUT'
  | 'ERR_REGISTRATION_REFUSED'
  | 'ERR_BRIDGE_SPAWN_FAILED'
  // No OS sandbox (bubblewrap, sandbox-exec) for a stdio server that must run in one.
  | 'ERR_SANDBOX_UNAVAILABLE'
  // Docker deployment (`mcp-gateway up/down/status/logs`).
  | 'ERR_DOCKER_UNREACHABLE'
  | 'ERR_DOCKER_PORT_IN_USE'
  | 'ERR_DOCKER_NAME_CONFLICT'
  | 'ERR_DOCKER_BUILD_FAILED'
  | 'ERR_DOCKER_IMAGE_UNAVAILABLE'
  | 'ERR_DOCKER_START_FAILED'
  | 'ERR_DOCKER_REMOVE_FAILED'
  | 'ERR_DOCKER_UNHEALTHY'
  | 'ERR_DOCKER_INTERRUPTED'
  | 'ERR_COMPOSE_INVALID'
  | 'ERR_DEPLOY_NOT_RENDERED'
  | 'ERR_CIMD_INVALID'
  | 'ERR_CIMD_FETCH_FAILED'
  | 'ERR_CIMD_FORBIDDEN_TARGET'
  // A remote MCP server's own OAuth (runtime/auth/upstream-oauth/): its metadata, the address it
  // sends us to, getting a client registered there.
  | 'ERR_UPSTREAM_OAUTH_DISCOVERY'
  | 'ERR_UPSTREAM_OAUTH_FORBIDDEN_TARGET'
  | 'ERR_UPSTREAM_OAUTH_CLIENT'
  // The browser came back from a remote server's sign-in with a state the gateway does not hold (expired, used, forged).
  | 'ERR_UPSTREAM_OAUTH_STATE'
  // Administration (`clients`, `tokens`, `smoke`) and the embedded store's lock.
  | 'ERR_STORE_LOCKED'
  | 'ERR_GATEWAY_UNREACHABLE'
  | 'ERR_ADMIN_UNAVAILABLE'
  | 'ERR_ADMIN_DENIED'
  | 'ERR_ADMIN_FAILED'
  | 'ERR_CLIENT_UNKNOWN'
  | 'ERR_GRANT_UNKNOWN'
  | 'ERR_SMOKE_FAILED';

export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  readonly code: GatewayErrorCode;
  readonly hint: string | undefined;
  /**
   * The command already printed its result on stdout (a report that names the failure, as
   * `doctor --json` and `smoke --json` do): `--json` prints no second document after it.
   */
  readonly reported: boolean;

  constructor(code: GatewayErrorCode, message: string, options: { hint?: string | undefined; cause?: unknown; reported?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.reported = options.reported ?? false;
  }
}

export function isGatewayError(err: unknown): err is GatewayError {
  return err instanceof GatewayError;
}
