import type { Store } from '../../store/store.js';
import { randomToken, sha256Base64url } from '../crypto-helpers.js';

/** Who logged in, as the upstream identity provider reported it. */
export interface UserIdentity {
  /**
   * Token subject: the provider's immutable id (`github:<id>`, `oidc:<hash of issuer and sub>`,
   * `local:<user>`; see user-subject.ts). Grants from before ids were used hold the login lowercased.
   */
  sub: string;
  /** What people read and the allowlist matches: the GitHub login, or the OpenID Connect email / username. May change. */
  login: string;
  /** GitHub's numeric user id. */
  uid?: number;
  email?: string;
  emailVerified?: boolean;
  /** The allowlist rule that admitted this user (`user:alice`, `org:acme`...); see user-policy.ts. */
  allowedBy?: string;
  /** The groups servers' `access` rules name that this login proved (`org:acme`, `team:acme/readers`, `domain:example.com`). */
  groups?: string[];
}

/** An upstream credential kept (sealed) with a grant, to re-check org/team membership on refresh. */
export interface UpstreamCredential {
  sealed: string;
  checkedAt: number;
}

/** An /authorize request waiting for the upstream login; its id is the `state` sent upstream. */
export interface PendingAuthorization {
  clientId: string;
  redirectUri: string;
  /** Whether /authorize named the redirect URI; RFC 6749 §4.1.3 requires it at /token only then. */
  redirectUriGiven?: boolean;
  state?: string;
  codeChallenge: string;
  resource: string;
  scope?: string;
  /** SHA-256 of the browser's login cookie (login-browser.ts): the callback must come from that browser. */
  browserHash?: string;
}

/** What an authorization code stands for (RFC 6749 §4.1.2): bound to client, redirect, PKCE challenge and resource. */
export interface CodeGrant extends PendingAuthorization {
  user: UserIdentity;
  upstream?: UpstreamCredential;
}

/** Pending logins may take a while (typing a password, 2FA); codes must not (RFC 6749 §4.1.2 recommends <= 10 min, we use 60 s). */
export const PENDING_AUTHORIZATION_TTL_MS = 10 * 60_000;
export const CODE_TTL_MS = 60_000;
/** How long a redeemed code is remembered so that a replay can be recognised and its tokens revoked. */
const USED_CODE_MEMORY_MS = 10 * 60_000;

/**
 * The short-lived state of the authorization code flow. Codes are stored under their SHA-256
 * only; redemption uses the store's atomic `take`, so a code is single-use even when two
 * requests race (RFC 6749 §4.1.2). Refresh tokens live in token-families.ts.
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
    /**
     * Single use: the code is taken atomically. A code seen before answers `replayed` with the
     * family it started, which the caller revokes (RFC 6749 §4.1.2: "SHOULD revoke all tokens
     * previously issued based on that authorization code").
     */
    async redeemCode(
      code: string,
    ): Promise<{ status: 'ok'; grant: CodeGrant; hash: string } | { status: 'replayed'; familyId: string } | { status: 'unknown' }> {
      if (code.length === 0 || code.length > 200) return { status: 'unknown' };
      const hash = sha256Base64url(code);
      const grant = await store.take<CodeGrant>(`code:${hash}`);
      if (grant) return { status: 'ok', grant, hash };
      const used = await store.get<{ familyId: string }>(`code-used:${hash}`);
      return used ? { status: 'replayed', familyId: used.familyId } : { status: 'unknown' };
    },
    async markCodeUsed(hash: string, familyId: string): Promise<void> {
      await store.set(`code-used:${hash}`, { familyId }, { ttlMs: USED_CODE_MEMORY_MS });
    },
  };
}

export type GrantStore = ReturnType<typeof createGrantStore>;
