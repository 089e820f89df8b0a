import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayHarness } from './helpers/gateway-harness.js';
import { basicAuth, expectHealthy, expectNo5xx, postForm, registerConfidential, startHostileHarness } from './helpers/hostile.js';
import { CLIENT_REDIRECT, loginAndConsent, mcpInitialize, newPkce, obtainTokens, registerClient, tokenRequest, type Pkce } from './helpers/oauth-flow.js';

/**
 * Hostile use of grants and credentials: replayed and cross-client codes, wrong verifiers
 * (RFC 7636 §4.1, §4.6), tokens of one kind presented as another, superseded and concurrent
 * refresh tokens, RFC 7592 without the right registration access token, and /revoke and
 * /introspect (RFC 7009 §2.1, RFC 7662 §2.1) without the right client authentication.
 */
let h: GatewayHarness;
let echo: string;

beforeAll(async () => {
  h = await startHostileHarness();
  echo = h.urls.resourceFor('echo');
});
afterAll(async () => {
  await h?.close();
});

async function codeFor(
  params: Record<string, string | undefined> = {},
  metadata: Record<string, unknown> = {},
): Promise<{ clientId: string; pkce: Pkce; code: string }> {
  const client = await registerClient(h, metadata);
  const pkce = newPkce();
  const result = await loginAndConsent(h, {
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: CLIENT_REDIRECT,
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
    resource: echo,
    ...params,
  });
  const code = result.redirectedTo?.searchParams.get('code');
  if (!code) throw new Error(`no code: ${result.redirectedTo?.href ?? result.page?.body.slice(0, 200)}`);
  return { clientId: client.client_id, pkce, code };
}

function exchange(clientId: string, code: string, verifier: string, extra: Record<string, string> = {}) {
  return tokenRequest(h, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: CLIENT_REDIRECT, client_id: clientId, ...extra });
}

describe('authorization codes', () => {
  it('refuses a code redeemed by another client, and the code is spent for its own client too', async () => {
    const { clientId, pkce, code } = await codeFor();
    const intruder = await registerClient(h);
    const stolen = await exchange(intruder.client_id, code, pkce.verifier);
    expect(stolen.status).toBe(400);
    expect(stolen.body['error']).toBe('invalid_grant');
    const late = await exchange(clientId, code, pkce.verifier);
    expectNo5xx(late.status, 'redemption after a cross-client attempt');
    expect(late.body['error']).toBe('invalid_grant');
  });

  it('redeems a code raced by several concurrent requests exactly once', async () => {
    const { clientId, pkce, code } = await codeFor();
    const race = await Promise.all(Array.from({ length: 5 }, () => exchange(clientId, code, pkce.verifier)));
    for (const res of race) expectNo5xx(res.status, 'concurrent redemption');
    expect(race.filter((res) => res.status === 200)).toHaveLength(1);
    for (const res of race) if (res.status !== 200) expect(res.body['error']).toBe('invalid_grant');
  });

  it('refuses wrong, short, long and malformed verifiers with invalid_grant or invalid_request', async () => {
    const verifiers = [
      newPkce().verifier,
      'a'.repeat(42),
      'a'.repeat(129),
      `${'a'.repeat(42)}+/=`,
      `${'a'.repeat(43)}\u00e9`,
      '%00'.repeat(20),
      ' '.repeat(50),
    ];
    for (const verifier of verifiers) {
      const { clientId, pkce, code } = await codeFor();
      const res = await exchange(clientId, code, verifier);
      expect(res.status, JSON.stringify(verifier)).toBe(400);
      expect(['invalid_grant', 'invalid_request'], JSON.stringify(verifier)).toContain(res.body['error']);
      // A wrong guess spends the code (RFC 6749 §4.1.2: single use), so guessing cannot be repeated.
      expect((await exchange(clientId, code, pkce.verifier)).body['error']).toBe('invalid_grant');
    }
  });

  it('refuses the challenge itself as the verifier (a plain-method downgrade) and a missing verifier', async () => {
    const first = await codeFor();
    expect((await exchange(first.clientId, first.code, first.pkce.challenge)).body['error']).toBe('invalid_grant');
    const second = await codeFor();
    const missing = await tokenRequest(h, { grant_type: 'authorization_code', code: second.code, redirect_uri: CLIENT_REDIRECT, client_id: second.clientId });
    expect(missing.body['error']).toBe('invalid_request');
  });

  it('refuses codes that are garbage, huge, repeated or another kind of token', async () => {
    const tokens = await obtainTokens(h, echo);
    const client = await registerClient(h);
    const verifier = newPkce().verifier;
    for (const code of ['x', 'a'.repeat(5000), tokens.refresh_token, tokens.access_token, '%00', '\u202e']) {
      const res = await exchange(client.client_id, code, verifier);
      expect(res.status).toBe(400);
      expect(res.body['error']).toBe('invalid_grant');
    }
    const repeated = await postForm(
      h.urls.tokenEndpoint,
      `grant_type=authorization_code&code=a&code=b&code_verifier=${verifier}&client_id=${client.client_id}&redirect_uri=${encodeURIComponent(CLIENT_REDIRECT)}`,
    );
    expect(repeated.status).toBe(400);
    expect(((await repeated.json()) as Record<string, unknown>)['error']).toBe('invalid_request');
  });

  // Bug: RFC 6749 §4.1.3 (and OAuth 2.1 §4.1.3) require redirect_uri at the token endpoint only
  // "if the redirect_uri parameter was included in the authorization request". grants.ts stores the
  // defaulted redirect URI and token-endpoint.ts compares it with the absent parameter.
  it('accepts a token request without redirect_uri when the authorization request had none', async () => {
    const { clientId, pkce, code } = await codeFor({ redirect_uri: undefined });
    const res = await tokenRequest(h, { grant_type: 'authorization_code', code, code_verifier: pkce.verifier, client_id: clientId });
    expect(res.status).toBe(200);
  });
});

