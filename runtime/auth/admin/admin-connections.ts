import type { AuditLog } from '../audit-log.js';
import type { UpstreamTokenVault } from '../upstream-oauth/upstream-token-vault.js';
import type { AdminOps, ConnectionFilter, ConnectionSummary, GrantFilter, GrantSummary } from './admin-types.js';

export interface ConnectionOpsDeps {
  /** Absent where the state key is not at hand: then there is nothing to list and nothing to revoke. */
  vault: UpstreamTokenVault | undefined;
  /** The gateway's grants, to tell a login's subjects (the vault keys by subject) and a subject's logins. */
  listGrants(filter: GrantFilter): Promise<GrantSummary[]>;
  audit?: AuditLog;
}

/**
 * `mcp-gateway connections` and `/admin/connections`: users' grants at remote servers with
 * their own OAuth (servers.NAME.oauth), listed without tokens, and ended (revoked at the
 * upstream when it can, forgotten here in any case). The vault keys grants by token subject;
 * a login names every subject that signed in with it (a renamed GitHub login may be someone
 * else's since: its grants' subjects say whose).
 */
export function createConnectionOps({ vault, listGrants, audit = () => {} }: ConnectionOpsDeps): Pick<AdminOps, 'listConnections' | 'revokeConnections'> {
  async function subjectsOf(user: string): Promise<Set<string>> {
    const grants = await listGrants({ user });
    return new Set([user, ...grants.flatMap((grant) => (grant.sub === null ? [] : [grant.sub]))]);
  }

  async function listConnections(filter: ConnectionFilter): Promise<ConnectionSummary[]> {
    if (vault === undefined) return [];
    const subjects = filter.user === undefined ? undefined : await subjectsOf(filter.user);
    const all = await vault.list();
    const chosen = all.filter(
      (grant) => (subjects === undefined || subjects.has(grant.user)) && (filter.server === undefined || grant.server === filter.server),
    );
    const logins = new Map<string, string[]>();
    for (const grant of await listGrants({})) {
      if (grant.sub === null || grant.user === null) continue;
      const known = logins.get(grant.sub) ?? [];
      if (!known.includes(grant.user)) logins.set(grant.sub, [...known, grant.user]);
    }
    const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());
    return chosen
      .map((grant) => ({
        user: grant.user,
        logins: logins.get(grant.user) ?? [],
        server: grant.server,
        issuer: grant.issuer,
        scope: grant.scope ?? null,
        expiresAt: iso(grant.expiresAt),
        grantedAt: new Date(grant.grantedAt).toISOString(),
        refreshedAt: iso(grant.refreshedAt),
        refreshable: grant.refreshable,
      }))
      .sort((a, b) => (a.user + a.server < b.user + b.server ? -1 : 1));
  }

  return {
    listConnections,
    async revokeConnections(filter) {
      const revoked = [];
      for (const connection of await listConnections(filter)) {
        const result = await vault!.revoke(connection.user, connection.server);
        if (!result.removed) continue;
        audit('upstream_revoked', { sub: connection.user, server: connection.server, upstream: result.upstream, reason: 'revoked by an operator' });
        revoked.push({ user: connection.user, server: connection.server, upstream: result.upstream, failures: result.failures });
      }
      return { revoked };
    },
  };
}
