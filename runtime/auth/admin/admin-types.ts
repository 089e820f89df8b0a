/**
 * What `mcp-gateway clients` and `tokens` work with. One shape whether the CLI reaches the
 * state through a running gateway's admin API (admin-http-client.ts) or opens the store itself
 * (admin-service.ts): the API sends these documents as they are, and `--json` prints them.
 * Times are ISO 8601 strings; absent values are null, so every key is always present.
 */

/** A grant: one family of tokens from one authorization (token-families.ts). */
export interface GrantSummary {
  familyId: string;
  clientId: string | null;
  /** The login the user signed in with (GitHub login, OpenID Connect email or username). */
  user: string | null;
  /** Token subject: the provider's immutable id (`github:12345`, `oidc:...`, `local:demo`); on grants from before ids, the login lowercased. */
  sub: string | null;
  /** The MCP endpoint the grant's tokens are for. */
  resource: string | null;
  scope: string | null;
  createdAt: string | null;
  lastRefreshedAt: string | null;
  revoked: boolean;
  revokedAt: string | null;
  revokedReason: string | null;
}

export interface ClientSummary {
  clientId: string;
  clientName: string | null;
  redirectUris: string[];
  tokenEndpointAuthMethod: string;
  registeredAt: string;
  /** When it last obtained tokens; null if never. */
  lastUsedAt: string | null;
  /** Grants of this client that are not revoked. */
  activeGrants: number;
}

export interface ClientDetail extends ClientSummary {
  clientUri: string | null;
  scope: string | null;
  grantTypes: string[];
  grants: GrantSummary[];
}

export interface RemovedClient {
  clientId: string;
  clientName: string | null;
  /** Grants revoked with it. */
  revokedGrants: number;
}

export interface PruneOptions {
  /** Registered but never used for this long (default: clients.unusedTtl). */
  unusedForMs?: number | undefined;
  /** Used, but not for this long (default: clients.idleTtl). */
  idleForMs?: number | undefined;
  /** Report what would be removed, remove nothing. */
  dryRun?: boolean | undefined;
}

export interface PrunedClient extends RemovedClient {
  reason: 'unused' | 'idle';
  registeredAt: string;
  lastUsedAt: string | null;
}

export interface PruneReport {
  dryRun: boolean;
  unusedForMs: number;
  idleForMs: number;
  clients: PrunedClient[];
}

export interface GrantFilter {
  /**
   * A login (case-insensitive) or a token subject. A GitHub login can be renamed and then taken
   * by someone else: a subject (`github:12345`) names exactly one account.
   */
  user?: string | undefined;
  client?: string | undefined;
}

export interface RevokeFilter extends GrantFilter {
  family?: string | undefined;
}

export interface RevokeReport {
  /** Families revoked by this call. */
  revoked: string[];
  /** Families that matched but were revoked already. */
  alreadyRevoked: number;
}

/** The operations behind `/admin/*` and the CLI. Unknown ids are GatewayErrors ERR_CLIENT_UNKNOWN / ERR_GRANT_UNKNOWN. */
/** A user's grant at a remote server with its own OAuth (servers.NAME.oauth), as the vault holds it: no token. */
export interface ConnectionSummary {
  /** The token subject of the gateway user (`github:12345`). */
  user: string;
  /** Logins that subject signed in with at the gateway (from its grants), when known. */
  logins: string[];
  server: string;
  issuer: string;
  scope: string | null;
  /** When the current upstream access token expires; null when the upstream did not say. */
  expiresAt: string | null;
  grantedAt: string;
  refreshedAt: string | null;
  /** A refresh token is held: the connection outlives its access token. */
  refreshable: boolean;
}

export interface ConnectionFilter {
  /** A login (case-insensitive, through the user's grants at the gateway) or a token subject. */
  user?: string | undefined;
  server?: string | undefined;
}

export interface ConnectionRevokeReport {
  revoked: Array<{
    user: string;
    server: string;
    /** What the upstream said: revoked (RFC 7009), no-endpoint (it has none: the tokens are only forgotten), failed, skipped (nothing to send). */
    upstream: 'revoked' | 'no-endpoint' | 'failed' | 'skipped';
    failures: string[];
  }>;
}

export interface AdminOps {
  listClients(): Promise<ClientSummary[]>;
  showClient(clientId: string): Promise<ClientDetail>;
  /** RFC 7592 DELETE by an operator: every grant of the client revoked, then the client forgotten. */
  removeClient(clientId: string): Promise<RemovedClient>;
  pruneClients(options: PruneOptions): Promise<PruneReport>;
  listGrants(filter: GrantFilter): Promise<GrantSummary[]>;
  /** At least one filter; several narrow each other (user AND client AND family). */
  revokeGrants(filter: RevokeFilter): Promise<RevokeReport>;
  /** One access token, until it would have expired anyway (`smoke` revokes the tokens it minted). */
  revokeAccessToken(jti: string, expiresAt: number): Promise<void>;
  /** Users' grants at remote servers with their own OAuth. */
  listConnections(filter: ConnectionFilter): Promise<ConnectionSummary[]>;
  /** Ends them: revoked at the upstream when it has RFC 7009, forgotten here in any case. A user is required. */
  revokeConnections(filter: ConnectionFilter & { user: string }): Promise<ConnectionRevokeReport>;
}
