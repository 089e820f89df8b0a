import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomToken, sha256Base64url } from '../runtime/auth/crypto-helpers.js';
import { createOidcUpstream, type OidcUpstream, type OidcUpstreamOptions } from '../runtime/auth/upstream/oidc-upstream.js';
import { GatewayError } from '../runtime/errors.js';
import { startOidcProvider, type OidcTestAccount, type TestOidcProvider } from './helpers/oidc-provider.js';

const CALLBACK = 'http://127.0.0.1:9/oidc/callback';
const SECRET = 'gateway-secret-0123456789';
const ACCOUNTS: OidcTestAccount[] = [
  { sub: 'alice-0001', email: 'alice@example.com', email_verified: true, preferred_username: 'alice', name: 'Alice Liddell' },
  { sub: 'bob-0002', email: 'bob@example.com', email_verified: false, preferred_username: 'bob' },
];
const CLIENTS = [
  { client_id: 'gateway', client_secret: SECRET, redirect_uris: [CALLBACK] },
  { client_id: 'other-app', client_secret: 'other-secret-0123456789', redirect_uris: [CALLBACK] },
  { client_id: 'gateway-public', redirect_uris: [CALLBACK] },
  { client_id: 'gateway-post', client_secret: SECRET, redirect_uris: [CALLBACK], token_endpoint_auth_method: 'client_secret_post' as const },
];

async function rejection(promise: Promise<unknown>): Promise<GatewayError> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GatewayError);
  return err as GatewayError;
}

/** The gateway's half of a login: authorize URL with PKCE and nonce, the user at the provider, the callback. */
async function loginAt(op: TestOidcProvider, upstream: OidcUpstream, account = 'alice-0001') {
  const verifier = randomToken();
  const nonce = randomToken(16);
  const state = randomToken(16);
  const url = await upstream.authorizeUrl({ state, redirectUri: CALLBACK, codeChallenge: sha256Base64url(verifier), nonce });
  const back = await op.login(url, account);
  expect(back.searchParams.get('state')).toBe(state);
  return { code: await upstream.readCallback(back.searchParams), verifier, nonce, back, url: new URL(url) };
}

/** A network seam: passes everything through but lets a test rewrite the token endpoint's id_token. */
function rewritingIdToken(rewrite: (idToken: string) => Promise<string>): typeof fetch {
  return async (input, init) => {
    const res = await fetch(input, init);
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (new URL(url).pathname !== '/token' || res.status !== 200) return res;
    const body = (await res.json()) as { id_token: string };
    body.id_token = await rewrite(body.id_token);
    return Response.json(body);
  };
}

