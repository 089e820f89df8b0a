import type { Store } from '../../store/store.js';
import { randomToken, sha256Base64url } from '../crypto-helpers.js';
import type { OidcUpstream } from './oidc-upstream.js';
import type { UpstreamLoginBase } from './upstream-login.js';

/** Per-login secrets of the upstream flow: our own PKCE verifier and the id_token nonce. */
interface OidcLoginState {
  codeVerifier: string;
  nonce: string;
}

export interface OidcLogin extends UpstreamLoginBase {
  readonly kind: 'oidc';
  readonly oidc: OidcUpstream;
  readonly callbackUrl: string;
  /** Single use: the verifier and nonce of this pending authorization, if it is still waiting. */
  takeState(pendingId: string): Promise<OidcLoginState | undefined>;
}

const STATE_TTL_MS = 10 * 60_000;

/**
 * Login through any OpenID Connect provider. The pending authorization's id is the upstream
 * `state`; each login has its own PKCE verifier and nonce (OIDC Core §3.1.2.1), kept in the
 * store beside it and taken once at the callback.
 */
export function createOidcLogin({ store, oidc, callbackUrl }: { store: Store; oidc: OidcUpstream; callbackUrl: string }): OidcLogin {
  return {
    kind: 'oidc',
    oidc,
    callbackUrl,
    async begin(pendingId) {
      const state: OidcLoginState = { codeVerifier: randomToken(32), nonce: randomToken(16) };
      await store.set(`oidc-login:${pendingId}`, state, { ttlMs: STATE_TTL_MS });
      return oidc.authorizeUrl({ state: pendingId, redirectUri: callbackUrl, codeChallenge: sha256Base64url(state.codeVerifier), nonce: state.nonce });
    },
    takeState(pendingId) {
      return store.take<OidcLoginState>(`oidc-login:${pendingId}`);
    },
  };
}
