import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStoreAdminService } from '../runtime/auth/admin/admin-service.js';
import { signAccessToken } from '../runtime/auth/tokens/access-token.js';
import { createTokenFamilies, type RefreshGrant } from '../runtime/auth/tokens/token-families.js';
import type { UserIdentity } from '../runtime/auth/tokens/grants.js';
import { upgradeLoginSubject } from '../runtime/auth/upstream/user-subject.js';
import { freePort } from './helpers/free-port.js';
import { startGatewayHarness, type GatewayHarness } from './helpers/gateway-harness.js';
import { expectNo5xx, postForm, startHostileHarness, startLocalLoginGateway, type LocalLoginGateway } from './helpers/hostile.js';
import { CLIENT_REDIRECT, authorizeUrl, mcpInitialize, newPkce, registerClient, tokenRequest } from './helpers/oauth-flow.js';
import { TestBrowser } from './helpers/test-browser.js';

/**
 * The upstream login as an attacker plays it: a GitHub login renamed and taken over by someone
 * else, login CSRF by swapping the upstream `state` between browsers, a callback from a browser
 * that never started the login, and grants from before users were identified by account id.
 */
const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' };

let h: GatewayHarness;
let echo: string;

beforeAll(async () => {
  h = await startHostileHarness();
  echo = h.urls.resourceFor('echo');
});
afterAll(async () => {
  await h?.close();
});

function authorizeFor(clientId: string, challenge: string): string {
  return authorizeUrl(h, {
    response_type: 'code',
    client_id: clientId,
    redirect_uri: CLIENT_REDIRECT,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 'client-state',
    resource: echo,
  });
}

/** Login and consent in `browser`; reports whether the consent page was shown, and the tokens. */
async function logIn(browser: TestBrowser, clientId: string): Promise<{ consentShown: boolean; accessToken: string; refreshToken: string }> {
  const pkce = newPkce();
  let result = await browser.open(authorizeFor(clientId, pkce.challenge));
  const consentShown = result.page?.body.includes('name="decision"') === true;
  if (consentShown) result = await browser.submitForm(result.page!, { decision: 'approve' });
  const code = result.redirectedTo?.searchParams.get('code');
  if (!code) throw new Error(`no code: ${result.redirectedTo?.href ?? result.page?.body.slice(0, 300)}`);
  const token = await tokenRequest(h, {
    grant_type: 'authorization_code',
    code,
    code_verifier: pkce.verifier,
    redirect_uri: CLIENT_REDIRECT,
    client_id: clientId,
    resource: echo,
  });
  expect(token.status).toBe(200);
  return { consentShown, accessToken: String(token.body['access_token']), refreshToken: String(token.body['refresh_token']) };
}

