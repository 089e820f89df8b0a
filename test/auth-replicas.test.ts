import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { type AuthReplica, type AuthReplicas, type ReplicaName, startAuthReplicas } from './helpers/auth-replicas.js';
import { CLIENT_REDIRECT, authorizeUrl, newPkce, type Pkce } from './helpers/oauth-flow.js';
import { skipWithoutRedis } from './helpers/rate-limit-replies.js';
import { startRedis } from './helpers/redis-server.js';
import { TestBrowser, type BrowserResult } from './helpers/test-browser.js';

/*
 * Auth replicas are stateless: several `mcp-gateway runtime auth` behind a router that spreads
 * requests over them, with `store: redis`, behave as one authorization server. Every step of a
 * login here goes to the other replica than the step before, and every state that decides an
 * outcome (the pending authorization, the browser binding, the consent prompt, codes, refresh
 * rotation, revocation, rate-limit counts, local-login tries) must be found by the replica that
 * did not create it. The replicas share only Redis (one key prefix) and their secrets.
 */

/** Short, so a superseded refresh token can be shown outside the grace within the test. */
const REUSE_GRACE_MS = 1_000;
const REGISTRATIONS_PER_10_MIN = 4;

let redis: Awaited<ReturnType<typeof startRedis>>;
let r: AuthReplicas;

beforeAll(async () => {
  // In CI a missing redis-server throws here, failing every test below.
  redis = await startRedis();
  if ('skip' in redis) return;
  r = await startAuthReplicas({
    redisUrl: redis.url,
    config: {
      tokens: { refreshReuseGrace: `${REUSE_GRACE_MS / 1000}s` },
      clients: { registrationsPer10Min: REGISTRATIONS_PER_10_MIN },
    },
  });
});
afterAll(async () => {
  await r?.close();
  if (redis !== undefined && !('skip' in redis)) await redis.stop();
});

function skipped(ctx: TestContext): boolean {
  return skipWithoutRedis(redis, ctx, 'the auth replica tests');
}

/** Each test registers from addresses of its own, so the registration limit it meets is its own. */
let addresses = 0;
const newAddress = (): string => `10.77.${++addresses}.1`;

interface Client {
  clientId: string;
  clientSecret: string;
  basic: string;
}

async function registerOn(replica: AuthReplica, address: string): Promise<Response> {
  return fetch(`${replica.url}/register`, {
    method: 'POST',
    // What the router adds: the auth runtime trusts one proxy in front of it.
    headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
    body: JSON.stringify({ client_name: 'replica tests', redirect_uris: [CLIENT_REDIRECT], token_endpoint_auth_method: 'client_secret_basic' }),
  });
}

/** A confidential client, so it may also introspect (RFC 7662). */
async function registerClient(replica: AuthReplica): Promise<Client> {
  const res = await registerOn(replica, newAddress());
  expect(res.status).toBe(201);
  const body = (await res.json()) as { client_id: string; client_secret: string };
  return {
    clientId: body.client_id,
    clientSecret: body.client_secret,
    basic: `Basic ${Buffer.from(`${body.client_id}:${body.client_secret}`).toString('base64')}`,
  };
}

