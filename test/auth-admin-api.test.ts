import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signAccessToken } from '../runtime/auth/tokens/access-token.js';
import type { ClientDetail, ClientSummary, GrantSummary, PruneReport, RevokeReport } from '../runtime/auth/admin/admin-types.js';
import { startGatewayHarness, type GatewayHarness } from './helpers/gateway-harness.js';
import { expectNo5xx } from './helpers/hostile.js';
import { startLocalGateway } from './helpers/local-gateway.js';
import { CLIENT_REDIRECT, loginAndConsent, mcpInitialize, newPkce, obtainTokens, registerClient, tokenRequest } from './helpers/oauth-flow.js';

/*
 * The admin API (runtime/auth/admin/admin-api.ts) against the in-process gateway; this file runs on
 * the embedded store and on Redis (vitest.config.ts), so the family records and indexes behind
 * it are exercised on both.
 */
const ON_REDIS = process.env['MCPGW_TEST_STORE'] === 'redis';
const ADMIN_TOKEN = randomBytes(32).toString('base64url');
const DAY_MS = 86_400_000;
const USERS = [
  { id: 1001, login: 'alice', name: 'Alice Liddell' },
  { id: 1003, login: 'bob', name: 'Bob' },
];

/** `token: null` sends no Authorization header. */
function admin(h: GatewayHarness, method: string, path: string, body?: unknown, token: string | null = ADMIN_TOKEN): Promise<Response> {
  return fetch(`${h.urls.issuer}/admin${path}`, {
    method,
    headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
}

async function adminJson<T>(h: GatewayHarness, method: string, path: string, body?: unknown): Promise<T> {
  const res = await admin(h, method, path, body);
  expect(res.status, `${method} ${path}`).toBe(200);
  expect(res.headers.get('cache-control')).toBe('no-store');
  return (await res.json()) as T;
}

function startAdminHarness(): Promise<GatewayHarness> {
  return startGatewayHarness({ allowedUsers: ['alice', 'bob'], clients: { registrationsPer10Min: 10_000 } }, { adminToken: ADMIN_TOKEN, githubUsers: USERS });
}

/** Logs `login` in through the GitHub stand-in and returns the tokens of a fresh client. */
async function tokensFor(h: GatewayHarness, login: string): Promise<{ clientId: string; access_token: string; refresh_token: string }> {
  h.github.setCurrentUser(login);
  try {
    return await obtainTokens(h, h.urls.resourceFor('echo'));
  } finally {
    h.github.setCurrentUser('alice');
  }
}

describe('admin API: clients and grants', () => {
  let h: GatewayHarness;
  let echo: string;
  beforeAll(async () => {
    h = await startAdminHarness();
    echo = h.urls.resourceFor('echo');
  });
  afterAll(async () => {
    await h?.close();
  });

  it('lists registered clients with their active grants and last use', async () => {
    const idle = await registerClient(h, { client_name: 'idle client' });
    const used = await tokensFor(h, 'alice');
    const { clients } = await adminJson<{ clients: ClientSummary[] }>(h, 'GET', '/clients');
    const idleEntry = clients.find((c) => c.clientId === idle.client_id);
    expect(idleEntry).toMatchObject({ clientName: 'idle client', activeGrants: 0, lastUsedAt: null, tokenEndpointAuthMethod: 'none' });
    expect(clients.find((c) => c.clientId === used.clientId)).toMatchObject({ activeGrants: 1, lastUsedAt: expect.any(String) });
  });

  it('shows one client with its grants, and answers 404 ERR_CLIENT_UNKNOWN for an unknown one', async () => {
    const tokens = await tokensFor(h, 'alice');
    const { client } = await adminJson<{ client: ClientDetail }>(h, 'GET', `/clients/${tokens.clientId}`);
    expect(client.grants).toHaveLength(1);
    expect(client.grants[0]).toMatchObject({
      clientId: tokens.clientId,
      user: 'alice',
      sub: 'github:1001',
      resource: echo,
      revoked: false,
      lastRefreshedAt: null,
    });
    const unknown = await admin(h, 'GET', '/clients/nobody');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: 'not_found', code: 'ERR_CLIENT_UNKNOWN' });
  });

  it('lists grants by user (any case) and by client, and records the last refresh', async () => {
    const alice = await tokensFor(h, 'alice');
    const bob = await tokensFor(h, 'bob');
    const refreshed = await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: alice.refresh_token, client_id: alice.clientId });
    expect(refreshed.status).toBe(200);
    const byUser = (await adminJson<{ grants: GrantSummary[] }>(h, 'GET', '/grants?user=ALICE')).grants;
    expect(byUser.every((g) => g.user === 'alice')).toBe(true);
    expect(byUser.find((g) => g.clientId === alice.clientId)?.lastRefreshedAt).toEqual(expect.any(String));
    const byClient = (await adminJson<{ grants: GrantSummary[] }>(h, 'GET', `/grants?client=${encodeURIComponent(bob.clientId)}`)).grants;
    expect(byClient).toHaveLength(1);
    expect(byClient[0]).toMatchObject({ user: 'bob', clientId: bob.clientId });
    const both = (await adminJson<{ grants: GrantSummary[] }>(h, 'GET', `/grants?user=bob&client=${encodeURIComponent(alice.clientId)}`)).grants;
    expect(both).toEqual([]);
  });

  it("revokes a user's grants: their access tokens are refused and their refresh tokens fail; other users keep theirs", async () => {
    const alice = await tokensFor(h, 'alice');
    const bob = await tokensFor(h, 'bob');
    const report = await adminJson<RevokeReport>(h, 'POST', '/grants/revoke', { user: 'alice' });
    expect(report.revoked.length).toBeGreaterThanOrEqual(1);
    expect((await mcpInitialize(echo, alice.access_token)).status).toBe(401);
    expect((await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: alice.refresh_token, client_id: alice.clientId })).body['error']).toBe(
      'invalid_grant',
    );
    expect((await mcpInitialize(echo, bob.access_token)).status).toBe(200);
    const again = await adminJson<RevokeReport>(h, 'POST', '/grants/revoke', { user: 'alice' });
    expect(again.revoked).toEqual([]);
    expect(again.alreadyRevoked).toBe(report.revoked.length);
    const listed = (await adminJson<{ grants: GrantSummary[] }>(h, 'GET', '/grants?user=alice')).grants;
    expect(listed.every((g) => g.revoked && g.revokedReason === 'revoked by an operator')).toBe(true);
  });

  it("revokes a client's grants and leaves the client registered", async () => {
    const first = await tokensFor(h, 'bob');
    const second = await tokensFor(h, 'bob');
    const report = await adminJson<RevokeReport>(h, 'POST', '/grants/revoke', { client: first.clientId });
    expect(report.revoked).toHaveLength(1);
    expect((await mcpInitialize(echo, first.access_token)).status).toBe(401);
    expect((await mcpInitialize(echo, second.access_token)).status).toBe(200);
    expect((await admin(h, 'GET', `/clients/${first.clientId}`)).status).toBe(200);
  });

  it('revokes one grant by its id, and answers 404 for an unknown one', async () => {
    const tokens = await tokensFor(h, 'bob');
    const [grant] = (await adminJson<{ grants: GrantSummary[] }>(h, 'GET', `/grants?client=${encodeURIComponent(tokens.clientId)}`)).grants;
    expect((await adminJson<RevokeReport>(h, 'POST', '/grants/revoke', { family: grant!.familyId })).revoked).toEqual([grant!.familyId]);
    expect((await mcpInitialize(echo, tokens.access_token)).status).toBe(401);
    const unknown = await admin(h, 'POST', '/grants/revoke', { family: 'no-such-grant' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: 'ERR_GRANT_UNKNOWN' });
  });

  it('removes a client like RFC 7592 DELETE: its grants revoked first, then the client forgotten', async () => {
    const tokens = await tokensFor(h, 'bob');
    const { removed } = await adminJson<{ removed: { clientId: string; revokedGrants: number } }>(h, 'DELETE', `/clients/${tokens.clientId}`);
    expect(removed).toMatchObject({ clientId: tokens.clientId, revokedGrants: 1 });
    expect((await mcpInitialize(echo, tokens.access_token)).status).toBe(401);
    expect((await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: tokens.clientId })).status).toBe(401);
    expect((await admin(h, 'DELETE', `/clients/${tokens.clientId}`)).status).toBe(404);
  });

  it('revokes one access token by jti (what smoke does with the tokens it minted)', async () => {
    const now = Date.now();
    const { token, jti, expiresIn } = await signAccessToken(
      { sub: 'alice', login: 'alice', clientId: 'mcp-gateway-smoke', audience: echo },
      { keys: h.keys, issuer: h.urls.issuer, ttlMs: 300_000, now },
    );
    expect((await mcpInitialize(echo, token)).status).toBe(200);
    await adminJson(h, 'POST', '/tokens/revoke', { jti, expiresAt: (Math.floor(now / 1000) + expiresIn) * 1000 });
    const refused = await mcpInitialize(echo, token);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('revoked');
  });
});

