import type { Store } from '../store/store.js';
import { constantTimeEqual, randomToken, sha256Base64url } from './crypto-helpers.js';

export type TokenEndpointAuthMethod = 'none' | 'client_secret_basic' | 'client_secret_post';

/** A registered client as stored: the secret only as a hash. */
export interface ClientRecord {
  clientId: string;
  clientSecretHash?: string;
  clientName?: string;
  clientUri?: string;
  logoUri?: string;
  redirectUris: string[];
  grantTypes: string[];
  responseTypes: string[];
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  scope?: string;
  /** Seconds since the epoch (RFC 7591 §3.2.1). */
  issuedAt: number;
}

export type NewClient = Omit<ClientRecord, 'clientId' | 'clientSecretHash' | 'issuedAt'>;

const key = (clientId: string): string => `client:${clientId}`;

export function createClientRegistry(store: Store, now: () => number) {
  return {
    async register(client: NewClient): Promise<{ record: ClientRecord; clientSecret?: string }> {
      const clientId = randomToken(18);
      const clientSecret = client.tokenEndpointAuthMethod === 'none' ? undefined : randomToken(32);
      const record: ClientRecord = {
        ...client,
        clientId,
        issuedAt: Math.floor(now() / 1000),
        ...(clientSecret === undefined ? {} : { clientSecretHash: sha256Base64url(clientSecret) }),
      };
      await store.set(key(clientId), record);
      return clientSecret === undefined ? { record } : { record, clientSecret };
    },
    async get(clientId: string): Promise<ClientRecord | undefined> {
      if (clientId.length === 0 || clientId.length > 200) return undefined;
      return store.get<ClientRecord>(key(clientId));
    },
    secretMatches(record: ClientRecord, secret: string): boolean {
      return record.clientSecretHash !== undefined && constantTimeEqual(sha256Base64url(secret), record.clientSecretHash);
    },
  };
}

export type ClientRegistry = ReturnType<typeof createClientRegistry>;
