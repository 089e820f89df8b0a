import type { AuditLog } from '../audit-log.js';
import { createClientRegistry, type ClientLifetimes, type ClientRecord, type ClientRegistry } from '../clients/client-registry.js';
import { createTokenFamilies, type TokenFamilies } from '../tokens/token-families.js';
import type { GatewayConfig } from '../../config/schema.js';
import { GatewayError } from '../../errors.js';
import type { Store } from '../../store/store.js';
import type {
  AdminOps,
  ClientDetail,
  ClientSummary,
  GrantFilter,
  GrantSummary,
  PruneOptions,
  PruneReport,
  PrunedClient,
  RemovedClient,
  RevokeFilter,
  RevokeReport,
} from './admin-types.js';
import { createConnectionOps } from './admin-connections.js';
import { createUpstreamTokenVault, type UpstreamTokenVault } from '../upstream-oauth/upstream-token-vault.js';
import { createSealedBox } from '../sealed-box.js';
import { silentLogger } from '../../logger.js';
import { guardedUpstreamPost } from '../upstream-oauth/upstream-oauth.js';

export interface AdminServiceDeps {
  clients: ClientRegistry;
  families: TokenFamilies;
  now: () => number;
  lifetimes: ClientLifetimes;
  /** Present in the gateway (its audit log); the CLI on an opened store prints what it did instead. */
  audit?: AuditLog;
  /** Users' upstream grants (servers.NAME.oauth); absent without the state key that opens them. */
  vault?: UpstreamTokenVault | undefined;
}

/** Why an operator's revocation happened, in the revocation marker and the audit log. */
const BY_OPERATOR = 'revoked by an operator';

/**
 * The admin operations on the gateway's state, shared by the admin API (in the auth runtime)
 * and by the CLI when it opens the store itself (no gateway running).
 */
export function createAdminService({ clients, families, now, lifetimes, audit = () => {}, vault }: AdminServiceDeps): AdminOps {
  async function describeFamily(familyId: string, known: { sub?: string; clientId?: string }): Promise<GrantSummary> {
    const [record, revocation] = await Promise.all([families.record(familyId), families.revocation(familyId)]);
    return {
      familyId,
      clientId: record?.clientId ?? known.clientId ?? null,
      user: record?.login ?? null,
      sub: record?.sub ?? known.sub ?? null,
      resource: record?.resource ?? null,
      scope: record?.scope ?? null,
      createdAt: iso(record?.createdAt),
      lastRefreshedAt: iso(record?.refreshedAt),
      revoked: revocation !== undefined,
      revokedAt: iso(revocation?.at),
      revokedReason: revocation?.reason ?? null,
    };
  }

  async function listGrants(filter: GrantFilter): Promise<GrantSummary[]> {
    // Records cover every family since they exist; the indexes add older ones for a named user or client.
    const known = new Map<string, { sub?: string; clientId?: string }>((await families.recordedIds()).map((id) => [id, {}]));
    if (filter.user !== undefined) {
      for (const sub of subjectsFor(filter.user)) for (const id of await families.indexedIds({ sub })) known.set(id, { ...known.get(id), sub });
    }
    if (filter.client !== undefined) {
      for (const id of await families.indexedIds({ clientId: filter.client })) known.set(id, { ...known.get(id), clientId: filter.client });
    }
    const grants = await Promise.all([...known].map(([id, hint]) => describeFamily(id, hint)));
    return grants.filter((g) => matches(g, filter)).sort(byNewest);
  }

  async function registered(clientId: string): Promise<ClientRecord> {
    const record = await clients.getRegistered(clientId);
    if (!record)
      throw new GatewayError('ERR_CLIENT_UNKNOWN', `no registered client ${JSON.stringify(clientId.slice(0, 200))}`, {
        hint: 'list them with `mcp-gateway clients list`',
      });
    return record;
  }

  async function revokeAll(grants: GrantSummary[], fields: Record<string, string>): Promise<RevokeReport> {
    const live = grants.filter((g) => !g.revoked);
    await Promise.all(live.map((g) => families.revoke(g.familyId, BY_OPERATOR)));
    for (const g of live)
      audit('family_revoked', { reason: BY_OPERATOR, familyId: g.familyId, clientId: g.clientId ?? undefined, login: g.user ?? undefined, ...fields });
    return { revoked: live.map((g) => g.familyId), alreadyRevoked: grants.length - live.length };
  }

  async function remove(record: ClientRecord, why: string): Promise<RemovedClient> {
    // Revoke first: once the record is gone nothing could find the client's grants by it.
    const { revoked } = await revokeAll(await listGrants({ client: record.clientId }), { by: why });
    await clients.remove(record.clientId);
    audit('client_deleted', { clientId: record.clientId, revokedGrants: revoked.length, by: why });
    return { clientId: record.clientId, clientName: record.clientName ?? null, revokedGrants: revoked.length };
  }

  return {
    async listClients() {
      const [records, grants] = await Promise.all([clients.listRegistered(), listGrants({})]);
      const active = new Map<string, number>();
      for (const g of grants) if (!g.revoked && g.clientId !== null) active.set(g.clientId, (active.get(g.clientId) ?? 0) + 1);
      return records
        .map((r) => summarise(r, active.get(r.clientId) ?? 0))
        .sort((a, b) => (a.registeredAt < b.registeredAt ? 1 : a.registeredAt > b.registeredAt ? -1 : 0));
    },

    async showClient(clientId) {
      const record = await registered(clientId);
      const grants = await listGrants({ client: clientId });
      const detail: ClientDetail = {
        ...summarise(record, grants.filter((g) => !g.revoked).length),
        clientUri: record.clientUri ?? null,
        scope: record.scope ?? null,
        grantTypes: record.grantTypes,
        grants,
      };
      return detail;
    },

    async removeClient(clientId) {
      return remove(await registered(clientId), 'operator');
    },

    async pruneClients({ unusedForMs = lifetimes.unusedTtlMs, idleForMs = lifetimes.idleTtlMs, dryRun = false }: PruneOptions): Promise<PruneReport> {
      const at = now();
      const pruned: PrunedClient[] = [];
      for (const record of await clients.listRegistered()) {
        const reason =
          record.lastUsedAt === undefined
            ? record.issuedAt * 1000 <= at - unusedForMs
              ? 'unused'
              : undefined
            : record.lastUsedAt <= at - idleForMs
              ? 'idle'
              : undefined;
        if (reason === undefined) continue;
        const removed = dryRun
          ? { clientId: record.clientId, clientName: record.clientName ?? null, revokedGrants: 0 }
          : await remove(record, `prune (${reason})`);
        pruned.push({ ...removed, reason, registeredAt: iso(record.issuedAt * 1000)!, lastUsedAt: iso(record.lastUsedAt) });
      }
      return { dryRun, unusedForMs, idleForMs, clients: pruned };
    },

    listGrants,

    async revokeGrants(filter: RevokeFilter) {
      if (filter.user === undefined && filter.client === undefined && filter.family === undefined)
        throw new TypeError('revokeGrants needs a user, a client or a family');
      let grants: GrantSummary[];
      if (filter.family !== undefined) {
        const grant = await describeFamily(filter.family, filter.client === undefined ? {} : { clientId: filter.client });
        if (grant.createdAt === null && !(await isIndexed(filter.family, filter))) {
          throw new GatewayError('ERR_GRANT_UNKNOWN', `no grant ${JSON.stringify(filter.family.slice(0, 200))}`, {
            hint: 'list them with `mcp-gateway tokens list`',
          });
        }
        grants = matches(grant, filter) ? [grant] : [];
      } else {
        grants = await listGrants(filter);
      }
      return revokeAll(grants, { by: 'operator' });
    },

    async revokeAccessToken(jti, expiresAt) {
      await families.revokeAccessToken(jti, expiresAt);
      audit('token_revoked', { type: 'access_token', jti, by: 'operator' });
    },
    ...createConnectionOps({ vault, listGrants, audit }),
  };

  /** A family without a record (started before records existed) is known only through an index. */
  async function isIndexed(familyId: string, filter: GrantFilter): Promise<boolean> {
    const indexes: Array<{ sub: string } | { clientId: string }> = [
      ...(filter.user === undefined ? [] : subjectsFor(filter.user).map((sub) => ({ sub }))),
      ...(filter.client === undefined ? [] : [{ clientId: filter.client }]),
    ];
    for (const index of indexes) if ((await families.indexedIds(index)).includes(familyId)) return true;
    return false;
  }
}