async function openSession(token: string): Promise<string> {
  const opened = await mcpInitialize(echo, token);
  await opened.arrayBuffer();
  expect(opened.status).toBe(200);
  const session = opened.headers.get('mcp-session-id') ?? '';
  const initialized = await fetch(echo, {
    method: 'POST',
    headers: { ...MCP_HEADERS, authorization: `Bearer ${token}`, 'mcp-session-id': session },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  expect(initialized.status).toBe(202);
  return session;
}

function pingIn(session: string, token: string): Promise<Response> {
  return fetch(echo, {
    method: 'POST',
    headers: { ...MCP_HEADERS, authorization: `Bearer ${token}`, 'mcp-session-id': session },
    body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' }),
  });
}

/** The browser's trip to GitHub and back, stopped at the gateway's /callback: the callback URL (code and state) it would open. */
async function startLogin(browser: TestBrowser, clientId: string): Promise<string> {
  const stopped = await browser.open(authorizeFor(clientId, newPkce().challenge), { stopAt: h.urls.callback });
  const callback = stopped.redirectedTo;
  if (!callback) throw new Error(`did not reach the callback: ${stopped.hops.join(' -> ')}`);
  expect(callback.searchParams.get('state')).toBeTruthy();
  return callback.href;
}

describe('identity is the GitHub account id, not the login', () => {
  it("a renamed GitHub login taken by someone else does not get the old user's sessions or grants", async () => {
    const client = await registerClient(h);
    const alice = await logIn(new TestBrowser(CLIENT_REDIRECT), client.client_id);
    expect(alice.consentShown).toBe(true);
    expect(decodeJwt(alice.accessToken)).toMatchObject({ sub: 'github:1001', login: 'alice', uid: 1001 });
    const aliceSession = await openSession(alice.accessToken);

    // Alice renames her account; mallory's account (another id) takes the freed login, which the allowlist names.
    h.github.renameUser('alice', 'alice-was-here');
    h.github.renameUser('mallory', 'alice');
    h.github.setCurrentUser('alice');
    try {
      const taker = await logIn(new TestBrowser(CLIENT_REDIRECT), client.client_id);
      // Alice's remembered consent is hers: the new holder of the login is asked again.
      expect(taker.consentShown).toBe(true);
      expect(decodeJwt(taker.accessToken)).toMatchObject({ sub: 'github:1002', login: 'alice', uid: 1002 });

      // Her MCP session is bound to her account: to the taker it does not exist.
      const hijack = await pingIn(aliceSession, taker.accessToken);
      expect(hijack.status).toBe(404);
      expect((await pingIn(aliceSession, alice.accessToken)).status).toBe(200);

      // The operator can tell the two apart, and revoking one account leaves the other alone.
      const admin = createStoreAdminService(h.config, h.store);
      const byAccount = await admin.listGrants({ user: 'github:1002' });
      expect(byAccount).toHaveLength(1);
      expect(byAccount[0]).toMatchObject({ sub: 'github:1002', user: 'alice' });
      await admin.revokeGrants({ user: 'github:1002' });
      expect((await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: taker.refreshToken, client_id: client.client_id })).status).toBe(400);
      const refreshed = await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: alice.refreshToken, client_id: client.client_id });
      expect(refreshed.status).toBe(200);
      expect(decodeJwt(String(refreshed.body['access_token']))).toMatchObject({ sub: 'github:1001' });
    } finally {
      h.github.renameUser('alice', 'mallory');
      h.github.renameUser('alice-was-here', 'alice');
      h.github.setCurrentUser('alice');
    }
  });
});

