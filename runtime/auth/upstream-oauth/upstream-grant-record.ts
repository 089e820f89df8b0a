import type { SealedBox } from '../sealed-box.js';
import type { UpstreamClientCredentials } from './token-endpoint-post.js';

/**
 * One user's grant at one remote MCP server, as the store holds it. Only what an operator may see
 * in a Redis dump is in plaintext (the key, the times, the issuer, the scope); the tokens, and
 * where and as whom to refresh them, are sealed with associated data naming the user and the
 * server, so a value copied under another user's or server's key does not open.
 */

/** Where a grant's tokens come from and go back to, as the upstream's metadata and registration say. */
export interface UpstreamGrantClient extends UpstreamClientCredentials {
  /** The authorization server's issuer identifier (RFC 8414). */
  issuer: string;
  tokenEndpoint: URL;
  /** RFC 7009; absent when the upstream advertises none (revoke then only forgets the tokens). */
  revocationEndpoint?: URL | undefined;
  /** The MCP server's resource URL, sent as `resource` on every refresh (RFC 8707). */
  resource: URL;
}

/** The sealed part: JSON inside the SealedBox. */
export interface GrantMaterial {
  accessToken: string;
  refreshToken?: string;
  tokenEndpoint: string;
  revocationEndpoint?: string;
  clientId: string;
  clientSecret?: string;
  resource: string;
}

/** The value under the grant's key. */
export interface StoredUpstreamGrant {
  v: 1;
  issuer: string;
  scope?: string;
  /** Epoch ms when the access token expires; absent when the upstream did not say. */
  expiresAt?: number;
  grantedAt: number;
  refreshedAt?: number;
  sealed: string;
}

export interface OpenedGrant {
  stored: StoredUpstreamGrant;
  material: GrantMaterial;
}

/** A grant as listings show it: no token, no endpoint, no client secret. */
export interface UpstreamGrantSummary {
  user: string;
  server: string;
  issuer: string;
  scope: string | undefined;
  expiresAt: number | undefined;
  grantedAt: number;
  refreshedAt: number | undefined;
  /** A refresh token is held: the grant outlives its access token. */
  refreshable: boolean;
}

// Each part is URI-encoded, so a subject holding `:` cannot make two (user, server) pairs share a key.
export const GRANT_KEY_PREFIX = 'upstream-token:';
export const grantKey = (user: string, server: string): string => `${GRANT_KEY_PREFIX}${encodeURIComponent(user)}:${encodeURIComponent(server)}`;
export const userIndexKey = (user: string): string => `upstream-tokens-of-user:${encodeURIComponent(user)}`;
export const serverIndexKey = (server: string): string => `upstream-tokens-of-server:${encodeURIComponent(server)}`;
export const refreshLockKey = (user: string, server: string): string => `upstream-token-lock:${encodeURIComponent(user)}:${encodeURIComponent(server)}`;
export const refreshBackoffKey = (user: string, server: string): string => `upstream-token-backoff:${encodeURIComponent(user)}:${encodeURIComponent(server)}`;

export function parseGrantKey(key: string): { user: string; server: string } | undefined {
  if (!key.startsWith(GRANT_KEY_PREFIX)) return undefined;
  const parts = key.slice(GRANT_KEY_PREFIX.length).split(':');
  if (parts.length !== 2) return undefined;
  try {
    return { user: decodeURIComponent(parts[0]!), server: decodeURIComponent(parts[1]!) };
  } catch {
    return undefined;
  }
}

/** JSON of a tuple: no choice of separator can be smuggled into a subject or a server name. */
function associatedData(user: string, server: string): string {
  return `upstream-token ${JSON.stringify([user, server])}`;
}

export function materialFor(client: UpstreamGrantClient, tokens: { accessToken: string; refreshToken?: string | undefined }): GrantMaterial {
  const material: GrantMaterial = {
    accessToken: tokens.accessToken,
    tokenEndpoint: client.tokenEndpoint.href,
    clientId: client.clientId,
    resource: client.resource.href,
  };
  if (tokens.refreshToken !== undefined) material.refreshToken = tokens.refreshToken;
  if (client.revocationEndpoint !== undefined) material.revocationEndpoint = client.revocationEndpoint.href;
  if (client.clientSecret !== undefined) material.clientSecret = client.clientSecret;
  return material;
}

export function sealMaterial(box: SealedBox, user: string, server: string, material: GrantMaterial): string {
  return box.seal(JSON.stringify(material), associatedData(user, server));
}

/**
 * The stored value opened, or undefined when it is not one: tampered with, moved from another
 * key, sealed with another key (`keys rotate`), or of a shape this release does not know.
 */
export function openGrant(box: SealedBox, user: string, server: string, value: unknown): OpenedGrant | undefined {
  if (!isStoredGrant(value)) return undefined;
  const plaintext = box.open(value.sealed, associatedData(user, server));
  if (plaintext === undefined) return undefined;
  let material: unknown;
  try {
    material = JSON.parse(plaintext);
  } catch {
    return undefined;
  }
  return isMaterial(material) ? { stored: value, material } : undefined;
}

export function summaryOf(user: string, server: string, grant: OpenedGrant): UpstreamGrantSummary {
  const { stored, material } = grant;
  return {
    user,
    server,
    issuer: stored.issuer,
    scope: stored.scope,
    expiresAt: stored.expiresAt,
    grantedAt: stored.grantedAt,
    refreshedAt: stored.refreshedAt,
    refreshable: material.refreshToken !== undefined,
  };
}

function isStoredGrant(value: unknown): value is StoredUpstreamGrant {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    v['v'] === 1 &&
    typeof v['issuer'] === 'string' &&
    typeof v['sealed'] === 'string' &&
    typeof v['grantedAt'] === 'number' &&
    optional(v['scope'], 'string') &&
    optional(v['expiresAt'], 'number') &&
    optional(v['refreshedAt'], 'number')
  );
}

function isMaterial(value: unknown): value is GrantMaterial {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v['accessToken'] === 'string' &&
    typeof v['tokenEndpoint'] === 'string' &&
    typeof v['clientId'] === 'string' &&
    typeof v['resource'] === 'string' &&
    optional(v['refreshToken'], 'string') &&
    optional(v['revocationEndpoint'], 'string') &&
    optional(v['clientSecret'], 'string')
  );
}

function optional(value: unknown, type: 'string' | 'number'): boolean {
  return value === undefined || typeof value === type;
}
