import type { Store } from '../store/store.js';
import { randomToken, sha256Base64url } from './crypto-helpers.js';

/** Who logged in, as the upstream identity provider reported it. */
export interface UserIdentity {
  /** Token subject: the login lowercased. */
  sub: string;
  login: string;
  uid?: number;
}

/** An /authorize request waiting for the upstream login; its id is the `state` sent upstream. */
export interface PendingAuthorization {
  clientId: string;
  redirectUri: string;
  state?: string;
  codeChallenge: string;
  resource: string;
  scope?: string;
}

/** What an authorization code stands for (RFC 6749 §4.1.2): bound to client, redirect, PKCE challenge and resource. */
export interface CodeGrant extends PendingAuthorization {
  user: UserIdentity;
}

export interface RefreshGrant {
  clientId: string;
  resource: string;
  scope?: string;
  user: UserIdentity;
  /** Every token rotated from one authorization shares a family (reuse detection revokes it). */
  familyId: string;
}

/** Pending logins may take a while (typing a password, 2FA); codes must not (RFC 6749 §4.1.2 recommends <= 10 min, we use 60 s). */
export const PENDING_AUTHORIZATION_TTL_MS = 10 * 60_000;
export const CODE_TTL_MS = 60_000;

/**
 * The short-lived state of the authorization code flow. Codes and refresh tokens are stored under
 * their SHA-256 only; redemption uses the store's atomic `take`, so a code is single-use even
 * when two requests race (RFC 6749 §4.1.2).
 */
export function createGrantStore(store: Store) {
  return {
    async savePending(pending: PendingAuthorization): Promise<string> {
      const id = randomToken(32);
      await store.set(`authz:${id}`, pending, { ttlMs: PENDING_AUTHORIZATION_TTL_MS });
      return id;
    },
    async takePending(id: string): Promise<PendingAuthorization | undefined> {
      return id.length > 0 && id.length <= 100 ? store.take<PendingAuthorization>(`authz:${id}`) : undefined;
    },
    async peekPending(id: string): Promise<PendingAuthorization | undefined> {
      return id.length > 0 && id.length <= 100 ? store.get<PendingAuthorization>(`authz:${id}`) : undefined;
    },
    async issueCode(grant: CodeGrant): Promise<string> {
      const code = randomToken(32);
      await store.set(`code:${sha256Base64url(code)}`, grant, { ttlMs: CODE_TTL_MS });
      return code;
    },
    async redeemCode(code: string): Promise<CodeGrant | undefined> {
      return code.length > 0 && code.length <= 200 ? store.take<CodeGrant>(`code:${sha256Base64url(code)}`) : undefined;
    },
    async issueRefreshToken(grant: RefreshGrant, ttlMs: number): Promise<string> {
      const token = randomToken(32);
      await store.set(`refresh:${sha256Base64url(token)}`, grant, { ttlMs });
      return token;
    },
    /** Takes the token out of the store: rotation means the old token never works again. */
    async redeemRefreshToken(token: string): Promise<RefreshGrant | undefined> {
      return token.length > 0 && token.length <= 200 ? store.take<RefreshGrant>(`refresh:${sha256Base64url(token)}`) : undefined;
    },
  };
}

export type GrantStore = ReturnType<typeof createGrantStore>;