describe('admin API: prune', () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startAdminHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('reports clients never used past --unused-for on a dry run, then removes them; used clients stay until idle', async () => {
    const unused = await registerClient(h, { client_name: 'never used' });
    const used = await tokensFor(h, 'alice');
    h.advance(5_000);
    const dry = await adminJson<PruneReport>(h, 'POST', '/clients/prune', { unusedForMs: 1_000, dryRun: true });
    expect(dry.dryRun).toBe(true);
    expect(dry.clients.map((c) => [c.clientId, c.reason])).toEqual([[unused.client_id, 'unused']]);
    expect((await admin(h, 'GET', `/clients/${unused.client_id}`)).status).toBe(200);

    const real = await adminJson<PruneReport>(h, 'POST', '/clients/prune', { unusedForMs: 1_000 });
    expect(real.clients.map((c) => c.clientId)).toEqual([unused.client_id]);
    expect((await admin(h, 'GET', `/clients/${unused.client_id}`)).status).toBe(404);
    expect((await mcpInitialize(h.urls.resourceFor('echo'), used.access_token)).status).toBe(200);

    const idle = await adminJson<PruneReport>(h, 'POST', '/clients/prune', { idleForMs: 1_000 });
    expect(idle.clients).toMatchObject([{ clientId: used.clientId, reason: 'idle', revokedGrants: 1 }]);
    expect((await mcpInitialize(h.urls.resourceFor('echo'), used.access_token)).status).toBe(401);
  });

  it('prunes nothing with the default lifetimes right after registration', async () => {
    await registerClient(h);
    const report = await adminJson<PruneReport>(h, 'POST', '/clients/prune', {});
    expect(report).toMatchObject({ dryRun: false, unusedForMs: 24 * 3_600_000, idleForMs: 90 * 86_400_000, clients: [] });
  });
});

