import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signAccessToken } from '../runtime/auth/tokens/access-token.js';
import { startGatewayHarness, type GatewayHarness } from './helpers/gateway-harness.js';
import { CLIENT_REDIRECT, authorizeUrl, loginAndConsent, mcpInitialize, newPkce, obtainTokens, registerClient, tokenRequest } from './helpers/oauth-flow.js';
import { TestBrowser } from './helpers/test-browser.js';

const ON_REDIS = process.env['MCPGW_TEST_STORE'] === 'redis';
let h: GatewayHarness;
let echo: string;
let other: string;

beforeAll(async () => {
  h = await startGatewayHarness();
  echo = h.urls.resourceFor('echo');
  other = h.urls.resourceFor('other');
});
afterAll(async () => {
  await h?.close();
});

async function authorizeParams(overrides: Record<string, string | undefined> = {}) {
  const client = await registerClient(h);
  const pkce = newPkce();
  return {
    client,
    pkce,
    params: {
      response_type: 'code',
      client_id: client.client_id,
      redirect_uri: CLIENT_REDIRECT,
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
      state: 'xyz',
      resource: echo,
      ...overrides,
    },
  };
}

describe('protected resource', () => {
  it('answers 401 with a resource_metadata challenge and no error code when no token is sent', async () => {
    const res = await mcpInitialize(echo, undefined);
    expect(res.status).toBe(401);
    const challenge = res.headers.get('www-authenticate')!;
    expect(challenge).toBe(`Bearer resource_metadata="${h.urls.issuer}/.well-known/oauth-protected-resource/echo/mcp"`);
    expect(challenge).not.toContain('error=');
  });

  it('serves RFC 9728 metadata at the path-suffixed URL with resource equal to the endpoint', async () => {
    const res = await fetch(`${h.urls.issuer}/.well-known/oauth-protected-resource/echo/mcp`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body['resource']).toBe(echo);
    expect(body['authorization_servers']).toEqual([h.urls.issuer]);
  });

  it('refuses the root protected-resource document when several servers make it ambiguous', async () => {
    const res = await fetch(`${h.urls.issuer}/.well-known/oauth-protected-resource`);
    expect(res.status).toBe(404);
  });

  it('serves RFC 8414 metadata with S256 only and the exact issuer', async () => {
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const body = (await (await fetch(h.urls.issuer + path)).json()) as Record<string, unknown>;
      expect(body['issuer']).toBe(h.urls.issuer);
      expect(body['code_challenge_methods_supported']).toEqual(['S256']);
      expect(body['authorization_response_iss_parameter_supported']).toBe(true);
      expect(body['registration_endpoint']).toBe(`${h.urls.issuer}/register`);
    }
  });

  it('rejects a token whose aud is another server', async () => {
    const { access_token } = await obtainTokens(h, other);
    const res = await mcpInitialize(echo, access_token);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect((await mcpInitialize(other, access_token)).status).toBe(200);
  });

  it('rejects an expired token', async () => {
    const { token } = await signAccessToken(
      { sub: 'alice', login: 'alice', clientId: 'c', audience: echo },
      { keys: h.keys, issuer: h.urls.issuer, ttlMs: 60_000, now: Date.now() - 3_600_000 },
    );
    const res = await mcpInitialize(echo, token);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('rejects a tampered token and a malformed Authorization header', async () => {
    const { token } = await signAccessToken(
      { sub: 'alice', login: 'alice', clientId: 'c', audience: echo },
      { keys: h.keys, issuer: h.urls.issuer, ttlMs: 60_000, now: Date.now() },
    );
    const [header, payload, signature] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), sub: 'mallory', login: 'mallory' })).toString(
      'base64url',
    );
    expect((await mcpInitialize(echo, `${header}.${forged}.${signature}`)).status).toBe(401);
    expect((await mcpInitialize(echo, 'not-a-jwt')).status).toBe(401);
    const res = await mcpInitialize(echo, undefined, { authorization: 'Basic YWxpY2U6cHc=' });
    expect(res.status).toBe(400);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_request"');
  });

  it('rejects a token for a user who is not on the allowlist', async () => {
    const { token } = await signAccessToken(
      { sub: 'mallory', login: 'mallory', clientId: 'c', audience: echo },
      { keys: h.keys, issuer: h.urls.issuer, ttlMs: 60_000, now: Date.now() },
    );
    expect((await mcpInitialize(echo, token)).status).toBe(401);
  });
});

