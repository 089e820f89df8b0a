import { urlText } from '../../config/config-codecs.js';
import type { GatewayConfig } from '../../config/schema.js';
import type { Store } from '../../store/store.js';
import { requireGitHubClientId } from '../../config/github-client-id.js';
import { gatewayUrls } from '../gateway-urls.js';
import { createGitHubLogin } from './github-login.js';
import { DEFAULT_GITHUB_SCOPE, GITHUB_SCOPE_WITH_ORGS, createGitHubUpstream } from './github-upstream.js';
import { createLocalLogin, type LocalLoginAnnouncement } from './local-login.js';
import { createOidcLogin } from './oidc-login.js';
import { createOidcUpstream } from './oidc-upstream.js';
import type { UpstreamLogin } from './upstream-login.js';
import { accessNeedsMembership } from '../../access/access-groups.js';

export interface UpstreamLoginDeps {
  store: Store;
  /**
   * The provider's client secret, read by the caller: from `.secrets/` (serve) or from the
   * container's environment (the auth runtime). Required for GitHub; OIDC without one is a
   * public client.
   */
  clientSecret?: string | undefined;
  /** Where local-login one-time codes go (the operator's terminal, or the auth runtime's log). */
  announceLoginCode: (announcement: LocalLoginAnnouncement) => void;
  fetch?: typeof fetch;
}

/**
 * The identity provider the config names, as the login the auth runtime drives. Shared by the
 * embedded gateway and the auth container so both log users in the same way.
 */
export async function createUpstreamLogin(
  config: GatewayConfig,
  { store, clientSecret, announceLoginCode, fetch: fetchImpl }: UpstreamLoginDeps,
): Promise<UpstreamLogin> {
  const urls = gatewayUrls(config);
  const provider = config.provider;
  const fetchOption = fetchImpl ? { fetch: fetchImpl } : {};
  switch (provider.type) {
    case 'local':
      return createLocalLogin({ store, user: provider.user, loginUrl: urls.localLogin, announce: announceLoginCode });
    case 'oidc': {
      const oidc = createOidcUpstream({
        issuer: provider.issuer,
        clientId: provider.clientId,
        scopes: provider.scopes,
        ...(clientSecret ? { clientSecret } : {}),
        ...(provider.tokenEndpointAuthMethod ? { tokenEndpointAuthMethod: provider.tokenEndpointAuthMethod } : {}),
        ...fetchOption,
      });
      // A wrong issuer should stop the start now, not fail the first login.
      await oidc.discover();
      return createOidcLogin({ store, oidc, callbackUrl: urls.callback });
    }
    case 'github': {
      const clientId = requireGitHubClientId(provider);
      // Both callers check first and report a missing secret in their own terms (file or env var).
      if (!clientSecret) throw new TypeError('the GitHub provider needs its client secret');
      // Org and team rules of the allowlist or of a server's `access` need the memberships.
      const needsMembership = provider.orgs.length + provider.teams.length > 0 || accessNeedsMembership(config);
      const github = createGitHubUpstream({
        baseUrl: urlText(provider.url),
        clientId,
        clientSecret,
        scope: needsMembership ? GITHUB_SCOPE_WITH_ORGS : DEFAULT_GITHUB_SCOPE,
        ...fetchOption,
      });
      return createGitHubLogin(github, urls.callback, needsMembership);
    }
  }
}
