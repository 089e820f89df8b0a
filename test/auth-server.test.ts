import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signAccessToken } from '../runtime/auth/tokens/access-token.js';
import { ECHO_FIXTURE, startGatewayHarness, type GatewayHarness } from './helpers/gateway-harness.js';
import { CLIENT_REDIRECT, authorizeUrl, loginAndConsent, mcpInitialize, newPkce, obtainTokens, registerClient, tokenRequest } from './helpers/oauth-flow.js';

const ON_REDIS = process.env['MCPGW_TEST_STORE'] === 'redis';
let h: GatewayHarness;
let echo: string;

beforeAll(async () => {
  h = await startGatewayHarness();
  echo = h.urls.resourceFor('echo');
});
afterAll(async () => {
  await h?.close();
});

function form(url: string, body: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(body).toString(),
  });
}

function basic(id: string, secret: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}` };
}

describe('refresh token rotation and reuse detection', () => {
  it('revokes the whole family when a superseded refresh token comes back after the grace window', async () => {
    const tokens = await obtainTokens(h, echo);
    const rotated = await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: tokens.clientId });
    expect(rotated.status).toBe(200);
    h.advance(31_000);
    const reuse = await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: tokens.clientId });
    expect(reuse.body['error']).toBe('invalid_grant');
    // Everything of the family is dead: the newest refresh token and the access tokens.
    const newest = await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: String(rotated.body['refresh_token']), client_id: tokens.clientId });
    expect(newest.body['error']).toBe('invalid_grant');
    expect((await mcpInitialize(echo, String(rotated.body['access_token']))).status).toBe(401);
    expect((await mcpInitialize(echo, tokens.access_token)).status).toBe(401);
  });

  it('answers a retry within the grace window (a lost response); the retired successor turning up later revokes the family', async () => {
    const tokens = await obtainTokens(h, echo);
    const lost = await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: tokens.clientId });
    const retry = await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: tokens.clientId });
    expect(retry.status).toBe(200);
    expect(retry.body['refresh_token']).not.toBe(lost.body['refresh_token']);
    expect((await mcpInitialize(echo, String(retry.body['access_token']))).status).toBe(200);
    const unseen = await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: String(lost.body['refresh_token']), client_id: tokens.clientId });
    expect(unseen.body['error']).toBe('invalid_grant');
    expect((await mcpInitialize(echo, String(retry.body['access_token']))).status).toBe(401);
  });

  it('refuses a refresh token presented by another client and revokes its family', async () => {
    const tokens = await obtainTokens(h, echo);
    const thief = await registerClient(h);
    const stolen = await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: thief.client_id });
    expect(stolen.body['error']).toBe('invalid_grant');
    expect((await mcpInitialize(echo, tokens.access_token)).status).toBe(401);
  });

  it('refuses a refresh for another resource', async () => {
    const tokens = await obtainTokens(h, echo);
    const res = await tokenRequest(h, {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token,
      client_id: tokens.clientId,
      resource: h.urls.resourceFor('other'),
    });
    expect(res.body['error']).toBe('invalid_target');
  });
});

describe('authorization code replay', () => {
  it('fails with invalid_grant and revokes what the code issued', async () => {
    const client = await registerClient(h);
    const pkce = newPkce();
    const result = await loginAndConsent(h, {
      response_type: 'code',
      client_id: client.client_id,
      redirect_uri: CLIENT_REDIRECT,
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
      resource: echo,
    });
    const code = result.redirectedTo!.searchParams.get('code')!;
    const exchange = { grant_type: 'authorization_code', code, code_verifier: pkce.verifier, redirect_uri: CLIENT_REDIRECT, client_id: client.client_id };
    const first = await tokenRequest(h, exchange);
    expect((await mcpInitialize(echo, String(first.body['access_token']))).status).toBe(200);
    const replay = await tokenRequest(h, exchange);
    expect(replay.body['error']).toBe('invalid_grant');
    expect((await mcpInitialize(echo, String(first.body['access_token']))).status).toBe(401);
    expect(
      (await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: String(first.body['refresh_token']), client_id: client.client_id })).body['error'],
    ).toBe('invalid_grant');
  });
});

describe('RFC 7592 client management', () => {
  it('reads, updates and deletes a client with its registration access token; DELETE revokes its tokens', async () => {
    const tokens = await obtainTokens(h, echo);
    // obtainTokens registered the client; register another the same way to get its management credentials.
    const registered = await registerClient(h);
    const uri = String(registered['registration_client_uri']);
    const rat = String(registered['registration_access_token']);
    expect(uri).toBe(`${h.urls.registrationEndpoint}/${registered.client_id}`);

    const read = await fetch(uri, { headers: { authorization: `Bearer ${rat}` } });
    expect(read.status).toBe(200);
    expect(((await read.json()) as Record<string, unknown>)['redirect_uris']).toEqual([CLIENT_REDIRECT]);
    expect((await fetch(uri, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await fetch(uri)).status).toBe(401);
    expect((await fetch(`${h.urls.registrationEndpoint}/unknown`, { headers: { authorization: `Bearer ${rat}` } })).status).toBe(401);

    const update = (body: Record<string, unknown>) =>
      fetch(uri, { method: 'PUT', headers: { authorization: `Bearer ${rat}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const updated = await update({
      client_id: registered.client_id,
      redirect_uris: ['https://app.example/cb'],
      token_endpoint_auth_method: 'none',
      client_name: 'renamed',
    });
    expect(updated.status).toBe(200);
    const body = (await updated.json()) as Record<string, unknown>;
    expect(body['redirect_uris']).toEqual(['https://app.example/cb']);
    expect(body['client_name']).toBe('renamed');
    expect((await update({ client_id: 'someone-else', redirect_uris: ['https://app.example/cb'] })).status).toBe(400);
    expect((await update({ client_id: registered.client_id, redirect_uris: ['javascript:alert(1)'] })).status).toBe(400);

    const removed = await fetch(uri, { method: 'DELETE', headers: { authorization: `Bearer ${rat}` } });
    expect(removed.status).toBe(204);
    expect((await fetch(uri, { headers: { authorization: `Bearer ${rat}` } })).status).toBe(401);
    // The first client is untouched by deleting the second.
    expect((await mcpInitialize(echo, tokens.access_token)).status).toBe(200);
  });

  it('DELETE revokes every token and grant of the deleted client', async () => {
    const client = await registerClient(h);
    const pkce = newPkce();
    const result = await loginAndConsent(h, {
      response_type: 'code',
      client_id: client.client_id,
      redirect_uri: CLIENT_REDIRECT,
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
      resource: echo,
    });
    const issued = await tokenRequest(h, {
      grant_type: 'authorization_code',
      code: result.redirectedTo!.searchParams.get('code')!,
      code_verifier: pkce.verifier,
      redirect_uri: CLIENT_REDIRECT,
      client_id: client.client_id,
    });
    expect((await mcpInitialize(echo, String(issued.body['access_token']))).status).toBe(200);
    const removed = await fetch(String(client['registration_client_uri']), {
      method: 'DELETE',
      headers: { authorization: `Bearer ${String(client['registration_access_token'])}` },
    });
    expect(removed.status).toBe(204);
    expect((await mcpInitialize(echo, String(issued.body['access_token']))).status).toBe(401);
    expect(
      (await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: String(issued.body['refresh_token']), client_id: client.client_id })).status,
    ).toBe(401);
  });
});