describe('the upstream state is bound to the browser that started the login', () => {
  it('swapping state between two login attempts fails', async () => {
    const client = await registerClient(h);
    const attacker = new TestBrowser(CLIENT_REDIRECT);
    const victim = new TestBrowser(CLIENT_REDIRECT);
    const attackersCallback = await startLogin(attacker, client.client_id);
    const victimsCallback = await startLogin(victim, client.client_id);

    // Login CSRF: the victim's browser is sent the attacker's completed GitHub login, and the other way round.
    for (const [browser, callback, label] of [
      [victim, attackersCallback, "victim completes the attacker's state"],
      [attacker, victimsCallback, "attacker completes the victim's state"],
    ] as const) {
      const swapped = await browser.open(callback);
      expectNo5xx(swapped.page?.status ?? 0, label);
      expect(swapped.redirectedTo, label).toBeUndefined();
      expect(swapped.page?.status, label).toBe(400);
      expect(swapped.page?.body, label).toContain('started in another browser');
    }

    // Neither refusal used up the other's login: each browser still completes its own.
    for (const [browser, callback] of [
      [attacker, attackersCallback],
      [victim, victimsCallback],
    ] as const) {
      const own = await browser.open(callback);
      expect(own.page?.status).toBe(200);
      expect(own.page?.body).toContain('name="decision" value="approve"');
    }
  });

  it("a callback without the browser's login cookie fails", async () => {
    const client = await registerClient(h);
    const browser = new TestBrowser(CLIENT_REDIRECT);
    const callback = await startLogin(browser, client.client_id);
    for (const cookie of [undefined, 'mcpgw-login=', 'mcpgw-login=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', `mcpgw-login=${'x'.repeat(5000)}`]) {
      const res = await fetch(callback, { redirect: 'manual', headers: cookie === undefined ? {} : { cookie } });
      expect(res.status, String(cookie).slice(0, 40)).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      expect(await res.text()).toContain('started in another browser');
    }
    const own = await browser.open(callback);
    expect(own.page?.body).toContain('name="decision" value="approve"');
  });

  it('sets the login cookie HttpOnly, SameSite=Lax and short-lived, and reuses it for logins running side by side', async () => {
    const client = await registerClient(h);
    const res = await fetch(authorizeFor(client.client_id, newPkce().challenge), { redirect: 'manual' });
    expect(res.status).toBe(302);
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('mcpgw-login='));
    expect(cookie).toBeDefined();
    expect(cookie).toMatch(/; HttpOnly/i);
    expect(cookie).toMatch(/; SameSite=Lax/i);
    expect(cookie).toMatch(/; Path=\//i);
    expect(cookie).toMatch(/; Max-Age=600(;|$)/i);
    // Plain http on loopback: a Secure cookie would not come back.
    expect(cookie).not.toMatch(/; Secure/i);

    // A client opening two logins at once (two servers): the second must not break the first.
    const browser = new TestBrowser(CLIENT_REDIRECT);
    const first = await startLogin(browser, client.client_id);
    const second = await startLogin(browser, client.client_id);
    expect((await browser.open(first)).page?.body).toContain('name="decision"');
    expect((await browser.open(second)).page?.body).toContain('name="decision"');
  });

  it('names the login cookie __Host- and marks it Secure when the public URL is https', async () => {
    const port = await freePort();
    const https = await startGatewayHarness({ publicUrl: `https://127.0.0.1:${port}` }, { port });
    try {
      // The listener is plain http in the test (TLS ends at a proxy in front); what matters is what the gateway tells the browser.
      const local = new URL(`http://127.0.0.1:${port}`);
      const registered = await fetch(`${local.origin}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_name: 'https', redirect_uris: [CLIENT_REDIRECT], token_endpoint_auth_method: 'none' }),
      });
      const { client_id: clientId } = (await registered.json()) as { client_id: string };
      const url = new URL(
        authorizeUrl(https, {
          response_type: 'code',
          client_id: clientId,
          redirect_uri: CLIENT_REDIRECT,
          code_challenge: newPkce().challenge,
          code_challenge_method: 'S256',
          resource: https.urls.resourceFor('echo'),
        }),
      );
      const res = await fetch(`${local.origin}${url.pathname}${url.search}`, { redirect: 'manual' });
      expect(res.status).toBe(302);
      const cookie = res.headers.getSetCookie().find((c) => c.startsWith('__Host-mcpgw-login='));
      expect(cookie).toMatch(/; Secure/i);
      expect(cookie).toMatch(/; Path=\/(;|$)/i);
    } finally {
      await https.close();
    }
  });
});

describe('the local one-time-code login is bound to its browser too', () => {
  let local: LocalLoginGateway;
  beforeAll(async () => {
    local = await startLocalLoginGateway();
  });
  afterAll(async () => {
    await local?.close();
  });

  it("a login form answered without the browser's login cookie fails, and does not use up the code", async () => {
    const client = await registerClient(local);
    const browser = new TestBrowser(CLIENT_REDIRECT);
    const url = authorizeUrl(local, {
      response_type: 'code',
      client_id: client.client_id,
      redirect_uri: CLIENT_REDIRECT,
      code_challenge: newPkce().challenge,
      code_challenge_method: 'S256',
      resource: local.urls.resourceFor('echo'),
    });
    const form = await browser.open(url);
    expect(form.page?.status).toBe(200);
    const code = local.announcements.at(-1)!.code;
    const txn = /name="txn" value="([^"]+)"/.exec(form.page!.body)![1]!;

    expect((await fetch(`${local.urls.localLogin}?txn=${encodeURIComponent(txn)}`)).status).toBe(400);
    for (let i = 0; i < 6; i++) {
      // More tries than a code allows: refused before the code is looked at, so none is used up.
      const stranger = await postForm(local.urls.localLogin, { txn, code });
      expect(stranger.status).toBe(400);
      expect(await stranger.text()).toContain('started in another browser');
    }
    const own = await browser.submitForm(form.page!, { code });
    expect(own.page?.body).toContain('name="decision" value="approve"');
    const approved = await browser.submitForm(own.page!, { decision: 'approve' });
    expect(approved.redirectedTo?.searchParams.get('code')).toBeTruthy();
  });
});

describe('grants from before users were identified by account id', () => {
  const legacyUser = (extra: Partial<UserIdentity> = {}): UserIdentity => ({ sub: 'alice', login: 'alice', allowedBy: 'user:alice', ...extra });

  async function legacyRefreshToken(clientId: string, user: UserIdentity): Promise<{ token: string; familyId: string }> {
    const families = createTokenFamilies(h.store, { now: Date.now, refreshTtlMs: h.config.tokens.refreshTokenTtl });
    const familyId = await families.start(clientId, user, { resource: echo });
    const grant: RefreshGrant = { clientId, resource: echo, user, familyId };
    return { token: (await families.issueRefreshToken(grant)).token, familyId };
  }

  it('a grant issued to a login before the id change keeps working, moved to the GitHub id it was issued to', async () => {
    const client = await registerClient(h);
    const { token, familyId } = await legacyRefreshToken(client.client_id, legacyUser({ uid: 1001 }));
    const refreshed = await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: token, client_id: client.client_id });
    expect(refreshed.status).toBe(200);
    expect(decodeJwt(String(refreshed.body['access_token']))).toMatchObject({ sub: 'github:1001', login: 'alice', uid: 1001 });
    // The rotated grant and the operator's view moved with it.
    const again = await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: String(refreshed.body['refresh_token']), client_id: client.client_id });
    expect(decodeJwt(String(again.body['access_token']))).toMatchObject({ sub: 'github:1001' });
    const [grant] = (await createStoreAdminService(h.config, h.store).listGrants({ user: 'github:1001' })).filter((g) => g.familyId === familyId);
    expect(grant).toMatchObject({ sub: 'github:1001', user: 'alice' });
  });

  it('a grant issued to a login before the id change that names no account id asks for a new login', async () => {
    const client = await registerClient(h);
    const { token } = await legacyRefreshToken(client.client_id, legacyUser());
    const refused = await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: token, client_id: client.client_id });
    expect(refused.status).toBe(400);
    expect(refused.body['error']).toBe('invalid_grant');
    expect(String(refused.body['error_description'])).toMatch(/log in again/);
  });

  it('an access token issued to a login before the id change works until it expires', async () => {
    // Safe to honour: every subject issued since has a `provider:` prefix, so a login-keyed one
    // can only ever meet other tokens from before the change, and only until they expire.
    const { token } = await signAccessToken(
      { sub: 'alice', login: 'alice', uid: 1001, clientId: 'old-client', audience: echo },
      { keys: h.keys, issuer: h.urls.issuer, ttlMs: 60_000, now: Date.now() },
    );
    const res = await mcpInitialize(echo, token);
    await res.arrayBuffer();
    expectNo5xx(res.status, 'legacy access token');
    expect(res.status).toBe(200);
  });

  it('a local-login grant from before the id change moves to the configured user; a login of another provider does not', () => {
    const local = { type: 'local', user: 'Alice' } as const;
    expect(upgradeLoginSubject(legacyUser(), local)?.sub).toBe('local:alice');
    expect(upgradeLoginSubject(legacyUser({ sub: 'bob', login: 'bob' }), local)).toBeUndefined();
    expect(upgradeLoginSubject(legacyUser({ uid: 1001 }), local)).toBeUndefined();
    const current = { sub: 'github:1001', login: 'alice' };
    expect(upgradeLoginSubject(current, local)).toBe(current);
  });
});