describe('refresh tokens', () => {
  it('refuses mangled refresh tokens and tokens of another kind without touching the grant', async () => {
    const tokens = await obtainTokens(h, echo);
    for (const presented of [
      `${tokens.refresh_token}x`,
      tokens.refresh_token.slice(0, -1),
      tokens.refresh_token.toUpperCase(),
      'a'.repeat(5000),
      tokens.access_token,
      `${tokens.refresh_token} `,
    ]) {
      const res = await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: presented, client_id: tokens.clientId });
      expect(res.status).toBe(400);
      expect(res.body['error']).toBe('invalid_grant');
    }
    expect((await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: tokens.clientId })).status).toBe(200);
  });

  it('refuses a refresh token, a code and a registration access token as bearer tokens at the MCP endpoint', async () => {
    const tokens = await obtainTokens(h, echo);
    const client = await registerClient(h);
    const { code } = await codeFor();
    for (const bearer of [tokens.refresh_token, code, String(client['registration_access_token'])]) {
      const res = await mcpInitialize(echo, bearer);
      expect(res.status).toBe(401);
    }
  });

  it('refuses a superseded refresh token after the grace window and revokes the family', async () => {
    const tokens = await obtainTokens(h, echo);
    const rotated = await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: tokens.clientId });
    expect(rotated.status).toBe(200);
    h.advance(31_000);
    const reuse = await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: tokens.clientId });
    expect(reuse.body['error']).toBe('invalid_grant');
    expect(
      (await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: String(rotated.body['refresh_token']), client_id: tokens.clientId })).body['error'],
    ).toBe('invalid_grant');
  });

  it('answers a burst of concurrent refreshes with one token without a 5xx', async () => {
    const tokens = await obtainTokens(h, echo);
    const burst = await Promise.all(
      Array.from({ length: 6 }, () => tokenRequest(h, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: tokens.clientId })),
    );
    for (const res of burst) expectNo5xx(res.status, 'concurrent refresh');
    expect(burst.some((res) => res.status === 200)).toBe(true);
    for (const res of burst) if (res.status !== 200) expect(res.body['error']).toBe('invalid_grant');
  });
});

