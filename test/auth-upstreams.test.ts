import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOidcLogin } from '../runtime/auth/upstream/oidc-login.js';
import { createOidcUpstream } from '../runtime/auth/upstream/oidc-upstream.js';
import { oidcSubject } from '../runtime/auth/upstream/user-subject.js';
import { DEFAULT_STAND_IN_USERS, type StandInUser } from './github-stand-in/github-stand-in.js';
import { startGatewayHarness, type GatewayHarness } from './helpers/gateway-harness.js';
import { CLIENT_REDIRECT, authorizeUrl, mcpInitialize, newPkce, registerClient, tokenRequest } from './helpers/oauth-flow.js';
import { startOidcProvider, type TestOidcProvider } from './helpers/oidc-provider.js';
import { TestBrowser } from './helpers/test-browser.js';
import { freePort } from './helpers/free-port.js';

/** Runs the code flow in `browser`, with `login` playing the upstream part, and returns the token response. */
async function codeFlow(h: GatewayHarness, login: (browser: TestBrowser, url: string) => Promise<URL | undefined>) {
  const client = await registerClient(h);
  const pkce = newPkce();
  const resource = h.urls.resourceFor('echo');
  const browser = new TestBrowser(CLIENT_REDIRECT);
  const back = await login(
    browser,
    authorizeUrl(h, {
      response_type: 'code',
      client_id: client.client_id,
      redirect_uri: CLIENT_REDIRECT,
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
      resource,
    }),
  );
  const code = back?.searchParams.get('code');
  if (!code) return { error: back?.searchParams.get('error') ?? 'no redirect', client };
  const tokens = await tokenRequest(h, {
    grant_type: 'authorization_code',
    code,
    code_verifier: pkce.verifier,
    redirect_uri: CLIENT_REDIRECT,
    client_id: client.client_id,
  });
  return { tokens: tokens.body, client };
}

const githubHops: string[] = [];
async function githubLogin(browser: TestBrowser, url: string): Promise<URL | undefined> {
  let result = await browser.open(url);
  githubHops.push(...result.hops);
  if (result.page?.body.includes('name="decision"')) result = await browser.submitForm(result.page, { decision: 'approve' });
  return result.redirectedTo;
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
}

describe('GitHub organization and team allowlists', () => {
  let h: GatewayHarness;
  const users: StandInUser[] = DEFAULT_STAND_IN_USERS.map((u) => ({ ...u, orgs: [...(u.orgs ?? [])], teams: [...(u.teams ?? [])] }));
  beforeAll(async () => {
    h = await startGatewayHarness(
      { allowedUsers: [], provider: { type: 'github', clientId: 'test-client-id', url: 'http://127.0.0.1:1', orgs: ['acme'] } },
      { githubUsers: users },
    );
  });
  afterAll(async () => {
    await h?.close();
  });

  it('lets a member of an allowed organization in, with the rule in the token, and asks GitHub for read:org', async () => {
    h.github.setCurrentUser('alice');
    const { tokens } = await codeFlow(h, githubLogin);
    expect(claimsOf(String(tokens!['access_token']))['ab']).toBe('org:acme');
    expect((await mcpInitialize(h.urls.resourceFor('echo'), String(tokens!['access_token']))).status).toBe(200);
    const authorize = githubHops.find((hop) => hop.startsWith(`${h.github.url}/login/oauth/authorize`));
    expect(new URL(authorize!).searchParams.get('scope')).toBe('read:user read:org');
  });

  it('refuses a user in no allowed organization', async () => {
    h.github.setCurrentUser('mallory');
    try {
      const result = await codeFlow(h, githubLogin);
      expect(result.error).toBe('access_denied');
    } finally {
      h.github.setCurrentUser('alice');
    }
  });

  it('re-checks membership on refresh and revokes the grant of a user who left the organization', async () => {
    const { tokens, client } = await codeFlow(h, githubLogin);
    const refresh = (token: string) => tokenRequest(h, { grant_type: 'refresh_token', refresh_token: token, client_id: client.client_id });
    h.advance(6 * 60_000);
    const stillMember = await refresh(String(tokens!['refresh_token']));
    expect(stillMember.status).toBe(200);
    const alice = users.find((u) => u.login === 'alice')!;
    const { orgs, teams } = alice;
    alice.orgs = [];
    alice.teams = [];
    try {
      h.advance(6 * 60_000);
      const left = await refresh(String(stillMember.body['refresh_token']));
      expect(left.body['error']).toBe('invalid_grant');
      expect((await mcpInitialize(h.urls.resourceFor('echo'), String(stillMember.body['access_token']))).status).toBe(401);
    } finally {
      alice.orgs = orgs!;
      alice.teams = teams!;
    }
  });
});

describe('a generic OpenID Connect upstream (a real OpenID provider)', () => {
  let op: TestOidcProvider;
  let h: GatewayHarness;
  beforeAll(async () => {
    const port = await freePort();
    const client = { client_id: 'gateway', client_secret: 'gateway-secret', redirect_uris: [`http://127.0.0.1:${port}/callback`] };
    op = await startOidcProvider({
      clients: [client],
      accounts: [
        { sub: 'u-1', email: 'carol@example.com', email_verified: true, name: 'Carol' },
        { sub: 'u-2', email: 'dave@elsewhere.test', email_verified: true },
        { sub: 'u-3', email: 'eve@example.com', email_verified: false },
      ],
    });
    h = await startGatewayHarness(
      { allowedUsers: [], provider: { type: 'oidc', issuer: op.issuer, clientId: 'gateway', emailDomains: ['example.com'] } },
      {
        port,
        upstream: async (config, store) => {
          const oidc = createOidcUpstream({ issuer: op.issuer, clientId: 'gateway', clientSecret: 'gateway-secret' });
          await oidc.discover();
          return createOidcLogin({ store, oidc, callbackUrl: `${new URL(config.publicUrl).origin}/callback` });
        },
      },
    );
  });
  afterAll(async () => {
    await h?.close();
    await op?.close();
  });

  const oidcLogin =
    (sub: string) =>
    async (browser: TestBrowser, url: string): Promise<URL | undefined> => {
      const first = await browser.open(url);
      const toProvider = first.hops.find((hop) => hop.startsWith(op.issuer));
      if (!toProvider) return first.redirectedTo;
      const callback = await op.login(toProvider, sub);
      let result = await browser.open(callback.href);
      if (result.page?.body.includes('name="decision"')) result = await browser.submitForm(result.page, { decision: 'approve' });
      return result.redirectedTo;
    };

  it('logs in a user with a verified address in an allowed domain', async () => {
    const { tokens } = await codeFlow(h, oidcLogin('u-1'));
    const claims = claimsOf(String(tokens!['access_token']));
    expect(claims['sub']).toBe(oidcSubject(op.issuer, 'u-1'));
    expect(claims['login']).toBe('carol@example.com');
    expect(claims['ab']).toBe('domain:example.com');
    expect((await mcpInitialize(h.urls.resourceFor('echo'), String(tokens!['access_token']))).status).toBe(200);
  });

  it('refuses a verified address in another domain and an unverified one in the allowed domain', async () => {
    expect((await codeFlow(h, oidcLogin('u-2'))).error).toBe('access_denied');
    expect((await codeFlow(h, oidcLogin('u-3'))).error).toBe('access_denied');
  });
});