describe('revocation (RFC 7009) and introspection (RFC 7662)', () => {
  it('lets a client revoke its own refresh token, which ends the grant', async () => {
    const tokens = await obtainTokens(h, echo);
    const res = await form(`${h.urls.issuer}/revoke`, { token: tokens.refresh_token, token_type_hint: 'refresh_token', client_id: tokens.clientId });
    expect(res.status).toBe(200);
    expect((await mcpInitialize(echo, tokens.access_token)).status).toBe(401);
    expect((await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: tokens.clientId })).body['error']).toBe(
      'invalid_grant',
    );
  });

  it('lets a client revoke its own access token', async () => {
    const tokens = await obtainTokens(h, echo);
    expect((await form(`${h.urls.issuer}/revoke`, { token: tokens.access_token, client_id: tokens.clientId })).status).toBe(200);
    expect((await mcpInitialize(echo, tokens.access_token)).status).toBe(401);
  });

  it("refuses to revoke another client's token and leaves it working", async () => {
    const tokens = await obtainTokens(h, echo);
    const other = await registerClient(h);
    const res = await form(`${h.urls.issuer}/revoke`, { token: tokens.access_token, client_id: other.client_id });
    expect(res.status).toBe(400);
    expect(((await res.json()) as Record<string, unknown>)['error']).toBe('unauthorized_client');
    expect((await mcpInitialize(echo, tokens.access_token)).status).toBe(200);
  });

  it('answers 200 for an unknown token and 401 for an unknown client', async () => {
    const client = await registerClient(h);
    expect((await form(`${h.urls.issuer}/revoke`, { token: 'garbage', client_id: client.client_id })).status).toBe(200);
    expect((await form(`${h.urls.issuer}/revoke`, { token: 'garbage', client_id: 'nobody' })).status).toBe(401);
    expect((await fetch(`${h.urls.issuer}/revoke`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(400);
  });

  it('introspects only for authenticated confidential clients, and only their own tokens', async () => {
    const confidential = await registerClient(h, { token_endpoint_auth_method: 'client_secret_basic' });
    const pkce = newPkce();
    const result = await loginAndConsent(h, {
      response_type: 'code',
      client_id: confidential.client_id,
      redirect_uri: CLIENT_REDIRECT,
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
      resource: echo,
    });
    const auth = basic(confidential.client_id, String(confidential.client_secret));
    const issued = await tokenRequest(
      h,
      { grant_type: 'authorization_code', code: result.redirectedTo!.searchParams.get('code')!, code_verifier: pkce.verifier, redirect_uri: CLIENT_REDIRECT },
      auth,
    );
    expect(issued.status).toBe(200);

    const own = (await (await form(`${h.urls.issuer}/introspect`, { token: String(issued.body['access_token']) }, auth)).json()) as Record<string, unknown>;
    expect(own).toMatchObject({ active: true, client_id: confidential.client_id, username: 'alice', aud: echo, iss: h.urls.issuer, token_type: 'Bearer' });
    const refresh = (await (await form(`${h.urls.issuer}/introspect`, { token: String(issued.body['refresh_token']) }, auth)).json()) as Record<
      string,
      unknown
    >;
    expect(refresh['active']).toBe(true);

    const foreign = await obtainTokens(h, echo);
    expect(await (await form(`${h.urls.issuer}/introspect`, { token: foreign.access_token }, auth)).json()).toEqual({ active: false });
    expect(await (await form(`${h.urls.issuer}/introspect`, { token: 'garbage' }, auth)).json()).toEqual({ active: false });
    // A public client (no secret) and a wrong secret are refused.
    expect((await form(`${h.urls.issuer}/introspect`, { token: foreign.access_token, client_id: foreign.clientId })).status).toBe(401);
    expect((await form(`${h.urls.issuer}/introspect`, { token: foreign.access_token }, basic(confidential.client_id, 'wrong'))).status).toBe(401);

    await form(`${h.urls.issuer}/revoke`, { token: String(issued.body['access_token']) }, auth);
    expect(await (await form(`${h.urls.issuer}/introspect`, { token: String(issued.body['access_token']) }, auth)).json()).toEqual({ active: false });
  });
});

describe('stale client reaping', () => {
  // Moves the gateway's clock past a store TTL: only the embedded store follows that clock (Redis TTLs are proven in store-contract).
  it.skipIf(ON_REDIS)('forgets a client never used after unusedTtl, keeps a used one, and leaves other grants alone', async () => {
    const idle = await registerClient(h);
    const used = await obtainTokens(h, echo);
    h.advance(25 * 3_600_000);
    const pkce = newPkce();
    const gone = await fetch(
      authorizeUrl(h, {
        response_type: 'code',
        client_id: idle.client_id,
        redirect_uri: CLIENT_REDIRECT,
        code_challenge: pkce.challenge,
        code_challenge_method: 'S256',
      }),
      { redirect: 'manual' },
    );
    expect(gone.status).toBe(400);
    const refreshed = await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: used.refresh_token, client_id: used.clientId });
    expect(refreshed.status).toBe(200);
  });
});