async function post(replica: AuthReplica, path: string, client: Client, form: Record<string, string>) {
  const res = await fetch(`${replica.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: client.basic },
    body: new URLSearchParams(form).toString(),
  });
  const text = await res.text();
  return { status: res.status, body: (text === '' ? {} : JSON.parse(text)) as Record<string, unknown> };
}

const redeemCode = (replica: AuthReplica, client: Client, code: string, pkce: Pkce) =>
  post(replica, '/token', client, { grant_type: 'authorization_code', code, code_verifier: pkce.verifier, redirect_uri: CLIENT_REDIRECT });
const refresh = (replica: AuthReplica, client: Client, refreshToken: string) =>
  post(replica, '/token', client, { grant_type: 'refresh_token', refresh_token: refreshToken });
const introspect = async (replica: AuthReplica, client: Client, token: string): Promise<boolean> =>
  (await post(replica, '/introspect', client, { token })).body['active'] === true;

/** ForwardAuth as the router asks it for an MCP request to the echo server. */
async function verifyOn(replica: AuthReplica, accessToken: string): Promise<{ status: number; login: string | null }> {
  const res = await fetch(`${replica.url}/verify`, {
    headers: {
      'x-forwarded-method': 'POST',
      'x-forwarded-uri': '/echo/mcp',
      'x-forwarded-host': new URL(r.urls.issuer).host,
      authorization: `Bearer ${accessToken}`,
    },
  });
  await res.body?.cancel();
  return { status: res.status, login: res.headers.get('x-user-login') };
}

async function verifyOnBoth(accessToken: string): Promise<number[]> {
  return [(await verifyOn(r.a, accessToken)).status, (await verifyOn(r.b, accessToken)).status];
}

interface LoginPlan {
  authorize: ReplicaName;
  callback: ReplicaName;
  consent: ReplicaName;
}

/** /authorize, GitHub's redirect back to /callback, and the consent form, each on the replica the plan names. */
async function loginSteps(client: Client, pkce: Pkce, plan: LoginPlan, browser = new TestBrowser(CLIENT_REDIRECT)) {
  const params = {
    response_type: 'code',
    client_id: client.clientId,
    redirect_uri: CLIENT_REDIRECT,
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
    state: 'client-state',
    resource: r.urls.resourceFor('echo'),
  };
  r.router.route(plan.authorize);
  const toGitHub = await browser.open(authorizeUrl(r, params), { stopAt: `${r.github.url}/login/oauth/authorize` });
  expect(toGitHub.redirectedTo, JSON.stringify(toGitHub.page?.body.slice(0, 300))).toBeDefined();
  expect(r.router.lastServedBy('/authorize')).toBe(plan.authorize);
  // GitHub's answer to the browser: /callback?code&state, not followed yet.
  const fromGitHub = await browser.open(toGitHub.redirectedTo!.href, { stopAt: r.urls.callback });
  const callback = fromGitHub.redirectedTo!;
  r.router.route(plan.callback);
  const consentPage = await browser.open(callback.href);
  expect(r.router.lastServedBy('/callback')).toBe(plan.callback);
  expect(consentPage.page?.body, consentPage.page?.body.slice(0, 300)).toContain('name="decision"');
  return {
    browser,
    callback,
    consentPage: consentPage.page!,
    async approve(): Promise<BrowserResult> {
      r.router.route(plan.consent);
      const back = await browser.submitForm(consentPage.page!, { decision: 'approve' });
      expect(r.router.lastServedBy('/consent')).toBe(plan.consent);
      return back;
    },
  };
}

function codeOf(result: BrowserResult): string {
  const code = result.redirectedTo?.searchParams.get('code');
  if (!code) throw new Error(`no code: ${result.redirectedTo?.href ?? result.page?.body.slice(0, 300)}`);
  return code;
}

/** A client, a login across both replicas and its first tokens (from the code, on `tokenOn`). */
async function tokensFor(tokenOn: ReplicaName = 'a') {
  const client = await registerClient(tokenOn === 'a' ? r.b : r.a);
  const pkce = newPkce();
  const steps = await loginSteps(client, pkce, { authorize: 'a', callback: 'b', consent: 'a' });
  const token = await redeemCode(r[tokenOn], client, codeOf(await steps.approve()), pkce);
  expect(token.status, JSON.stringify(token.body)).toBe(200);
  return { client, access: String(token.body['access_token']), refresh: String(token.body['refresh_token']) };
}

describe('two auth replicas on one Redis', () => {
  it('carries one login through both, alternating replicas at every step', async (ctx) => {
    if (skipped(ctx)) return;
    const client = await registerClient(r.a);
    const pkce = newPkce();
    const steps = await loginSteps(client, pkce, { authorize: 'b', callback: 'a', consent: 'b' });
    const back = await steps.approve();
    expect(back.redirectedTo?.searchParams.get('state')).toBe('client-state');
    expect(back.redirectedTo?.searchParams.get('iss')).toBe(r.urls.issuer);

    const first = await redeemCode(r.a, client, codeOf(back), pkce);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    const access = String(first.body['access_token']);
    // A token issued by one is accepted by all.
    expect(await verifyOn(r.a, access)).toEqual({ status: 200, login: 'alice' });
    expect(await verifyOn(r.b, access)).toEqual({ status: 200, login: 'alice' });

    const refreshed = await refresh(r.b, client, String(first.body['refresh_token']));
    expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
    const newRefresh = String(refreshed.body['refresh_token']);
    expect(newRefresh).not.toBe(first.body['refresh_token']);
    expect(await verifyOnBoth(String(refreshed.body['access_token']))).toEqual([200, 200]);

    // Introspection on either replica knows what the other issued and rotated.
    expect(await introspect(r.a, client, newRefresh)).toBe(true);
    expect(await introspect(r.b, client, String(refreshed.body['access_token']))).toBe(true);
    expect(await introspect(r.a, client, String(first.body['refresh_token']))).toBe(false);
    // The steps went where they were sent: the router's record of who served what.
    expect(r.router.served.filter((s) => s.path === '/authorize' || s.path === '/callback' || s.path === '/consent').slice(-3)).toEqual([
      { replica: 'b', method: 'GET', path: '/authorize' },
      { replica: 'a', method: 'GET', path: '/callback' },
      { replica: 'b', method: 'POST', path: '/consent' },
    ]);
  });

  it('detects a rotated refresh token presented again on the other replica, and both refuse the grant from then on', async (ctx) => {
    if (skipped(ctx)) return;
    const { client, refresh: first } = await tokensFor('a');
    const rotated = await refresh(r.b, client, first);
    expect(rotated.status).toBe(200);
    const access = String(rotated.body['access_token']);
    await new Promise((resolve) => setTimeout(resolve, REUSE_GRACE_MS + 200));

    const reused = await refresh(r.a, client, first);
    expect(reused.status).toBe(400);
    expect(reused.body['error']).toBe('invalid_grant');
    expect(String(reused.body['error_description'])).toContain('revoked');
    // The successor B issued is dead on B too, and so is the access token that came with it.
    expect((await refresh(r.b, client, String(rotated.body['refresh_token']))).body['error']).toBe('invalid_grant');
    expect(await verifyOnBoth(access)).toEqual([401, 401]);
  });

  it('revokes on A what B then refuses: an access token alone, then the whole grant by its refresh token', async (ctx) => {
    if (skipped(ctx)) return;
    const { client, access, refresh: refreshToken } = await tokensFor('b');
    expect(await verifyOnBoth(access)).toEqual([200, 200]);
    // B verified the token once, so its verified-token cache holds it: revocation must still win.
    expect((await post(r.a, '/revoke', client, { token: access })).status).toBe(200);
    expect(await verifyOnBoth(access)).toEqual([401, 401]);
    expect(await introspect(r.b, client, access)).toBe(false);

    const again = await refresh(r.b, client, refreshToken);
    expect(again.status).toBe(200);
    const second = String(again.body['access_token']);
    expect(await verifyOnBoth(second)).toEqual([200, 200]);
    expect((await post(r.a, '/revoke', client, { token: String(again.body['refresh_token']) })).status).toBe(200);
    expect(await verifyOnBoth(second)).toEqual([401, 401]);
    expect((await refresh(r.b, client, String(again.body['refresh_token']))).body['error']).toBe('invalid_grant');
  });

  it('counts the registration rate limit across both replicas', async (ctx) => {
    if (skipped(ctx)) return;
    const address = newAddress();
    const answers: Array<{ status: number; remaining: string | undefined }> = [];
    for (const replica of [r.a, r.b, r.a, r.b, r.a, r.b]) {
      const res = await registerOn(replica, address);
      await res.body?.cancel();
      answers.push({ status: res.status, remaining: /\br=(\d+)/.exec(res.headers.get('ratelimit') ?? '')?.[1] });
    }
    // One count for both: each replica alone would have let all six through.
    expect(answers.map((a) => a.status)).toEqual([201, 201, 201, 201, 429, 429]);
    expect(answers.slice(0, 4).map((a) => a.remaining)).toEqual(['3', '2', '1', '0']);
    const limited = await registerOn(r.b, address);
    expect(await limited.json()).toMatchObject({ error: 'invalid_request' });
    // Another address has a count of its own, on either replica.
    expect((await registerOn(r.b, newAddress())).status).toBe(201);
  });
});

describe('hostile: state and credentials replayed on the other replica', () => {
  it('refuses on B a code redeemed on A, and revokes what the code issued', async (ctx) => {
    if (skipped(ctx)) return;
    const client = await registerClient(r.b);
    const pkce = newPkce();
    const code = codeOf(await (await loginSteps(client, pkce, { authorize: 'a', callback: 'b', consent: 'a' })).approve());
    const first = await redeemCode(r.a, client, code, pkce);
    expect(first.status).toBe(200);
    const replay = await redeemCode(r.b, client, code, pkce);
    expect(replay.status).toBe(400);
    expect(replay.body['error']).toBe('invalid_grant');
    // RFC 6749 §4.1.2: the tokens issued for the replayed code are revoked, on every replica.
    expect(await verifyOnBoth(String(first.body['access_token']))).toEqual([401, 401]);
    expect((await refresh(r.a, client, String(first.body['refresh_token']))).body['error']).toBe('invalid_grant');
  });

  it('redeems a code raced on both replicas at once exactly once', async (ctx) => {
    if (skipped(ctx)) return;
    for (let round = 0; round < 3; round++) {
      const client = await registerClient(r.a);
      const pkce = newPkce();
      const code = codeOf(await (await loginSteps(client, pkce, { authorize: 'b', callback: 'a', consent: 'b' })).approve());
      const answers = await Promise.all([redeemCode(r.a, client, code, pkce), redeemCode(r.b, client, code, pkce)]);
      expect(answers.map((a) => a.status).sort()).toEqual([200, 400]);
      expect(answers.find((a) => a.status === 400)?.body['error']).toBe('invalid_grant');
    }
  });

  it('refuses a wrong PKCE verifier on B, and the code it burnt on A', async (ctx) => {
    if (skipped(ctx)) return;
    const client = await registerClient(r.a);
    const pkce = newPkce();
    const code = codeOf(await (await loginSteps(client, pkce, { authorize: 'a', callback: 'b', consent: 'a' })).approve());
    const wrong = await redeemCode(r.b, client, code, newPkce());
    expect(wrong.body).toMatchObject({ error: 'invalid_grant' });
    expect(String(wrong.body['error_description'])).toContain('code_verifier');
    // Single use even when the first use failed: the right verifier comes too late, on either replica.
    expect((await redeemCode(r.a, client, code, pkce)).body['error']).toBe('invalid_grant');
  });

  it('refuses a login state replayed on the other replica, a forged consent answer, and a consent answered twice', async (ctx) => {
    if (skipped(ctx)) return;
    const client = await registerClient(r.b);
    const pkce = newPkce();
    const steps = await loginSteps(client, pkce, { authorize: 'a', callback: 'b', consent: 'b' });
    // The same /callback (GitHub's code and our state) again, on A: the pending authorization is used up.
    r.router.route('a');
    const replayed = await steps.browser.open(steps.callback.href);
    expect(replayed.page?.status).toBe(400);
    expect(replayed.page?.body).toContain('expired or was already used');

    // The prompt B showed, answered on A: with the browser's cookie but another CSRF token it is refused and left alone.
    const cookie = steps.browser.cookieHeaderFor(new URL(r.urls.issuer).host) ?? '';
    const fields = {
      consent_id: /name="consent_id" value="([^"]+)"/.exec(steps.consentPage.body)![1]!,
      csrf_token: /name="csrf_token" value="([^"]+)"/.exec(steps.consentPage.body)![1]!,
      decision: 'approve',
    };
    const answerOnA = (form: Record<string, string>) =>
      fetch(`${r.a.url}/consent`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
        body: new URLSearchParams(form).toString(),
      });
    const forged = await answerOnA({ ...fields, csrf_token: 'x'.repeat(32) });
    expect(forged.status).toBe(403);
    expect(await forged.text()).toContain('does not belong to this browser session');

    codeOf(await steps.approve());
    // The same answer again, cookie and all, on the replica that did not show the page: the prompt is gone.
    const twice = await answerOnA(fields);
    expect(twice.status).toBe(400);
    expect(await twice.text()).toContain('Consent expired');
  });

  it("refuses a stranger's browser on the other replica without using up the login", async (ctx) => {
    if (skipped(ctx)) return;
    const client = await registerClient(r.a);
    const pkce = newPkce();
    const params = {
      response_type: 'code',
      client_id: client.clientId,
      redirect_uri: CLIENT_REDIRECT,
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
      resource: r.urls.resourceFor('echo'),
    };
    const victim = new TestBrowser(CLIENT_REDIRECT);
    r.router.route('a');
    const toGitHub = await victim.open(authorizeUrl(r, params), { stopAt: `${r.github.url}/login/oauth/authorize` });
    const callback = (await victim.open(toGitHub.redirectedTo!.href, { stopAt: r.urls.callback })).redirectedTo!;
    // Login CSRF: the callback URL sent to another browser, which reaches B.
    r.router.route('b');
    const stranger = await new TestBrowser(CLIENT_REDIRECT).open(callback.href);
    expect(stranger.page?.status).toBe(400);
    expect(stranger.page?.body).toContain('started in another browser');
    // The browser that started it still finishes it, on A.
    r.router.route('a');
    const own = await victim.open(callback.href);
    expect(own.page?.body).toContain('name="decision"');
  });

  it('a refresh token raced on both replicas: one rotation wins, or the reuse grace answers the other, and one grant lives on', async (ctx) => {
    if (skipped(ctx)) return;
    const { client, refresh: start } = await tokensFor('a');
    let current = start;
    for (let round = 0; round < 5; round++) {
      const answers = await Promise.all([refresh(r.a, client, current), refresh(r.b, client, current)]);
      const won = answers.filter((a) => a.status === 200);
      // Both requests are the same client within the grace: never a revocation, at least one answer.
      expect(won.length).toBeGreaterThanOrEqual(1);
      for (const lost of answers.filter((a) => a.status !== 200)) {
        expect(lost.status).toBe(400);
        expect(lost.body['error']).toBe('invalid_grant');
        expect(String(lost.body['error_description'])).toContain('newer refresh token');
      }
      // Two answers mean the grace retired the first successor: exactly one refresh token is live.
      const live: string[] = [];
      for (const answer of won)
        if (await introspect(r[round % 2 === 0 ? 'b' : 'a'], client, String(answer.body['refresh_token']))) live.push(String(answer.body['refresh_token']));
      expect(live).toHaveLength(1);
      current = live[0]!;
      expect(await verifyOnBoth(String(won.at(-1)!.body['access_token']))).toEqual([200, 200]);
    }
    expect((await refresh(r.b, client, current)).status).toBe(200);
  });
});

describe('local login on two replicas', () => {
  let local: AuthReplicas | undefined;

  beforeAll(async () => {
    if (redis === undefined || 'skip' in redis) return;
    local = await startAuthReplicas({ redisUrl: redis.url, config: { provider: { type: 'local', user: 'alice' } } });
  });
  afterAll(async () => {
    await local?.close();
  });

  /** /authorize on `on`; the one-time code from that replica's log and the login form's txn. */
  async function beginLocal(on: ReplicaName, browser: TestBrowser) {
    const l = local!;
    const res = await fetch(`${l[on].url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': newAddress() },
      body: JSON.stringify({ client_name: 'local replicas', redirect_uris: [CLIENT_REDIRECT], token_endpoint_auth_method: 'none' }),
    });
    const { client_id } = (await res.json()) as { client_id: string };
    l.router.route(on);
    const form = await browser.open(
      authorizeUrl(l, {
        response_type: 'code',
        client_id,
        redirect_uri: CLIENT_REDIRECT,
        code_challenge: newPkce().challenge,
        code_challenge_method: 'S256',
        resource: l.urls.resourceFor('echo'),
      }),
    );
    expect(form.page?.body).toContain('name="code"');
    const txn = new URL(form.hops.at(-1)!).searchParams.get('txn')!;
    const announced = l[on].logLines().findLast((line) => line['event'] === 'local_login_code');
    return { txn, code: String(announced?.['code']) };
  }

  const submit = (browser: TestBrowser, txn: string, code: string) =>
    browser.open(`${local!.urls.issuer}/login/local`, { method: 'POST', form: { txn, code } });

  it('accepts on B the one-time code A announced, once', async (ctx) => {
    if (skipped(ctx)) return;
    const browser = new TestBrowser(CLIENT_REDIRECT);
    const { txn, code } = await beginLocal('a', browser);
    local!.router.route('b');
    const consent = await submit(browser, txn, code);
    expect(consent.page?.body).toContain('name="decision"');
    local!.router.route('a');
    expect((await submit(browser, txn, code)).page?.status).toBe(400);
  });

  it('counts the tries of one code across both replicas, guesses sent at once included', async (ctx) => {
    if (skipped(ctx)) return;
    const browser = new TestBrowser(CLIENT_REDIRECT);
    const { txn, code } = await beginLocal('b', browser);
    // Five wrong guesses at once, spread over both replicas: the five tries there are, not five each.
    local!.router.route('round-robin');
    const guesses = await Promise.all(['AAAA-AAAA', 'BBBB-BBBB', 'CCCC-CCCC', 'DDDD-DDDD', 'EEEE-EEEE'].map((wrong) => submit(browser, txn, wrong)));
    expect(guesses.map((g) => g.page?.status).sort()).toEqual([400, 401, 401, 401, 401]);
    expect(new Set(local!.router.served.slice(-5).map((s) => s.replica))).toEqual(new Set(['a', 'b']));
    // The right code now comes too late, on either replica.
    const late = await submit(browser, txn, code);
    expect(late.page?.status).toBe(400);
    expect(late.page?.body).not.toContain('name="decision"');
  });
});