describe('RFC 7592 client configuration endpoint', () => {
  it('refuses every request without the exact registration access token of that client, revealing nothing', async () => {
    const victim = await registerConfidential(h);
    const attacker = await registerConfidential(h);
    const wrong: Array<Record<string, string>> = [
      {},
      { authorization: 'Bearer' },
      { authorization: `Bearer ${attacker.registrationAccessToken}` },
      { authorization: `Bearer ${victim.registrationAccessToken}x` },
      { authorization: `Bearer ${victim.registrationAccessToken.slice(0, -1)}` },
      { authorization: `Basic ${Buffer.from(`${victim.clientId}:${victim.registrationAccessToken}`).toString('base64')}` },
      { authorization: victim.authorization },
      { authorization: `Bearer ${victim.secret}` },
      { authorization: `Token ${victim.registrationAccessToken}` },
      { authorization: `Bearer ${victim.registrationAccessToken}, Bearer ${attacker.registrationAccessToken}` },
    ];
    for (const headers of wrong) {
      for (const method of ['GET', 'PUT', 'DELETE']) {
        const res = await fetch(victim.registrationClientUri, {
          method,
          headers: { ...headers, 'content-type': 'application/json' },
          body: method === 'PUT' ? JSON.stringify({ client_id: victim.clientId, redirect_uris: ['https://evil.example/cb'] }) : null,
        });
        expect(res.status, `${method} with ${JSON.stringify(headers).slice(0, 60)}`).toBe(401);
        expect(await res.text()).not.toContain(victim.clientId);
      }
    }
    const viaQuery = await fetch(`${victim.registrationClientUri}?access_token=${victim.registrationAccessToken}`);
    expect(viaQuery.status).toBe(401);
    // The victim is intact.
    const read = await fetch(victim.registrationClientUri, { headers: { authorization: `Bearer ${victim.registrationAccessToken}` } });
    expect(((await read.json()) as Record<string, unknown>)['redirect_uris']).toEqual([CLIENT_REDIRECT]);
  });

  it('refuses hostile updates with the right token and keeps the client as it was', async () => {
    const c = await registerConfidential(h);
    const put = (body: unknown) =>
      fetch(c.registrationClientUri, {
        method: 'PUT',
        headers: { authorization: `Bearer ${c.registrationAccessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    for (const body of [
      { client_id: c.clientId, redirect_uris: ['javascript:alert(1)'] },
      { client_id: c.clientId, client_secret: 'not-the-secret', redirect_uris: ['https://app.example/cb'] },
      { client_id: [c.clientId], redirect_uris: ['https://app.example/cb'] },
      { client_id: 'someone-else', redirect_uris: ['https://app.example/cb'] },
      { redirect_uris: ['https://app.example/cb'] },
      { client_id: c.clientId, redirect_uris: ['https://app.example/cb'], token_endpoint_auth_method: 'private_key_jwt' },
      { client_id: c.clientId, redirect_uris: ['https://app.example/cb'], grant_types: ['client_credentials'] },
    ]) {
      const res = await put(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    const read = await fetch(c.registrationClientUri, { headers: { authorization: `Bearer ${c.registrationAccessToken}` } });
    expect(((await read.json()) as Record<string, unknown>)['redirect_uris']).toEqual([CLIENT_REDIRECT]);
  });

  it('answers a second DELETE and a read after DELETE with 401', async () => {
    const c = await registerConfidential(h);
    const auth = { authorization: `Bearer ${c.registrationAccessToken}` };
    expect((await fetch(c.registrationClientUri, { method: 'DELETE', headers: auth })).status).toBe(204);
    expect((await fetch(c.registrationClientUri, { method: 'DELETE', headers: auth })).status).toBe(401);
    expect((await fetch(c.registrationClientUri, { headers: auth })).status).toBe(401);
  });
});

describe('revocation and introspection client authentication', () => {
  it('refuses missing, wrong and mixed client authentication with 400/401 and an RFC 6749 error', async () => {
    const confidential = await registerConfidential(h);
    const publicClient = await registerClient(h);
    const attempts: Array<[string, Record<string, string>, Record<string, string>]> = [
      ['no authentication', {}, {}],
      ['unknown client_id', {}, { client_id: 'nobody' }],
      ['wrong secret (basic)', { authorization: basicAuth(confidential.clientId, 'wrong') }, {}],
      ['right secret sent as client_secret_post to a basic client', {}, { client_id: confidential.clientId, client_secret: confidential.secret }],
      ['basic and post together', { authorization: confidential.authorization }, { client_secret: confidential.secret }],
      ['basic with another client_id in the body', { authorization: confidential.authorization }, { client_id: publicClient.client_id }],
      ['Basic without a colon', { authorization: `Basic ${Buffer.from('nocolon').toString('base64')}` }, {}],
      ['Basic with bad percent-encoding', { authorization: `Basic ${Buffer.from('%ZZ:%ZZ').toString('base64')}` }, {}],
      ['Basic that is not base64', { authorization: 'Basic !!!not base64!!!' }, {}],
      ['Basic with an empty id', { authorization: `Basic ${Buffer.from(':secret').toString('base64')}` }, {}],
      ['Basic for a public client', { authorization: basicAuth(publicClient.client_id, 'anything') }, {}],
      ['a huge client_id', {}, { client_id: 'c'.repeat(10_000) }],
      ['repeated client_id', {}, { client_id: confidential.clientId }],
    ];
    for (const endpoint of [h.urls.revocationEndpoint, h.urls.introspectionEndpoint]) {
      for (const [name, headers, body] of attempts) {
        const form = new URLSearchParams({ token: 'some-token', ...body });
        if (name === 'repeated client_id') form.append('client_id', publicClient.client_id);
        const res = await postForm(endpoint, form.toString(), headers);
        const label = `${endpoint.split('/').pop()} with ${name}`;
        expect([400, 401], `${label}: ${res.status}`).toContain(res.status);
        expect(((await res.json()) as Record<string, unknown>)['error'], label).toMatch(/^(invalid_client|invalid_request)$/);
      }
    }
    // A public client may revoke (RFC 7009 §2.1 allows it) but not introspect.
    expect((await postForm(h.urls.revocationEndpoint, { token: 'x', client_id: publicClient.client_id })).status).toBe(200);
    expect((await postForm(h.urls.introspectionEndpoint, { token: 'x', client_id: publicClient.client_id })).status).toBe(401);
  });

  // Bug: RFC 6749 §5.2 (which RFC 7009 §2.2.1 and RFC 7662 §2.3 adopt): a client that tried
  // Authorization: Basic gets 401 "and ... WWW-Authenticate ... matching the authentication
  // scheme used by the client". token-endpoint.ts sets it; revocation-endpoints.ts does not.
  it('answers failed Basic authentication at /revoke and /introspect with WWW-Authenticate: Basic', async () => {
    const c = await registerConfidential(h);
    for (const endpoint of [h.urls.revocationEndpoint, h.urls.introspectionEndpoint]) {
      const res = await postForm(endpoint, { token: 'x' }, { authorization: basicAuth(c.clientId, 'wrong') });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic /);
    }
  });

  it("never lets one client revoke or introspect another client's tokens", async () => {
    const victim = await obtainTokens(h, echo);
    const attacker = await registerConfidential(h);
    for (const token of [victim.access_token, victim.refresh_token]) {
      expect(await (await postForm(h.urls.introspectionEndpoint, { token }, { authorization: attacker.authorization })).json()).toEqual({ active: false });
      const revoked = await postForm(h.urls.revocationEndpoint, { token, token_type_hint: 'refresh_token' }, { authorization: attacker.authorization });
      expect(revoked.status).toBe(400);
    }
    expect((await mcpInitialize(echo, victim.access_token)).status).toBe(200);
    expect((await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: victim.refresh_token, client_id: victim.clientId })).status).toBe(200);
  });
});

describe('after all of the above', () => {
  it('still answers /health', async () => {
    await expectHealthy(h.urls.issuer);
  });
});