describe('metadata', () => {
  it('advertises revocation, introspection and CIMD support', async () => {
    const body = (await (await fetch(`${h.urls.issuer}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(body['revocation_endpoint']).toBe(`${h.urls.issuer}/revoke`);
    expect(body['introspection_endpoint']).toBe(`${h.urls.issuer}/introspect`);
    expect(body['client_id_metadata_document_supported']).toBe(true);
    expect(body['token_endpoint_auth_methods_supported']).toContain('none');
  });

  it('answers CORS preflights on the OAuth endpoints', async () => {
    const res = await fetch(`${h.urls.issuer}/token`, { method: 'OPTIONS', headers: { origin: 'https://claude.ai', 'access-control-request-method': 'POST' } });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
  });
});

describe('scopes and registration limits (a gateway configured with them)', () => {
  let s: GatewayHarness;
  beforeAll(async () => {
    s = await startGatewayHarness({
      servers: { echo: { command: process.execPath, args: [ECHO_FIXTURE], scopes: ['tools:call'] } },
      clients: { registrationsPer10Min: 3 },
    });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('advertises the scopes and steps up with 403 insufficient_scope for a token without them', async () => {
    const resource = s.urls.resourceFor('echo');
    const prm = (await (await fetch(`${s.urls.issuer}/.well-known/oauth-protected-resource/echo/mcp`)).json()) as Record<string, unknown>;
    expect(prm['scopes_supported']).toEqual(['tools:call']);
    const challenge = (await mcpInitialize(resource, undefined)).headers.get('www-authenticate');
    expect(challenge).toContain('scope="tools:call"');
    const { token } = await signAccessToken(
      { sub: 'alice', login: 'alice', clientId: 'c', audience: resource },
      { keys: s.keys, issuer: s.urls.issuer, ttlMs: 60_000, now: Date.now() },
    );
    const res = await mcpInitialize(resource, token);
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    const scoped = await obtainTokens(s, resource);
    expect((await mcpInitialize(resource, scoped.access_token)).status).toBe(200);
  });

  it('refuses a request for scopes the server does not define', async () => {
    const client = await registerClient(s);
    const res = await fetch(
      authorizeUrl(s, {
        response_type: 'code',
        client_id: client.client_id,
        redirect_uri: CLIENT_REDIRECT,
        code_challenge: newPkce().challenge,
        code_challenge_method: 'S256',
        scope: 'admin',
      }),
      { redirect: 'manual' },
    );
    expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('invalid_scope');
  });

  it('rate-limits registration per source address with 429', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await fetch(s.urls.registrationEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ redirect_uris: [CLIENT_REDIRECT] }),
      });
      statuses.push(res.status);
    }
    expect(statuses.at(-1)).toBe(429);
  });
});
