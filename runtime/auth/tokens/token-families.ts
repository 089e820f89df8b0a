import type { Store } from '../../store/store.js';
import { randomToken, sha256Base64url } from '../crypto-helpers.js';
import type { UpstreamCredential, UserIdentity } from './grants.js';

/** What a refresh token stands for. Every token rotated from one authorization shares a family. */
export interface RefreshGrant {
  clientId: string;
  resource: string;
  scope?: string;
  user: UserIdentity;
  familyId: string;
  upstream?: UpstreamCredential;
}

/** Left behind when a refresh token is rotated, so a second use can be recognised (reuse detection). */
interface SupersededRefresh {
  clientId: string;
  familyId: string;
  usedAt: number;
  /** Hash of the token issued in its place. */
  successor: string;
  /** False for a successor retired after a lost response: its holder is not the legitimate client. */
  graceable: boolean;
}

/**
 * What operators see of a family (`mcp-gateway tokens list`): kept under `family:<id>` as long
 * as its refresh tokens can live, i.e. the refresh lifetime from the last refresh.
 */
export interface FamilyRecord {
  familyId: string;
  clientId: string;
  sub: string;
  login: string;
  resource: string;
  scope?: string;
  /** Epoch milliseconds. */
  createdAt: number;
  refreshedAt?: number;
}

/** Why and when a family was revoked (the `revoked-family:<id>` marker). */
export interface FamilyRevocation {
  reason: string;
  at: number;
}

export type RefreshRedemption =
  | { status: 'ok'; grant: RefreshGrant; hash: string }
  | { status: 'superseded'; clientId: string; familyId: string; usedAt: number; successor: string; graceable: boolean }
  | { status: 'unknown' };

/**
 * Grant families and revocation. A family is everything issued from one authorization code:
 * its refresh tokens (rotated on each use) and the access tokens (which carry the family id as
 * `fid`). Revoking a family is one marker that /verify and the token endpoint check, so a
 * replayed code, a reused refresh token, a revoked token or a deleted client ends all of it.
 * Indexes by client and user let RFC 7592 DELETE and operators revoke in bulk; the family
 * record (`family:<id>`) is what operators list.
 */