describe('grant indexes of long-lived grants', () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startAdminHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  // The indexes by client and user used to live one refresh lifetime from the grant's start, so a
  // grant kept alive by refreshes dropped out of them and survived RFC 7592 DELETE. Moves the
  // gateway's clock past store TTLs: only the embedded store follows that clock.
  it.skipIf(ON_REDIS)('a grant refreshed beyond the refresh lifetime is still revoked when its client is deleted', async () => {
    const client = await registerClient(h);
    const pkce = newPkce();
    const echo = h.urls.resourceFor('echo');
    const result = await loginAndConsent(h, {
      response_type: 'code',
      client_id: client.client_id,
      redirect_uri: CLIENT_REDIRECT,
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
      resource: echo,
    });
    let tokens = (
      await tokenRequest(h, {
        grant_type: 'authorization_code',
        code: result.redirectedTo!.searchParams.get('code')!,
        code_verifier: pkce.verifier,
        redirect_uri: CLIENT_REDIRECT,
        client_id: client.client_id,
      })
    ).body;
    for (let i = 0; i < 2; i++) {
      h.advance(20 * DAY_MS);
      const refreshed = await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: String(tokens['refresh_token']), client_id: client.client_id });
      expect(refreshed.status).toBe(200);
      tokens = refreshed.body;
    }
    expect((await mcpInitialize(echo, String(tokens['access_token']))).status).toBe(200);
    const removed = await fetch(String(client['registration_client_uri']), {
      method: 'DELETE',
      headers: { authorization: `Bearer ${String(client['registration_access_token'])}` },
    });
    expect(removed.status).toBe(204);
    expect((await mcpInitialize(echo, String(tokens['access_token']))).status).toBe(401);
  });
});

