import { isGatewayError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { Store } from '../../store/store.js';
import type { CimdResolver } from './cimd/cimd-resolver.js';
import type { ApplicationType } from './redirect-uri-policy.js';
import { forgetClientConsents, newConsentEpoch } from '../consent/consents.js';
import { constantTimeEqual, randomToken, sha256Base64url } from '../crypto-helpers.js';

export type TokenEndpointAuthMethod = 'none' | 'client_secret_basic' | 'client_secret_post';

/** A registered client as stored: its secret and registration access token only as hashes. */
export interface ClientRecord {
  clientId: string;
  clientSecretHash?: string;
  /** RFC 7592 §3: the bearer credential for GET/PUT/DELETE at the client's configuration URI. */
  registrationAccessTokenHash?: string;
  clientName?: string;
  clientUri?: string;
  logoUri?: string;
  redirectUris: string[];
  grantTypes: string[];
  responseTypes: string[];
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  scope?: string;
  /** As the client stated it (OIDC Registration §2); absent when it did not, which 2025 clients never do. */
  applicationType?: ApplicationType;
  /** Seconds since the epoch (RFC 7591 §3.2.1). */
  issuedAt: number;
  /** Milliseconds; set once the client has obtained a token. */
  lastUsedAt?: number;
  /** A client identified by a metadata document URL (CIMD) rather than registered here. */
  metadataDocument?: boolean;
  /**
   * Remembered consents hold it (consents.ts); a new one on every RFC 7592 update, so no approval
   * of the old metadata (name, redirect URIs) carries over. Absent on records from before it existed.
   */
  consentEpoch?: string;
}

export type ClientMetadata = Omit<
  ClientRecord,
  'clientId' | 'clientSecretHash' | 'registrationAccessTokenHash' | 'issuedAt' | 'lastUsedAt' | 'metadataDocument' | 'consentEpoch'
>;

export interface ClientLifetimes {
  /** Registered but never used: forgotten after this. */
  unusedTtlMs: number;
  /** Used: forgotten after this long without using the token endpoint. */
  idleTtlMs: number;
}

const key = (clientId: string): string => `client:${clientId}`;

/**
 * Registered clients. Reaping is the store's own expiry: a new client lives `unusedTtl`, each
 * use of the token endpoint extends it to `idleTtl`. No sweep job, no cross-client effects:
 * forgetting one client touches nothing of any other.
 */
export function createClientRegistry(
  store: Store,
  now: () => number,
  lifetimes: ClientLifetimes,
  metadataDocuments?: { resolver: CimdResolver; logger: Logger },
) {
  /**
   * A client_id that is an https URL names a Client ID Metadata Document (MCP 2025-11-25): the
   * client is whatever that document says, fetched through the SSRF-guarded resolver and cached
   * by HTTP cache headers; nothing is stored. Returns the reason when the document is unusable.
   */
  async function lookup(clientId: string): Promise<{ client: ClientRecord } | { problem: string }> {
    if (clientId.length === 0 || clientId.length > 2000) return { problem: 'unknown client_id' };
    if (metadataDocuments?.resolver.isCimdClientId(clientId)) {
      try {
        const doc = await metadataDocuments.resolver.resolve(clientId);
        return {
          client: {
            clientId: doc.clientId,
            redirectUris: doc.redirectUris,
            grantTypes: doc.grantTypes,
            responseTypes: doc.responseTypes,
            tokenEndpointAuthMethod: 'none',
            issuedAt: 0,
            metadataDocument: true,
            // Nothing is stored for a document client, so its epoch is what its page shows: a
            // document that renames the client or changes its links is asked about again.
            consentEpoch: sha256Base64url(JSON.stringify([doc.clientName ?? null, doc.clientUri ?? null, doc.logoUri ?? null])),
            ...(doc.clientName === undefined ? {} : { clientName: doc.clientName }),
            ...(doc.clientUri === undefined ? {} : { clientUri: doc.clientUri }),
            ...(doc.logoUri === undefined ? {} : { logoUri: doc.logoUri }),
            ...(doc.scope === undefined ? {} : { scope: doc.scope }),
            ...(doc.applicationType === undefined ? {} : { applicationType: doc.applicationType }),
          },
        };
      } catch (err) {
        if (!isGatewayError(err)) throw err;
        metadataDocuments.logger.info({ event: 'client_metadata_document_refused', clientId, code: err.code, reason: err.message });
        return { problem: err.message };
      }
    }
    const client = await store.get<ClientRecord>(key(clientId));
    return client ? { client } : { problem: 'unknown client_id' };
  }

  return {
    lookup,
    async register(metadata: ClientMetadata): Promise<{ record: ClientRecord; clientSecret?: string; registrationAccessToken: string }> {
      const clientId = newClientId();
      const clientSecret = metadata.tokenEndpointAuthMethod === 'none' ? undefined : randomToken(32);
      const registrationAccessToken = randomToken(32);
      const record: ClientRecord = {
        ...metadata,
        clientId,
        issuedAt: Math.floor(now() / 1000),
        consentEpoch: newConsentEpoch(),
        registrationAccessTokenHash: sha256Base64url(registrationAccessToken),
        ...(clientSecret === undefined ? {} : { clientSecretHash: sha256Base64url(clientSecret) }),
      };
      await store.set(key(clientId), record, { ttlMs: lifetimes.unusedTtlMs });
      return clientSecret === undefined ? { record, registrationAccessToken } : { record, clientSecret, registrationAccessToken };
    },
    async get(clientId: string): Promise<ClientRecord | undefined> {
      const found = await lookup(clientId);
      return 'client' in found ? found.client : undefined;
    },
    /** Clients registered here (RFC 7591), never metadata-document clients: for RFC 7592 management. */
    async getRegistered(clientId: string): Promise<ClientRecord | undefined> {
      if (clientId.length === 0 || clientId.length > 200) return undefined;
      return store.get<ClientRecord>(key(clientId));
    },
    /**
     * RFC 7592 PUT: new metadata, same id, secret and registration access token. A new secret is
     * issued when a public client becomes confidential. Every consent given to the client is
     * forgotten (new epoch, old ones deleted): the user approved what the old metadata said.
     */
    async update(current: ClientRecord, metadata: ClientMetadata): Promise<{ record: ClientRecord; clientSecret?: string }> {
      const needsSecret = metadata.tokenEndpointAuthMethod !== 'none' && current.clientSecretHash === undefined;
      const clientSecret = needsSecret ? randomToken(32) : undefined;
      // RFC 7592 §2.2: a member the update omits is gone, not kept from the old metadata.
      const { clientName: _n, clientUri: _u, logoUri: _l, scope: _s, applicationType: _a, ...kept } = current;
      const record: ClientRecord = {
        ...kept,
        ...metadata,
        consentEpoch: newConsentEpoch(),
        ...(clientSecret === undefined ? {} : { clientSecretHash: sha256Base64url(clientSecret) }),
      };
      if (metadata.tokenEndpointAuthMethod === 'none') delete record.clientSecretHash;
      await store.set(key(current.clientId), record, { ttlMs: record.lastUsedAt === undefined ? lifetimes.unusedTtlMs : lifetimes.idleTtlMs });
      await forgetClientConsents(store, current.clientId);
      return clientSecret === undefined ? { record } : { record, clientSecret };
    },
    /** Every client registered here (admin listings and pruning; scans the store). */
    async listRegistered(): Promise<ClientRecord[]> {
      const keys = await store.keys('client:');
      const records = await Promise.all(keys.map((k) => store.get<ClientRecord>(k)));
      return records.filter((r): r is ClientRecord => r !== undefined);
    },
    /**
     * RFC 7592 DELETE, admin removal and pruning all end here, so each forgets the client's
     * consents. A client the store expires (reaping) leaves its consents to their own expiry:
     * client ids are random and never reissued, so nothing can use them again.
     */
    async remove(clientId: string): Promise<boolean> {
      const removed = await store.delete(key(clientId));
      await forgetClientConsents(store, clientId);
      return removed;
    },
    /**
     * Called when the client obtains tokens: keeps it alive for another idle period. The record is
     * read again, not written back from `record` (read when the token request began): an RFC 7592
     * update or a deletion in between, on another auth replica or between this request's awaits,
     * must not be undone by the old copy. Not atomic, but the window is one store round trip.
     */
    async touch(record: ClientRecord): Promise<void> {
      if (record.metadataDocument) return;
      const current = await store.get<ClientRecord>(key(record.clientId));
      if (current === undefined) return;
      await store.set(key(record.clientId), { ...current, lastUsedAt: now() }, { ttlMs: lifetimes.idleTtlMs });
    },
    secretMatches(record: ClientRecord, secret: string): boolean {
      return record.clientSecretHash !== undefined && constantTimeEqual(sha256Base64url(secret), record.clientSecretHash);
    },
    registrationTokenMatches(record: ClientRecord, token: string): boolean {
      return record.registrationAccessTokenHash !== undefined && constantTimeEqual(sha256Base64url(token), record.registrationAccessTokenHash);
    },
  };
}

export type ClientRegistry = ReturnType<typeof createClientRegistry>;

/**
 * A random client id that does not start with "-": one that did (1 in 64 of base64url) would be
 * read as a flag by `mcp-gateway clients remove ID` and most other command lines.
 */
export function newClientId(): string {
  for (;;) {
    const id = randomToken(18);
    if (!id.startsWith('-')) return id;
  }
}