/** The service on a store the CLI opened itself, configured like the gateway that owns it. */
/**
 * The admin operations on a store the CLI opened itself (no gateway runs). With the state key
 * (`.secrets/state-key`) it also opens users' upstream grants, to list and revoke them.
 */
export function createStoreAdminService(config: GatewayConfig, store: Store, now: () => number = Date.now, stateKey?: Uint8Array): AdminOps {
  const lifetimes = { unusedTtlMs: config.clients.unusedTtl, idleTtlMs: config.clients.idleTtl };
  return createAdminService({
    clients: createClientRegistry(store, now, lifetimes),
    families: createTokenFamilies(store, { now, refreshTtlMs: config.tokens.refreshTokenTtl }),
    now,
    lifetimes,
    ...(stateKey === undefined
      ? {}
      : { vault: createUpstreamTokenVault({ store, sealedBox: createSealedBox(stateKey), logger: silentLogger(), now, post: guardedUpstreamPost(config) }) }),
  });
}

/** Index keys a filter may name: a subject as given, and a login lowercased (the subject of grants from before ids). */
function subjectsFor(user: string): string[] {
  return [...new Set([user, user.toLowerCase()])];
}

function matches(grant: GrantSummary, filter: GrantFilter): boolean {
  if (filter.client !== undefined && grant.clientId !== filter.client) return false;
  if (filter.user !== undefined) {
    const wanted = filter.user.toLowerCase();
    const byLogin = grant.user !== null && grant.user.toLowerCase() === wanted;
    const bySub = grant.sub !== null && (grant.sub === filter.user || grant.sub === wanted);
    if (!byLogin && !bySub) return false;
  }
  return true;
}

function summarise(record: ClientRecord, activeGrants: number): ClientSummary {
  return {
    clientId: record.clientId,
    clientName: record.clientName ?? null,
    redirectUris: record.redirectUris,
    tokenEndpointAuthMethod: record.tokenEndpointAuthMethod,
    registeredAt: iso(record.issuedAt * 1000)!,
    lastUsedAt: iso(record.lastUsedAt),
    activeGrants,
  };
}

function byNewest(a: GrantSummary, b: GrantSummary): number {
  return (b.createdAt ?? '').localeCompare(a.createdAt ?? '');
}

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}