describe('admin API: hostile input', () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startAdminHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it.each([
    ['no Authorization header', null],
    ['a wrong token', randomBytes(32).toString('base64url')],
    ['the token with one character changed', `${ADMIN_TOKEN.slice(0, -1)}${ADMIN_TOKEN.endsWith('A') ? 'B' : 'A'}`],
    ['an empty bearer', ''],
    ['a prefix of the token', ADMIN_TOKEN.slice(0, 20)],
  ])('answers 401 with a Bearer challenge to %s, on every endpoint', async (_, token) => {
    for (const [method, path] of [
      ['GET', '/ping'],
      ['GET', '/clients'],
      ['DELETE', '/clients/x'],
      ['POST', '/grants/revoke'],
      ['GET', '/no-such-endpoint'],
    ] as const) {
      const res = await admin(h, method, path, method === 'POST' ? { user: 'alice' } : undefined, token);
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
    }
  });

  it('refuses the token in other places than the Authorization header', async () => {
    expect((await fetch(`${h.urls.issuer}/admin/clients?access_token=${ADMIN_TOKEN}`)).status).toBe(401);
    expect(
      (await fetch(`${h.urls.issuer}/admin/clients`, { headers: { authorization: `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}` } })).status,
    ).toBe(401);
    expect((await fetch(`${h.urls.issuer}/admin/clients`, { headers: { cookie: `token=${ADMIN_TOKEN}` } })).status).toBe(401);
  });

  it.each([
    ['malformed JSON', 'POST', '/grants/revoke', '{"user":', 'application/json'],
    ['JSON that is not an object', 'POST', '/grants/revoke', '["alice"]', 'application/json'],
    ['a form body', 'POST', '/grants/revoke', 'user=alice', 'application/x-www-form-urlencoded'],
    ['no filter at all', 'POST', '/grants/revoke', '{}', 'application/json'],
    ['an unknown field', 'POST', '/grants/revoke', '{"user":"alice","everything":true}', 'application/json'],
    ['a number as user', 'POST', '/grants/revoke', '{"user":42}', 'application/json'],
    ['a family id with slashes', 'POST', '/grants/revoke', '{"family":"../../etc"}', 'application/json'],
    ['a negative prune age', 'POST', '/clients/prune', '{"unusedForMs":-1}', 'application/json'],
    ['a string prune age', 'POST', '/clients/prune', '{"idleForMs":"90d"}', 'application/json'],
    ['a jti with spaces', 'POST', '/tokens/revoke', `{"jti":"a b","expiresAt":${Date.now() + 60_000}}`, 'application/json'],
    ['an expiry years away', 'POST', '/tokens/revoke', `{"jti":"abc","expiresAt":${Date.now() + 5 * 365 * 86_400_000}}`, 'application/json'],
    ['an expiry that is not a number', 'POST', '/tokens/revoke', '{"jti":"abc","expiresAt":"tomorrow"}', 'application/json'],
  ])('answers 400 to %s', async (_, method, path, body, type) => {
    const res = await fetch(`${h.urls.issuer}/admin${path}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': type }, body });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_request');
  });

  it('answers a repeated query parameter, an over-long client id and an oversized body with 4xx, never 5xx', async () => {
    const cases: Array<[string, Promise<Response>]> = [
      ['repeated user', admin(h, 'GET', '/grants?user=alice&user=bob')],
      ['nested query', admin(h, 'GET', '/grants?user[x]=1')],
      ['unknown query field', admin(h, 'GET', '/grants?everything=1')],
      ['long client id', admin(h, 'GET', `/clients/${'x'.repeat(300)}`)],
      ['encoded traversal', admin(h, 'GET', '/clients/..%2F..%2Fetc%2Fpasswd')],
      ['control characters', admin(h, 'GET', '/clients/%00%0a%1b')],
      ['oversized body', admin(h, 'POST', '/grants/revoke', JSON.stringify({ user: 'x'.repeat(20_000) }))],
      ['unknown endpoint', admin(h, 'GET', '/no-such-endpoint')],
      ['wrong method', admin(h, 'PUT', '/clients')],
    ];
    for (const [label, pending] of cases) {
      const res = await pending;
      expectNo5xx(res.status, label);
      expect(res.status, label).toBeGreaterThanOrEqual(400);
    }
  });

  // Last in this block: the failures above and here count against this address.
  it('limits failed attempts per address with 429, while the right token keeps working', async () => {
    let limited: Response | undefined;
    for (let i = 0; i < 40 && !limited; i++) {
      const res = await admin(h, 'GET', '/clients', undefined, 'wrong');
      if (res.status === 429) limited = res;
      else expect(res.status).toBe(401);
    }
    expect(limited?.status).toBe(429);
    expect((await admin(h, 'GET', '/clients')).status).toBe(200);
  });
});

describe('admin API without an admin token', () => {
  it('does not exist: /admin/* is a 404 like any unknown path, whatever the credentials', async () => {
    const gateway = await startLocalGateway({ servers: {} });
    try {
      for (const token of [undefined, ADMIN_TOKEN]) {
        const res = await fetch(`${gateway.urls.issuer}/admin/clients`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
        expect(res.status).toBe(404);
      }
    } finally {
      await gateway.close();
    }
  });
});