export function createTokenFamilies(store: Store, { now, refreshTtlMs }: { now: () => number; refreshTtlMs: number }) {
  const ttl = { ttlMs: refreshTtlMs };
  return {
    async start(clientId: string, user: { sub: string; login: string }, grant: { resource: string; scope?: string | undefined }): Promise<string> {
      const familyId = randomToken(16);
      const record: FamilyRecord = {
        familyId,
        clientId,
        sub: user.sub,
        login: user.login,
        resource: grant.resource,
        createdAt: now(),
        ...(grant.scope === undefined ? {} : { scope: grant.scope }),
      };
      await Promise.all([
        store.addToSet(`client-families:${clientId}`, familyId, ttl),
        store.addToSet(`user-families:${user.sub}`, familyId, ttl),
        store.set(`family:${familyId}`, record, ttl),
      ]);
      return familyId;
    },
    /**
     * A refresh: the record and the indexes live another refresh lifetime, like the refresh token
     * just issued. Without renewing the indexes, a grant refreshed for longer than the refresh
     * lifetime would drop out of them and escape revocation by client or user. `user` is who the
     * refresh was for: its subject may have moved from a login to an id, its login been renamed.
     */
    async touch(familyId: string, user?: { sub: string; login: string }): Promise<void> {
      const stored = await store.get<FamilyRecord>(`family:${familyId}`);
      if (!stored) return;
      const record = user === undefined ? stored : { ...stored, sub: user.sub, login: user.login };
      await Promise.all([
        store.set(`family:${familyId}`, { ...record, refreshedAt: now() }, ttl),
        store.addToSet(`client-families:${record.clientId}`, familyId, ttl),
        store.addToSet(`user-families:${record.sub}`, familyId, ttl),
      ]);
    },
    async record(familyId: string): Promise<FamilyRecord | undefined> {
      return store.get<FamilyRecord>(`family:${familyId}`);
    },
    async revocation(familyId: string): Promise<FamilyRevocation | undefined> {
      return store.get<FamilyRevocation>(`revoked-family:${familyId}`);
    },
    /** Ids of every family with a record (admin listings; scans the store). */
    async recordedIds(): Promise<string[]> {
      return (await store.keys('family:')).map((key) => key.slice('family:'.length));
    },
    /** The families indexed for a user or a client (also those started before records existed). */
    async indexedIds(index: { sub: string } | { clientId: string }): Promise<string[]> {
      return store.setMembers('sub' in index ? `user-families:${index.sub}` : `client-families:${index.clientId}`);
    },
    async isRevoked(familyId: string): Promise<boolean> {
      return (await store.get(`revoked-family:${familyId}`)) !== undefined;
    },
    async revoke(familyId: string, reason: string): Promise<void> {
      await store.set(`revoked-family:${familyId}`, { reason, at: now() }, ttl);
    },
    /** Every family ever started for this client (within the refresh lifetime); returns how many. */
    async revokeClient(clientId: string, reason: string): Promise<number> {
      const families = await store.setMembers(`client-families:${clientId}`);
      await Promise.all(families.map((f) => this.revoke(f, reason)));
      await store.delete(`client-families:${clientId}`);
      return families.length;
    },
    async revokeUser(sub: string, reason: string): Promise<number> {
      const families = await store.setMembers(`user-families:${sub}`);
      await Promise.all(families.map((f) => this.revoke(f, reason)));
      return families.length;
    },
    /** An access token revoked on its own (RFC 7009): remembered until it would have expired anyway. */
    async revokeAccessToken(jti: string, expiresAt: number): Promise<void> {
      const remaining = expiresAt - now();
      if (remaining > 0) await store.set(`revoked-jti:${jti}`, 1, { ttlMs: remaining });
    },
    async isAccessTokenRevoked(jti: string, familyId: string | undefined): Promise<boolean> {
      const [byJti, byFamily] = await Promise.all([
        store.get(`revoked-jti:${jti}`),
        familyId === undefined ? undefined : store.get(`revoked-family:${familyId}`),
      ]);
      return byJti !== undefined || byFamily !== undefined;
    },

    async issueRefreshToken(grant: RefreshGrant): Promise<{ token: string; hash: string }> {
      const token = randomToken(32);
      const hash = sha256Base64url(token);
      await store.set(`refresh:${hash}`, grant, ttl);
      return { token, hash };
    },
    /**
     * Says what a presented refresh token is; nothing changes until `rotateRefreshToken` claims it.
     * The superseded marker is read first and wins: after a crash between a claim and the deletion
     * of the claimed token both exist, and the token must stay dead (see `rotateRefreshToken`).
     */
    async redeemRefreshToken(token: string): Promise<RefreshRedemption> {
      if (token.length === 0 || token.length > 200) return { status: 'unknown' };
      const hash = sha256Base64url(token);
      const [superseded, grant] = await Promise.all([store.get<SupersededRefresh>(`refresh-used:${hash}`), store.get<RefreshGrant>(`refresh:${hash}`)]);
      if (superseded) return { status: 'superseded', ...superseded };
      return grant ? { status: 'ok', grant, hash } : { status: 'unknown' };
    },
    /**
     * Rotation: stores the successor and claims the presented token (its `refresh-used:` marker,
     * set only if absent, so of racing rotations one wins), then deletes it. Undefined when another
     * rotation claimed it first. The order is what survives a kill -9 (issue 10): the token used to
     * be taken out of the store first and its successor written in later transactions, so a crash
     * in between left the client's only token gone with nothing in its place and the user had to
     * log in again. Now, at every point, either the presented token still works or its marker names
     * a stored successor, which the lost-response grace hands out when the client retries.
     */
    async rotateRefreshToken(presentedHash: string, grant: RefreshGrant, graceable: boolean): Promise<{ token: string; hash: string } | undefined> {
      const token = randomToken(32);
      const hash = sha256Base64url(token);
      const marker: SupersededRefresh = { clientId: grant.clientId, familyId: grant.familyId, usedAt: now(), successor: hash, graceable };
      // One store round (one SQLite transaction; in order on one Redis connection): a committed claim implies a committed successor.
      const [, claimed] = await Promise.all([store.set(`refresh:${hash}`, grant, ttl), store.setIfAbsent(`refresh-used:${presentedHash}`, marker, ttl)]);
      if (!claimed) {
        await store.delete(`refresh:${hash}`);
        return undefined;
      }
      await store.delete(`refresh:${presentedHash}`);
      return { token, hash };
    },
    /** The grant of a successor the client may never have received, if it is still unused (the lost-response grace). */
    async unusedSuccessor(successor: string): Promise<RefreshGrant | undefined> {
      const [used, grant] = await Promise.all([store.get(`refresh-used:${successor}`), store.get<RefreshGrant>(`refresh:${successor}`)]);
      return used === undefined ? grant : undefined;
    },
    /** Deletes one refresh token by its plain value (RFC 7009) and says which family it belonged to. */
    async findRefreshToken(token: string): Promise<{ clientId: string; familyId: string; grant?: RefreshGrant } | undefined> {
      if (token.length === 0 || token.length > 200) return undefined;
      const hash = sha256Base64url(token);
      // The marker wins, as in redeemRefreshToken: a claimed token is superseded even if a crash kept it.
      const [superseded, grant] = await Promise.all([store.get<SupersededRefresh>(`refresh-used:${hash}`), store.get<RefreshGrant>(`refresh:${hash}`)]);
      if (superseded) return { clientId: superseded.clientId, familyId: superseded.familyId };
      return grant ? { clientId: grant.clientId, familyId: grant.familyId, grant } : undefined;
    },
  };
}

export type TokenFamilies = ReturnType<typeof createTokenFamilies>;