async function startTinyServer(handler: RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe('OpenID Connect upstream against a real OpenID provider', () => {
  let op: TestOidcProvider;
  const make = (options: Partial<OidcUpstreamOptions> = {}): OidcUpstream =>
    createOidcUpstream({ issuer: op.issuer, clientId: 'gateway', clientSecret: SECRET, ...options });

  beforeAll(async () => {
    op = await startOidcProvider({ clients: CLIENTS, accounts: ACCOUNTS, claimsInIdToken: true });
  });
  afterAll(async () => {
    await op.close();
  });

  it('discovers the provider and runs the code flow with PKCE S256 and a nonce, returning the id_token claims', async () => {
    const upstream = make();
    const { code, verifier, nonce, back, url } = await loginAt(op, upstream);
    expect(`${url.origin}${url.pathname}`).toBe(`${op.issuer}/auth`);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      response_type: 'code',
      client_id: 'gateway',
      redirect_uri: CALLBACK,
      scope: 'openid profile email',
      code_challenge_method: 'S256',
      nonce,
    });
    expect(url.search).not.toContain(SECRET);
    expect(back.searchParams.get('iss')).toBe(op.issuer);

    const result = await upstream.exchangeCode({ code, redirectUri: CALLBACK, codeVerifier: verifier, nonce });
    expect(result.claims).toEqual({
      sub: 'alice-0001',
      email: 'alice@example.com',
      email_verified: true,
      preferred_username: 'alice',
      name: 'Alice Liddell',
    });
    expect(decodeJwt(result.idToken)).toMatchObject({ iss: op.issuer, aud: 'gateway', sub: 'alice-0001', nonce });
    expect(result.accessToken.length).toBeGreaterThan(10);

    const tokenCall = op.requests.filter((r) => r.url === '/token').at(-1);
    const basic = Buffer.from(`gateway:${SECRET}`).toString('base64');
    expect(tokenCall?.headers['authorization']).toBe(`Basic ${basic}`);
    expect(op.requests.some((r) => r.url.startsWith('/me'))).toBe(false);
  });

  it('passes email_verified false through, so the policy can ignore an unverified address', async () => {
    const upstream = make();
    const { code, verifier, nonce } = await loginAt(op, upstream, 'bob-0002');
    const { claims } = await upstream.exchangeCode({ code, redirectUri: CALLBACK, codeVerifier: verifier, nonce });
    expect(claims).toMatchObject({ sub: 'bob-0002', email: 'bob@example.com', email_verified: false });
  });

  it('fetches the discovery document once and shares it', async () => {
    const upstream = make();
    const count = (): number => op.requests.filter((r) => r.url === '/.well-known/openid-configuration').length;
    const before = count();
    await Promise.all([upstream.discover(), upstream.discover()]);
    await upstream.authorizeUrl({ state: 's', redirectUri: CALLBACK, codeChallenge: sha256Base64url(randomToken()), nonce: 'n' });
    expect(count() - before).toBe(1);
  });

  it('tries discovery again after a failure instead of caching it', async () => {
    let calls = 0;
    const flaky: typeof fetch = (input, init) => (++calls === 1 ? Promise.reject(new TypeError('fetch failed')) : fetch(input, init));
    const upstream = make({ fetch: flaky });
    expect((await rejection(upstream.discover())).code).toBe('ERR_UPSTREAM_UNREACHABLE');
    await expect(upstream.discover()).resolves.toBeUndefined();
  });

  it('logs in a public client with PKCE alone, sending no client authentication', async () => {
    const upstream = createOidcUpstream({ issuer: op.issuer, clientId: 'gateway-public' });
    const { code, verifier, nonce } = await loginAt(op, upstream);
    const { claims } = await upstream.exchangeCode({ code, redirectUri: CALLBACK, codeVerifier: verifier, nonce });
    expect(claims.sub).toBe('alice-0001');
    expect(op.requests.filter((r) => r.url === '/token').at(-1)?.headers['authorization']).toBeUndefined();
  });

  it('sends the secret in the body when told the client is registered for client_secret_post', async () => {
    const post = createOidcUpstream({ issuer: op.issuer, clientId: 'gateway-post', clientSecret: SECRET, tokenEndpointAuthMethod: 'client_secret_post' });
    const { code, verifier, nonce } = await loginAt(op, post);
    await expect(post.exchangeCode({ code, redirectUri: CALLBACK, codeVerifier: verifier, nonce })).resolves.toMatchObject({ claims: { sub: 'alice-0001' } });
    // Accepted without an Authorization header: the secret went in the form body.
    expect(op.requests.filter((r) => r.url === '/token').at(-1)?.headers['authorization']).toBeUndefined();
  });

  it('reports a wrong client secret as ERR_UPSTREAM_DENIED without the secret', async () => {
    const wrong = 'wrong-secret-value-987654321';
    const upstream = make({ clientSecret: wrong });
    const { code, verifier, nonce } = await loginAt(op, upstream);
    const err = await rejection(upstream.exchangeCode({ code, redirectUri: CALLBACK, codeVerifier: verifier, nonce }));
    expect(err.code).toBe('ERR_UPSTREAM_DENIED');
    const said = `${err.message} ${err.hint} ${err.stack}`;
    for (const leak of [wrong, code, verifier, Buffer.from(`gateway:${wrong}`).toString('base64')]) expect(said).not.toContain(leak);
  });

  it('refuses a code redeemed with the wrong PKCE verifier', async () => {
    const upstream = make();
    const { code, nonce } = await loginAt(op, upstream);
    const err = await rejection(upstream.exchangeCode({ code, redirectUri: CALLBACK, codeVerifier: randomToken(), nonce }));
    expect(err.code).toBe('ERR_UPSTREAM_DENIED');
  });

  it('refuses an id_token whose nonce is not this login’s', async () => {
    const upstream = make();
    const { code, verifier } = await loginAt(op, upstream);
    const err = await rejection(upstream.exchangeCode({ code, redirectUri: CALLBACK, codeVerifier: verifier, nonce: randomToken(16) }));
    expect(err.code).toBe('ERR_UPSTREAM_BAD_RESPONSE');
    expect(err.message).toContain('nonce');
  });

  it('refuses an id_token re-signed with another key under the provider’s kid', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const forge = async (real: string): Promise<string> =>
      new SignJWT({ ...decodeJwt(real), email: 'admin@example.com' })
        .setProtectedHeader({ alg: 'RS256', kid: decodeProtectedHeader(real).kid ?? '' })
        .sign(privateKey);
    const upstream = make({ fetch: rewritingIdToken(forge) });
    const { code, verifier, nonce } = await loginAt(op, upstream);
    const err = await rejection(upstream.exchangeCode({ code, redirectUri: CALLBACK, codeVerifier: verifier, nonce }));
    expect(err.code).toBe('ERR_UPSTREAM_BAD_RESPONSE');
    expect((err.cause as { code?: string }).code).toBe('ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  });

  it('refuses an id_token whose payload was edited after signing', async () => {
    const tamper = async (real: string): Promise<string> => {
      const [header, , signature] = real.split('.');
      const payload = Buffer.from(JSON.stringify({ ...decodeJwt(real), sub: 'bob-0002' })).toString('base64url');
      return `${header}.${payload}.${signature}`;
    };
    const upstream = make({ fetch: rewritingIdToken(tamper) });
    const { code, verifier, nonce } = await loginAt(op, upstream);
    expect((await rejection(upstream.exchangeCode({ code, redirectUri: CALLBACK, codeVerifier: verifier, nonce }))).code).toBe('ERR_UPSTREAM_BAD_RESPONSE');
  });

  it.each([
    [
      'HS256 keyed with the client secret',
      async (p: JWTPayload) => new SignJWT(p).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET)),
      'ERR_JOSE_ALG_NOT_ALLOWED',
    ],
    // Refused before jose sees it: an id_token must have a signature.
    [
      'alg none',
      async (p: JWTPayload) => `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(p)).toString('base64url')}.`,
      undefined,
    ],
  ])('refuses an id_token signed with %s', async (_name, sign, joseCode) => {
    const upstream = make({ fetch: rewritingIdToken(async (real) => sign(decodeJwt(real))) });
    const { code, verifier, nonce } = await loginAt(op, upstream);
    const err = await rejection(upstream.exchangeCode({ code, redirectUri: CALLBACK, codeVerifier: verifier, nonce }));
    expect(err.code).toBe('ERR_UPSTREAM_BAD_RESPONSE');
    expect((err.cause as { code?: string } | undefined)?.code).toBe(joseCode);
  });

  it('refuses an id_token the provider issued to another client (token substitution)', async () => {
    const other = createOidcUpstream({ issuer: op.issuer, clientId: 'other-app', clientSecret: 'other-secret-0123456789' });
    const theirs = await loginAt(op, other);
    const { idToken: foreign } = await other.exchangeCode({ code: theirs.code, redirectUri: CALLBACK, codeVerifier: theirs.verifier, nonce: theirs.nonce });

    const upstream = make({ fetch: rewritingIdToken(async () => foreign) });
    const ours = await loginAt(op, upstream);
    // Even with the nonce the attacker saw, the audience gives it away.
    const err = await rejection(upstream.exchangeCode({ code: ours.code, redirectUri: CALLBACK, codeVerifier: ours.verifier, nonce: theirs.nonce }));
    expect(err.code).toBe('ERR_UPSTREAM_BAD_RESPONSE');
    expect((err.cause as { code?: string }).code).toBe('ERR_JWT_CLAIM_VALIDATION_FAILED');
  });

  it('refuses an expired id_token by the clock it is given', async () => {
    const upstream = make({ now: () => Date.now() + 2 * 3600_000 });
    const { code, verifier, nonce } = await loginAt(op, upstream);
    expect((await rejection(upstream.exchangeCode({ code, redirectUri: CALLBACK, codeVerifier: verifier, nonce }))).code).toBe('ERR_UPSTREAM_BAD_RESPONSE');
  });

  it('checks the authorization response: RFC 9207 iss, and the provider’s error', async () => {
    const upstream = make();
    const { back } = await loginAt(op, upstream);
    const forged = new URLSearchParams(back.searchParams);
    forged.set('iss', 'https://evil.example');
    expect((await rejection(upstream.readCallback(forged))).code).toBe('ERR_UPSTREAM_BAD_RESPONSE');
    forged.delete('iss');
    expect((await rejection(upstream.readCallback(forged))).code).toBe('ERR_UPSTREAM_BAD_RESPONSE');

    const denied = new URLSearchParams({ error: 'access_denied', error_description: 'End-User aborted interaction', state: 's', iss: op.issuer });
    const err = await rejection(upstream.readCallback(denied));
    expect(err.code).toBe('ERR_UPSTREAM_DENIED');
    expect(err.message).toContain('access_denied');
  });

  it('refuses discovery when the configured issuer differs from the document’s, even by a trailing slash', async () => {
    const slashed = make({ issuer: `${op.issuer}/` });
    const err = await rejection(slashed.discover());
    expect(err.code).toBe('ERR_UPSTREAM_BAD_RESPONSE');
    expect(err.hint).toContain(`"${op.issuer}"`);
    await expect(slashed.authorizeUrl({ state: 's', redirectUri: CALLBACK, codeChallenge: sha256Base64url(randomToken()), nonce: 'n' })).rejects.toBeInstanceOf(
      GatewayError,
    );
  });

  it('refuses a discovery document served from another origin than the issuer it names', async () => {
    const document = await (await fetch(`${op.issuer}/.well-known/openid-configuration`)).text();
    const impostor = await startTinyServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(document));
    try {
      expect((await rejection(make({ issuer: impostor.url }).discover())).code).toBe('ERR_UPSTREAM_BAD_RESPONSE');
    } finally {
      await impostor.close();
    }
  });
});

