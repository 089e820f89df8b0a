import type { UpstreamLoginBase } from './upstream-login.js';

/** What the GitHub login needs of the GitHub client (runtime/auth/upstream/github-upstream.ts). */
export interface GitHubClient {
  authorizeUrl(p: { state: string; redirectUri: string; scope?: string }): string;
  exchangeCode(p: { code: string; redirectUri: string }): Promise<string>;
  fetchUser(accessToken: string): Promise<{ id: number; login: string; name: string | null }>;
  fetchOrgs(accessToken: string): Promise<string[]>;
  fetchTeams(accessToken: string): Promise<Array<{ org: string; slug: string }>>;
}

export interface GitHubLogin extends UpstreamLoginBase {
  readonly kind: 'github';
  readonly github: GitHubClient;
  readonly callbackUrl: string;
  /** Org/team rules are configured: fetch memberships at login and keep the token (sealed) to re-check them on refresh. */
  readonly needsMembership: boolean;
}

/** The pending authorization's id is GitHub's `state`: random, single-use, expires with the pending authorization. */
export function createGitHubLogin(github: GitHubClient, callbackUrl: string, needsMembership = false): GitHubLogin {
  return {
    kind: 'github',
    github,
    callbackUrl,
    needsMembership,
    async begin(pendingId) {
      return github.authorizeUrl({ state: pendingId, redirectUri: callbackUrl });
    },
  };
}