describe('authorization endpoint', () => {
  it('shows an error page and never redirects for an unknown client', async () => {
    const pkce = newPkce();
    const res = await fetch(
      authorizeUrl(h, {
        response_type: 'code',
        client_id: 'nope',
        redirect_uri: CLIENT_REDIRECT,
        code_challenge: pkce.challenge,
        code_challenge_method: 'S256',
      }),
      { redirect: 'manual' },
    );
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  });

  it('shows an error page and never redirects when the redirect URI does not match exactly', async () => {
    const { params } = await authorizeParams();
    for (const redirect of [`${CLIENT_REDIRECT}/extra`, CLIENT_REDIRECT.replace('127.0.0.1', 'localhost'), 'https://evil.example/callback']) {
      const res = await fetch(authorizeUrl(h, { ...params, redirect_uri: redirect }), { redirect: 'manual' });
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
    }
  });

  it('redirects with invalid_request and iss when PKCE is missing or plain', async () => {
    for (const overrides of [{ code_challenge: undefined }, { code_challenge_method: 'plain' }, { code_challenge_method: undefined }]) {
      const { params } = await authorizeParams(overrides);
      const res = await fetch(authorizeUrl(h, params), { redirect: 'manual' });
      expect(res.status).toBe(302);
      const to = new URL(res.headers.get('location')!);
      expect(to.href.startsWith(CLIENT_REDIRECT)).toBe(true);
      expect(to.searchParams.get('error')).toBe('invalid_request');
      expect(to.searchParams.get('iss')).toBe(h.urls.issuer);
      expect(to.searchParams.get('state')).toBe('xyz');
    }
  });

  it('redirects with invalid_target for a resource the gateway does not serve', async () => {
    const { params } = await authorizeParams({ resource: `${h.urls.issuer}/nope/mcp` });
    const to = new URL((await fetch(authorizeUrl(h, params), { redirect: 'manual' })).headers.get('location')!);
    expect(to.searchParams.get('error')).toBe('invalid_target');
  });

  it('denies a user who is not on the allowlist, with iss in the error response', async () => {
    const { params } = await authorizeParams();
    h.github.setCurrentUser('mallory');
    try {
      const result = await loginAndConsent(h, params);
      expect(result.redirectedTo?.searchParams.get('error')).toBe('access_denied');
      expect(result.redirectedTo?.searchParams.get('iss')).toBe(h.urls.issuer);
      expect(result.redirectedTo?.searchParams.get('code')).toBeNull();
    } finally {
      h.github.setCurrentUser('alice');
    }
  });

  it('returns access_denied when the user cancels at GitHub', async () => {
    const { params } = await authorizeParams();
    h.github.setCurrentUser(null);
    try {
      const result = await loginAndConsent(h, params);
      expect(result.redirectedTo?.searchParams.get('error')).toBe('access_denied');
    } finally {
      h.github.setCurrentUser('alice');
    }
  });

  it('refuses a replayed GitHub state at the callback', async () => {
    const { params } = await authorizeParams();
    const browser = new TestBrowser(CLIENT_REDIRECT);
    const first = await browser.open(authorizeUrl(h, params));
    const callback = first.hops.find((u) => u.startsWith(h.urls.callback))!;
    expect(callback).toBeDefined();
    // From the same browser (its login cookie), so that only the replay is wrong.
    const again = await fetch(callback, { redirect: 'manual', headers: { cookie: browser.cookieHeaderFor(new URL(callback).host) ?? '' } });
    expect(again.status).toBe(400);
    expect(await again.text()).toContain('Login expired');
    expect(again.headers.get('location')).toBeNull();
  });

  it('shows a CSRF-protected consent page and refuses a forged answer', async () => {
    const { params } = await authorizeParams();
    const browser = new TestBrowser(CLIENT_REDIRECT);
    const first = await browser.open(authorizeUrl(h, params));
    expect(first.page?.status).toBe(200);
    expect(first.page?.body).toContain('name="decision" value="approve"');
    expect(first.page?.headers.get('x-frame-options')).toBe('DENY');
    // Another browser (no consent cookie) posting the same form is refused.
    const stranger = new TestBrowser(CLIENT_REDIRECT);
    const forged = await stranger.submitForm(first.page!, { decision: 'approve' });
    expect(forged.page?.status).toBe(400);
    // The right browser with a wrong CSRF token is refused too.
    const wrongCsrf = await browser.submitForm(
      { ...first.page!, body: first.page!.body.replace(/name="csrf_token" value="[^"]+"/, 'name="csrf_token" value="forged"') },
      { decision: 'approve' },
    );
    expect(wrongCsrf.page?.status).toBe(403);
  });
});

describe('token endpoint', () => {
  async function codeFor(overrides: Record<string, string | undefined> = {}) {
    const { client, pkce, params } = await authorizeParams(overrides);
    const result = await loginAndConsent(h, params);
    const code = result.redirectedTo?.searchParams.get('code');
    expect(result.redirectedTo?.searchParams.get('iss')).toBe(h.urls.issuer);
    expect(result.redirectedTo?.searchParams.get('state')).toBe('xyz');
    return { client, pkce, code: code! };
  }

  it('exchanges a code once; a replayed code fails with invalid_grant', async () => {
    const { client, pkce, code } = await codeFor();
    const form = { grant_type: 'authorization_code', code, code_verifier: pkce.verifier, redirect_uri: CLIENT_REDIRECT, client_id: client.client_id };
    const first = await tokenRequest(h, form);
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe('no-store');
    expect(first.body['token_type']).toBe('Bearer');
    const replay = await tokenRequest(h, form);
    expect(replay.status).toBe(400);
    expect(replay.body['error']).toBe('invalid_grant');
  });

  it('refuses a wrong code_verifier, a wrong redirect_uri and another client', async () => {
    for (const mutate of [
      (f: Record<string, string>) => ({ ...f, code_verifier: newPkce().verifier }),
      (f: Record<string, string>) => ({ ...f, redirect_uri: 'http://127.0.0.1:1/other' }),
    ]) {
      const { client, pkce, code } = await codeFor();
      const res = await tokenRequest(
        h,
        mutate({ grant_type: 'authorization_code', code, code_verifier: pkce.verifier, redirect_uri: CLIENT_REDIRECT, client_id: client.client_id }),
      );
      expect(res.body['error']).toBe('invalid_grant');
    }
    const { pkce, code } = await codeFor();
    const intruder = await registerClient(h);
    const res = await tokenRequest(h, {
      grant_type: 'authorization_code',
      code,
      code_verifier: pkce.verifier,
      redirect_uri: CLIENT_REDIRECT,
      client_id: intruder.client_id,
    });
    expect(res.body['error']).toBe('invalid_grant');
  });

  // Moves the gateway's clock past a store TTL: only the embedded store follows that clock (Redis TTLs are proven in store-contract).
  it.skipIf(ON_REDIS)('lets codes expire after 60 seconds', async () => {
    const { client, pkce, code } = await codeFor();
    h.advance(61_000);
    const res = await tokenRequest(h, {
      grant_type: 'authorization_code',
      code,
      code_verifier: pkce.verifier,
      redirect_uri: CLIENT_REDIRECT,
      client_id: client.client_id,
    });
    expect(res.body['error']).toBe('invalid_grant');
  });

  it('rotates refresh tokens: the new one works, the old one is refused after the grace window', async () => {
    const tokens = await obtainTokens(h, echo);
    const first = await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: tokens.clientId });
    expect(first.status).toBe(200);
    expect(first.body['refresh_token']).not.toBe(tokens.refresh_token);
    expect((await mcpInitialize(echo, String(first.body['access_token']))).status).toBe(200);
    h.advance(31_000);
    const reused = await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: tokens.clientId });
    expect(reused.body['error']).toBe('invalid_grant');
  });

  it('answers client mistakes with RFC 6749 errors, never 500', async () => {
    const json = await fetch(h.urls.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"grant_type":"authorization_code"}',
    });
    expect(json.status).toBe(400);
    expect(((await json.json()) as Record<string, unknown>)['error']).toBe('invalid_request');
    expect((await tokenRequest(h, { grant_type: 'password', client_id: 'x' })).body['error']).toBe('unsupported_grant_type');
    expect((await tokenRequest(h, { grant_type: 'authorization_code', client_id: 'unknown', code: 'x', code_verifier: 'y' })).status).toBe(401);
    const repeated = await fetch(h.urls.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=refresh_token&grant_type=authorization_code',
    });
    expect(repeated.status).toBe(400);
    const huge = await fetch(h.urls.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=${'a'.repeat(100_000)}`,
    });
    expect(huge.status).toBe(413);
  });
});

describe('registration', () => {
  it('refuses dangerous or malformed redirect URIs', async () => {
    for (const uri of ['javascript:alert(1)', 'data:text/html,hi', 'http://evil.example/cb', 'https://ok.example/cb#frag', 'not a uri']) {
      const res = await fetch(h.urls.registrationEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ redirect_uris: [uri] }),
      });
      expect(res.status, uri).toBe(400);
      expect(((await res.json()) as Record<string, unknown>)['error']).toBe('invalid_redirect_uri');
    }
  });

  it('accepts the callbacks real clients use', async () => {
    const uris = [
      'https://claude.ai/api/mcp/auth_callback',
      'https://chatgpt.com/connector/oauth/abc123',
      'http://localhost:6274/oauth/callback',
      'cursor://anysphere.cursor-mcp/oauth/callback',
    ];
    const res = await fetch(h.urls.registrationEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: uris, client_name: 'x', logo_uri: null }),
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.values(body)).not.toContain(null);
    expect(Number.isInteger(body['client_id_issued_at'])).toBe(true);
    expect(body['client_secret']).toBeTypeOf('string');
  });

  it('answers malformed, oversized and wrongly typed bodies with 4xx', async () => {
    const post = (body: string, type = 'application/json') => fetch(h.urls.registrationEndpoint, { method: 'POST', headers: { 'content-type': type }, body });
    expect((await post('{not json')).status).toBe(400);
    expect((await post('[]')).status).toBe(400);
    expect((await post('{"redirect_uris": "https://x.example"}')).status).toBe(400);
    expect((await post('redirect_uris=x', 'application/x-www-form-urlencoded')).status).toBe(400);
    expect((await post(JSON.stringify({ redirect_uris: ['https://x.example/cb'], client_name: 'a'.repeat(100_000) }))).status).toBe(413);
  });
});