describe('OpenID Connect upstream when the id_token carries only sub', () => {
  let op: TestOidcProvider;
  beforeAll(async () => {
    op = await startOidcProvider({ clients: CLIENTS, accounts: ACCOUNTS });
  });
  afterAll(async () => {
    await op.close();
  });

  it('reads profile and email from userinfo with the access token', async () => {
    const upstream = createOidcUpstream({ issuer: op.issuer, clientId: 'gateway', clientSecret: SECRET });
    const { code, verifier, nonce } = await loginAt(op, upstream);
    const result = await upstream.exchangeCode({ code, redirectUri: CALLBACK, codeVerifier: verifier, nonce });
    expect(decodeJwt(result.idToken)['email']).toBeUndefined();
    expect(result.claims).toEqual({ sub: 'alice-0001', email: 'alice@example.com', email_verified: true, preferred_username: 'alice', name: 'Alice Liddell' });
    const userinfo = op.requests.filter((r) => r.url.startsWith('/me')).at(-1);
    expect(userinfo?.headers['authorization']).toBe(`Bearer ${result.accessToken}`);
  });

  it('refuses userinfo that describes another user than the id_token', async () => {
    const swapping: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      if (new URL(url).pathname !== '/me') return res;
      return Response.json({ ...((await res.json()) as object), sub: 'bob-0002', email: 'bob@example.com' });
    };
    const upstream = createOidcUpstream({ issuer: op.issuer, clientId: 'gateway', clientSecret: SECRET, fetch: swapping });
    const { code, verifier, nonce } = await loginAt(op, upstream);
    expect((await rejection(upstream.exchangeCode({ code, redirectUri: CALLBACK, codeVerifier: verifier, nonce }))).code).toBe('ERR_UPSTREAM_BAD_RESPONSE');
  });
});

describe('OpenID Connect upstream when the provider is unusable or odd', () => {
  it('reports an issuer nobody listens on as ERR_UPSTREAM_UNREACHABLE quickly', async () => {
    const gone = await startTinyServer((_req, res) => res.end());
    await gone.close();
    const upstream = createOidcUpstream({ issuer: gone.url, clientId: 'gateway', clientSecret: SECRET });
    const started = Date.now();
    const err = await rejection(upstream.discover());
    expect(err.code).toBe('ERR_UPSTREAM_UNREACHABLE');
    expect(err.hint).toContain(gone.url);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('gives up on a provider that never answers after timeoutMs', async () => {
    const silent = await startTinyServer(() => undefined);
    try {
      const upstream = createOidcUpstream({ issuer: silent.url, clientId: 'gateway', timeoutMs: 200 });
      expect((await rejection(upstream.discover())).code).toBe('ERR_UPSTREAM_UNREACHABLE');
    } finally {
      await silent.close();
    }
  });

  /** Discovery documents the real provider would never serve, via the fetch seam. */
  const serving =
    (doc: Record<string, unknown>): typeof fetch =>
    async () =>
      Response.json(doc);
  const DOC = {
    issuer: 'https://idp.example',
    authorization_endpoint: 'https://idp.example/authorize',
    token_endpoint: 'https://idp.example/token',
    jwks_uri: 'https://idp.example/jwks',
    response_types_supported: ['code', 'id_token'],
    id_token_signing_alg_values_supported: ['RS256'],
  };
  const discoverWith = (doc: Record<string, unknown>, options: Partial<OidcUpstreamOptions> = {}): Promise<void> =>
    createOidcUpstream({ issuer: 'https://idp.example', clientId: 'gateway', clientSecret: SECRET, fetch: serving(doc), ...options }).discover();

  it('accepts a minimal valid document', async () => {
    await expect(discoverWith(DOC)).resolves.toBeUndefined();
  });

  it.each([
    ['an http token endpoint under an https issuer', { token_endpoint: 'http://idp.example/token' }],
    ['no S256 among the PKCE methods', { code_challenge_methods_supported: ['plain'] }],
    ['only none and HS256 for id_tokens', { id_token_signing_alg_values_supported: ['none', 'HS256'] }],
    ['no authorization code flow', { response_types_supported: ['id_token'] }],
    ['a missing jwks_uri', { jwks_uri: undefined }],
    ['no secret-based client authentication', { token_endpoint_auth_methods_supported: ['private_key_jwt'] }],
  ])('refuses a document with %s', async (_name, change) => {
    expect((await rejection(discoverWith({ ...DOC, ...change }))).code).toBe('ERR_UPSTREAM_BAD_RESPONSE');
  });

  it('uses client_secret_post when that is all the provider offers', async () => {
    const doc = { ...DOC, token_endpoint_auth_methods_supported: ['client_secret_post'] };
    let body = '';
    let authorization: string | null = 'unset';
    const fake: typeof fetch = async (input, init) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      if (url.endsWith('/token')) {
        body = String(init?.body);
        authorization = new Headers(init?.headers).get('authorization');
        return Response.json({ error: 'invalid_grant' }, { status: 400 });
      }
      return Response.json(doc);
    };
    const upstream = createOidcUpstream({ issuer: 'https://idp.example', clientId: 'gateway', clientSecret: SECRET, fetch: fake });
    const err = await rejection(upstream.exchangeCode({ code: 'c0de', redirectUri: CALLBACK, codeVerifier: randomToken(), nonce: 'n' }));
    expect(err.code).toBe('ERR_UPSTREAM_DENIED');
    expect(authorization).toBeNull();
    expect(new URLSearchParams(body).get('client_secret')).toBe(SECRET);
    expect(new URLSearchParams(body).get('client_id')).toBe('gateway');
  });

  describe('id_tokens minted by the test (claims a real provider would not issue)', () => {
    const NONCE = 'nonce-0123456789';
    let mint: (payload: JWTPayload) => Promise<string>;
    let jwk: Record<string, unknown>;
    beforeAll(async () => {
      const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
      jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
      mint = (payload) => new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuedAt().setExpirationTime('5m').sign(privateKey);
    });
    const exchangeWith = async (payload: JWTPayload) => {
      const idToken = await mint({ iss: 'https://idp.example', sub: 'user-1', aud: 'gateway', nonce: NONCE, ...payload });
      const fake: typeof fetch = async (input) => {
        const path = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url).pathname;
        if (path === '/jwks') return Response.json({ keys: [jwk] });
        if (path === '/token') return Response.json({ access_token: 'at-0123456789', token_type: 'Bearer', id_token: idToken });
        return Response.json({ ...DOC, id_token_signing_alg_values_supported: ['ES256'] });
      };
      const upstream = createOidcUpstream({ issuer: 'https://idp.example', clientId: 'gateway', clientSecret: SECRET, fetch: fake });
      return upstream.exchangeCode({ code: 'c0de', redirectUri: CALLBACK, codeVerifier: randomToken(), nonce: NONCE });
    };

    it('accepts several audiences only with azp naming this client (OIDC Core 3.1.3.7)', async () => {
      await expect(exchangeWith({ aud: ['gateway', 'api'], azp: 'gateway' })).resolves.toMatchObject({ claims: { sub: 'user-1' } });
      expect((await rejection(exchangeWith({ aud: ['gateway', 'api'] }))).code).toBe('ERR_UPSTREAM_BAD_RESPONSE');
      expect((await rejection(exchangeWith({ aud: ['gateway', 'api'], azp: 'api' }))).code).toBe('ERR_UPSTREAM_BAD_RESPONSE');
      expect((await rejection(exchangeWith({ azp: 'api' }))).code).toBe('ERR_UPSTREAM_BAD_RESPONSE');
    });

    it('refuses an id_token from another issuer or without sub', async () => {
      expect((await rejection(exchangeWith({ iss: 'https://evil.example' }))).code).toBe('ERR_UPSTREAM_BAD_RESPONSE');
      expect((await rejection(exchangeWith({ sub: undefined } as unknown as JWTPayload))).code).toBe('ERR_UPSTREAM_BAD_RESPONSE');
    });

    it('passes on only claims of the type the spec gives them: email_verified "true" is not true', async () => {
      const { claims } = await exchangeWith({ email: 'u@example.com', email_verified: 'true', name: 42, preferred_username: 'u' });
      expect(claims).toEqual({ sub: 'user-1', email: 'u@example.com', preferred_username: 'u' });
    });
  });

  it('treats a missing openid scope or an empty secret as a programming error', () => {
    expect(() => createOidcUpstream({ issuer: 'https://idp.example', clientId: 'g', scopes: ['profile'] })).toThrow(TypeError);
    expect(() => createOidcUpstream({ issuer: 'https://idp.example', clientId: 'g', clientSecret: '' })).toThrow(TypeError);
    expect(() => createOidcUpstream({ issuer: 'https://idp.example/?x=1', clientId: 'g' })).toThrow(TypeError);
  });
});
